// Never silent about another tool's history: a database whose history is in a table of another tool than the one in
// use would have every migration run a second time (and fail on `type "X" already exists`, blaming a file that is
// fine). It stops the start instead, naming the table, the tool, and how to go on.
import { ErrorCodes, SupervisorError } from '../../core/errors.js';
import type { Queryable } from '../../database/connection.js';
import type { MigrationKind } from '../migration.js';
import { qualified } from './tool-history.js';

interface KnownHistory {
  /** The table as found (schema-qualified where the tool fixes its schema). */
  readonly table: string;
  readonly label: string;
  readonly tool: string;
  /** The kind of folder that keeps this table as its history. */
  readonly kinds: readonly MigrationKind[];
  /** Where the tool keeps its migrations, for the hint. */
  readonly layout: string;
}

/** Every history table the supervisor knows, under the names the tools give them by default. */
export const KNOWN_HISTORIES: readonly KnownHistory[] = [
  { table: qualified('_prisma_migrations'), label: '_prisma_migrations', tool: 'Prisma', kinds: ['prisma'], layout: 'prisma/migrations (found from prisma/schema.prisma)' },
  { table: qualified('knex_migrations'), label: 'knex_migrations', tool: 'knex', kinds: ['knex'], layout: "the knexfile's migrations.directory" },
  { table: qualified('pgmigrations', 'public'), label: 'pgmigrations', tool: 'node-pg-migrate', kinds: ['node-pg-migrate'], layout: 'migrations/ (node-pg-migrate in package.json)' },
  { table: qualified('__drizzle_migrations', 'drizzle'), label: 'drizzle.__drizzle_migrations', tool: 'drizzle-kit', kinds: ['drizzle'], layout: "drizzle.config's out folder" },
  { table: qualified('SequelizeMeta'), label: 'SequelizeMeta', tool: 'sequelize-cli', kinds: ['sequelize'], layout: "migrations/ (or .sequelizerc's migrations-path)" },
  { table: qualified('schema_migrations'), label: 'schema_migrations', tool: 'health-gate (SQL files or JS/TS modules)', kinds: ['sql', 'module'], layout: 'MIGRATIONS_DIR' },
];

/** The known history tables other than the one `kind` keeps that hold at least one row, with their row counts. */
export async function findForeignHistories(client: Queryable, kind: MigrationKind): Promise<{ history: KnownHistory; rows: number }[]> {
  const candidates = KNOWN_HISTORIES.filter((history) => !history.kinds.includes(kind));
  const { rows } = await client.query<{ name: string }>(
    'SELECT t AS name FROM unnest($1::text[]) AS t WHERE to_regclass(t) IS NOT NULL',
    [candidates.map((history) => history.table)],
  );
  const found: { history: KnownHistory; rows: number }[] = [];
  for (const { name: table } of rows) {
    const history = candidates.find((candidate) => candidate.table === table)!;
    // schema_migrations is also the name other tools (dbmate, golang-migrate, Rails) use: only ours has a checksum.
    if (history.label === 'schema_migrations') {
      const { rows: columns } = await client.query("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = 'checksum'", [table]);
      if (columns.length === 0) continue;
    }
    const count = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
    const n = Number(count.rows[0]?.n ?? 0);
    if (n > 0) found.push({ history, rows: n });
  }
  return found;
}

export interface ForeignHistoryOptions {
  /** The migrations in use: their folder, kind and history table, for the message. */
  readonly dir: string;
  readonly kind: MigrationKind;
  readonly historyLabel: string;
  /** How many rows the history in use holds: a database this supervisor already migrated keeps a leftover table without a word. */
  readonly appliedCount: number;
  /** Tables whose history is adopted another way (`SequelizeMeta` with a sequelize-map.json). */
  readonly adopted?: readonly string[];
}

/** Throws SUP_ERR_FOREIGN_HISTORY when the history in use is empty and another tool's history table holds rows. */
export async function refuseForeignHistory(client: Queryable, options: ForeignHistoryOptions): Promise<void> {
  if (options.appliedCount > 0) return;
  const found = (await findForeignHistories(client, options.kind)).filter(({ history }) => !options.adopted?.includes(history.label));
  const [first] = found;
  if (!first) return;
  const { history, rows } = first;
  throw new SupervisorError(
    ErrorCodes.FOREIGN_HISTORY,
    `This database was migrated by ${history.tool}: its history table ${history.label} holds ${rows} row${rows === 1 ? '' : 's'}, ` +
      `but the migrations in use (${options.dir}) keep their history in ${options.historyLabel}, which is empty. ` +
      'Running them would apply every migration a second time; nothing was run.',
    {
      hint:
        `To keep ${history.tool}'s history, run its migrations: unset MIGRATIONS_DIR so that ${history.layout} is found, or set MIGRATIONS_DIR to that folder. ` +
        `To replace ${history.tool} with the migrations in ${options.dir}, record what it already applied with ` +
        "`health-gate migrate baseline --to <last migration it covers>` (see health-gate's docs/migrate-cli.md, \"Switching from another tool\").",
    },
  );
}
