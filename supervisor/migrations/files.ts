// Reads the migrations folder: SQL files (`-- migrate:up/down` sections, `-- migrate:no-transaction`), JS/TS modules
// (umzug style), the migrations of sequelize-cli, knex or node-pg-migrate, or the SQL of Prisma or drizzle-kit (see
// formats/), one kind per folder; each with a checksum, in name order.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import { type MigrationFile, type SqlMigration, checksumOf } from './migration.js';
import { SCRIPT_EXTENSION, classifyScripts } from './script-files.js';
import { findProjectMigrations, isDrizzleFolder, isPrismaFolder } from '../core/project-tools.js';
import { readPrismaMigrations } from './formats/prisma.js';
import { readDrizzleMigrations } from './formats/drizzle.js';

/**
 * `<number>_<name>.sql` or `<number>-<name>.sql` (`0001_create_messages.sql`, `20240101120000-create-messages.sql`): files run in
 * name order (so numbers need one width), the name without `.sql` keys the history.
 */
export const MIGRATION_FILE_NAME = /^(\d+)[_-]([A-Za-z0-9_.-]+)\.sql$/;
const MARKER = /^--\s*migrate:(up|down|no-transaction)\b.*$/;

function invalid(file: string, problem: string): SupervisorError {
  return new SupervisorError(ErrorCodes.MIGRATION_INVALID, `Migration ${file}: ${problem}`, {
    hint: "Fix the migration file; health-gate's docs/migrations/sql-and-js.md describes the format.",
  });
}

/** Splits a file into its sections. Without markers the whole file is the up step. */
export function parseMigration(fileName: string, content: string, filePath = fileName): SqlMigration {
  const match = MIGRATION_FILE_NAME.exec(fileName);
  if (!match) throw invalid(fileName, 'the file name must look like `0001_create_messages.sql` or `20240101120000-create-messages.sql`');

  const sections: Record<'up' | 'down', string[] | undefined> = { up: undefined, down: undefined };
  let current: 'up' | 'down' | 'preamble' = 'preamble';
  let transactional = true;
  const preamble: string[] = [];
  const firstLine: Partial<Record<'up' | 'down' | 'preamble', number>> = {};

  for (const [index, text] of content.replace(/\r\n/g, '\n').split('\n').entries()) {
    const line = withoutPsqlMetaCommand(fileName, text, index + 1);
    const marker = MARKER.exec(line.trim());
    if (!marker && line.trim() !== '') firstLine[current] ??= index + 1;
    if (marker?.[1] === 'no-transaction') {
      transactional = false;
    } else if (marker) {
      const section = marker[1] as 'up' | 'down';
      if (sections[section]) throw invalid(fileName, `more than one \`-- migrate:${section}\` section`);
      sections[section] = [];
      current = section;
    } else if (current === 'preamble') {
      preamble.push(line);
    } else {
      sections[current]?.push(line);
    }
  }

  const hasMarkers = sections.up !== undefined || sections.down !== undefined;
  if (hasMarkers && preamble.some((line) => line.trim() !== '' && !line.trim().startsWith('--'))) {
    throw invalid(fileName, 'SQL before the first `-- migrate:` marker; put it inside the up section');
  }
  const up = (hasMarkers ? (sections.up ?? []) : preamble).join('\n').trim();
  if (up === '' || isOnlyComments(up)) throw invalid(fileName, 'the up section is empty');
  const down = sections.down?.join('\n').trim();

  const downSql = down === undefined || down === '' || isOnlyComments(down) ? undefined : down;
  return {
    kind: 'sql',
    name: fileName.slice(0, -'.sql'.length),
    fileName,
    path: filePath,
    up,
    down: downSql,
    hasDown: downSql !== undefined,
    transactional,
    // pg_dump writes a new random `\restrict` key on every dump: the same schema dumped again is the same migration.
    checksum: checksumOf(withoutRestrictLines(content)),
    ...(PSQL_RESTRICT_LINE.test(content) ? { alsoAccepted: [checksumOf(content)] } : {}),
    firstLine: { up: (hasMarkers ? firstLine.up : firstLine.preamble) ?? 1, down: firstLine.down },
  };
}

// pg_dump 17.6+ brackets its output in psql's `\restrict KEY` / `\unrestrict KEY`, which only matter to psql: dropped.
const PSQL_RESTRICT = /^\\(?:un)?restrict\b/;
const PSQL_RESTRICT_LINE = /^[ \t]*\\(?:un)?restrict\b[^\n]*$/m;

function withoutRestrictLines(content: string): string {
  return content.replace(new RegExp(PSQL_RESTRICT_LINE.source, 'gm'), '');
}

// The server understands no psql meta-command (`\connect`, `\set`, …): any other is refused, with its line.
function withoutPsqlMetaCommand(fileName: string, line: string, lineNumber: number): string {
  const trimmed = line.trim();
  if (!trimmed.startsWith('\\')) return line;
  if (PSQL_RESTRICT.test(trimmed)) return '';
  throw invalid(
    fileName,
    `line ${lineNumber} has the psql meta-command \`${trimmed.split(/\s/)[0]}\`, which only psql understands; remove it ` +
      '(a `pg_dump --schema-only` file needs no other change)',
  );
}

