// node-pg-migrate's history, `pgmigrations` (id, name without extension, run_on), created and written as
// node-pg-migrate does (in `public`, or under its `-t` table name); its migrations are run by the project's own
// node-pg-migrate (never bundled), one at a time, each in one transaction with its row, under the supervisor's lock.
import type { Logger } from 'pino';
import type { Queryable } from '../../database/connection.js';
import type { HistoryLocation, MigrationFile } from '../migration.js';
import type { AppliedMigration } from '../migration.js';
import { type ToolRunner, importProjectModule } from './project-module.js';
import { type ToolHistory, qualified, tableExists } from './tool-history.js';

function locationOf(files: readonly MigrationFile[]): { name: string; schema: string; table: string } {
  const first = files[0];
  const history: HistoryLocation | undefined = first && 'history' in first ? first.history : undefined;
  const name = history?.table ?? 'pgmigrations';
  const schema = history?.schema ?? 'public';
  return { name, schema, table: qualified(name, schema) };
}

/** `pgmigrations` as the history. */
export const nodePgMigrateHistory: ToolHistory = {
  tool: 'node-pg-migrate',
  label: 'pgmigrations',
  async ensure(client, files) {
    await client.query(`CREATE TABLE IF NOT EXISTS ${locationOf(files).table} (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL)`);
  },
  async read(client, files) {
    const { table } = locationOf(files);
    if (!(await tableExists(client, table))) return [];
    const { rows } = await client.query<{ name: string; run_on: Date }>(`SELECT name, run_on FROM ${table} ORDER BY run_on, id`);
    // node-pg-migrate keeps no checksum: a changed migration is not detected, as with node-pg-migrate itself.
    return rows.map((row): AppliedMigration => ({ name: row.name, checksum: undefined, appliedAt: row.run_on, durationMs: undefined }));
  },
  async record(client, files) {
    for (const file of files) await client.query(`INSERT INTO ${locationOf(files).table} (name, run_on) VALUES ($1, NOW())`, [file.name]);
  },
  async remove(client, file) {
    await client.query(`DELETE FROM ${locationOf([file]).table} WHERE name = $1`, [file.name]);
  },
};

export interface NodePgMigrateRunOptions {
  readonly projectDir: string;
  readonly migrationsDir: string;
  /** The migrating connection: node-pg-migrate runs on it, inside the supervisor's lock (its own lock is not taken). */
  readonly client: Queryable;
  readonly files: readonly MigrationFile[];
  readonly logger: Logger;
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
}

type Runner = (options: Record<string, unknown>) => Promise<{ name: string }[]>;

/** Runs one migration at a time with node-pg-migrate's own runner, in one transaction with its `pgmigrations` row. */
export async function openNodePgMigrateRunner(options: NodePgMigrateRunOptions): Promise<ToolRunner> {
  const module = await importProjectModule('node-pg-migrate', options.projectDir, options.migrationsDir, 'node-pg-migrate');
  const runner = (module.runner ?? (module.default as Record<string, unknown> | undefined)?.runner) as Runner;
  const { name: migrationsTable, schema: migrationsSchema } = locationOf(options.files);
  const log = options.logger.child({ tool: 'node-pg-migrate' });
  const logger = { debug: () => {}, info: (msg: string) => log.debug(msg), warn: (msg: string) => log.warn(msg), error: (msg: string) => log.error(msg) };
  return {
    async run(file, direction) {
      if (!file.transactional) {
        options.logger.warn(
          { event: 'migration_no_transaction', migration: file.name },
          `${file.name} calls pgm.noTransaction(): it runs outside a transaction, and if it fails halfway, what it did stays`,
        );
      }
      // For the session (node-pg-migrate opens the transaction), put back after.
      await options.client.query("SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)", [
        String(options.lockTimeoutMs),
        String(options.statementTimeoutMs),
      ]);
      // singleTransaction: node-pg-migrate opens the transaction around the migration and its row, and rolls it back on failure.
      const done = await runner({
        dbClient: options.client,
        dir: options.migrationsDir,
        migrationsTable,
        migrationsSchema,
        direction,
        file: file.name,
        count: 1,
        noLock: true,
        checkOrder: false,
        singleTransaction: true,
        logger,
      }).finally(() => options.client.query('RESET lock_timeout; RESET statement_timeout').catch(() => {}));
      if (!done.some((migration) => migration.name === file.name)) throw new Error(`node-pg-migrate did not run ${file.name}`);
    },
    async close() {},
  };
}