function isOnlyComments(sql: string): boolean {
  return sql.split('\n').every((line) => line.trim() === '' || line.trim().startsWith('--'));
}

function unreadable(dir: string, error: unknown, projectDir: string): SupervisorError {
  const found = (error as { code?: string }).code === 'ENOENT' ? findProjectMigrations(projectDir) : undefined;
  const configured = found && path.resolve(projectDir, found.dir) !== path.resolve(dir) ? path.relative(projectDir, path.resolve(projectDir, found.dir)) || '.' : undefined;
  return new SupervisorError(ErrorCodes.MIGRATION_INVALID, `Cannot read the migrations folder ${dir}`, {
    cause: error,
    hint: configured
      ? `Your ${found?.tool} configuration keeps the migrations in ${configured}: set MIGRATIONS_DIR=${configured}, or unset it.`
      : 'Set MIGRATIONS_DIR to the folder that holds the migration files (.sql, .js/.ts modules, or those of sequelize-cli, Prisma, knex, drizzle-kit or node-pg-migrate).',
  });
}

function summarize(names: readonly string[]): string {
  return names.length > 4 ? `${names.slice(0, 4).join(', ')} and ${names.length - 4} more` : names.join(', ');
}

// The knexfile's `loadExtensions`, when `dir` is its migrations folder: files with other extensions are not migrations.
function knexLoadExtensions(dir: string, projectDir: string): readonly string[] | undefined {
  const project = findProjectMigrations(projectDir);
  return project?.tool === 'knex' && path.resolve(projectDir, project.dir) === path.resolve(dir) ? project.loadExtensions : undefined;
}

export interface ReadMigrationsOptions {
  /**
   * The user's project, where `.sequelizerc` and the `sequelize` package are looked for when the files themselves
   * do not say whether they are sequelize-cli migrations.
   * @default process.cwd()
   */
  readonly projectDir?: string;
}

/**
 * Reads every migration in `dir`, in name order (equal numbers ordered by the rest of the name, as sequelize-cli does).
 * Refuses a folder that mixes kinds, a badly named migration file, and a folder with nothing to run (naming what it holds).
 */
export async function readMigrationFiles(dir: string, options: ReadMigrationsOptions = {}): Promise<MigrationFile[]> {
  const projectDir = options.projectDir ?? process.cwd();
  if (isPrismaFolder(dir)) return readPrismaMigrations(dir);
  if (isDrizzleFolder(dir)) return readDrizzleMigrations(dir, projectDir);
  let entries: string[];
  try {
    entries = (await readdir(dir, { withFileTypes: true })).filter((entry) => !entry.isDirectory()).map((entry) => entry.name);
  } catch (error) {
    throw unreadable(dir, error, projectDir);
  }
  const sqlFiles = entries.filter((entry) => entry.endsWith('.sql'));
  const extensions = knexLoadExtensions(dir, projectDir);
  const scriptFiles = entries.filter(
    (entry) => SCRIPT_EXTENSION.test(entry) && !entry.endsWith('.d.ts') && (!extensions || extensions.some((extension) => entry.endsWith(extension))),
  );
  if (sqlFiles.length > 0 && scriptFiles.length > 0) {
    throw new SupervisorError(
      ErrorCodes.MIGRATION_INVALID,
      `The migrations folder ${dir} mixes SQL files (${summarize(sqlFiles.sort())}) with JS/TS files (${summarize(scriptFiles.sort())})`,
      { hint: 'Keep one kind of migration per folder: convert one kind, or move the other files out of MIGRATIONS_DIR.' },
    );
  }
  let migrations: MigrationFile[];
  if (scriptFiles.length > 0) {
    const sources = await Promise.all(scriptFiles.map(async (fileName) => ({ fileName, path: path.join(dir, fileName), source: await readFile(path.join(dir, fileName), 'utf8') })));
    migrations = await classifyScripts(dir, sources, projectDir);
  } else {
    migrations = await Promise.all(
      sqlFiles.map(async (fileName) => {
        const filePath = path.join(dir, fileName);
        return parseMigration(fileName, await readFile(filePath, 'utf8'), filePath);
      }),
    );
  }
  if (migrations.length === 0) {
    const found = entries.filter((entry) => !entry.startsWith('.')).sort();
    throw new SupervisorError(
      ErrorCodes.MIGRATION_INVALID,
      `The migrations folder ${dir} holds no migration: ${found.length > 0 ? `found only ${summarize(found)}` : 'it is empty'}`,
      {
        hint:
          'Put the migrations there (`0001_name.sql`, `0001_name.js` exporting up/down, or sequelize-cli files), ' +
          'or set MIGRATIONS_DIR to the folder that holds them.',
      },
    );
  }
  // Compared as JavaScript sorts strings, never in a locale: the order the history and the out-of-order check use.
  return migrations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
