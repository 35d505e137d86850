// A copy of one of the fixture projects of another migration tool (tests/fixtures/<tool>-project), in a folder of its
// own that resolves packages from the repository's node_modules (the project's "own copy" of knex, node-pg-migrate,
// drizzle-orm), and the supervisor's migrator run in it as the start runs it: the folder found from the project's files.
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { loadMigrationsDir } from '../../supervisor/core/config.js';
import { connectionOptions } from '../../supervisor/database/connection.js';
import { readMigrationFiles } from '../../supervisor/migrations/files.js';
import { kindOf, migrateToLatest, revertMigrations, withMigrationLock } from '../../supervisor/migrations/runner.js';
import { openOwnConnection } from './database.js';
import { PROJECT_ROOT } from './supervisor-process.js';

export interface ToolProject {
  readonly dir: string;
  /** The migrations folder the supervisor finds in it without MIGRATIONS_DIR. */
  readonly migrationsDir: string;
  remove(): Promise<void>;
}

/** Copies tests/fixtures/<name> to a temporary folder whose node_modules is the repository's. */
export async function copyToolProject(name: string): Promise<ToolProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${name}-`));
  await cp(path.join(PROJECT_ROOT, 'tests/fixtures', name), dir, { recursive: true });
  await symlink(path.join(PROJECT_ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return { dir, migrationsDir: loadMigrationsDir({}, dir), remove: () => rm(dir, { recursive: true, force: true }) };
}

function runOptions(databaseUrl: string, project: ToolProject, log: Record<string, unknown>[], signal?: AbortSignal) {
  return {
    signal,
    openLockConnection: () => openOwnConnection(databaseUrl),
    logger: pino({ level: 'debug' }, { write: (line: string) => void log.push(JSON.parse(line) as Record<string, unknown>) }),
    lockTimeoutMs: 5_000,
    statementTimeoutMs: 0,
    lockWaitTimeoutMs: 30_000,
    connection: connectionOptions(databaseUrl, 5_000),
    projectDir: project.dir,
  };
}

async function withClient<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs the supervisor's migrator on the project as its start does; resolves with the names applied and the log entries. */
export async function migrateToolProject(
  databaseUrl: string,
  project: ToolProject,
  signal?: AbortSignal,
): Promise<{ applied: string[]; log: Record<string, unknown>[] }> {
  const log: Record<string, unknown>[] = [];
  const files = await readMigrationFiles(project.migrationsDir, { projectDir: project.dir });
  const applied = await withClient(databaseUrl, (client) => migrateToLatest(client, files, runOptions(databaseUrl, project, log, signal)));
  return { applied, log };
}

/** `migrate down --step <step>` on the project; resolves with the names reverted. */
export async function revertToolProject(databaseUrl: string, project: ToolProject, step: number): Promise<string[]> {
  const files = await readMigrationFiles(project.migrationsDir, { projectDir: project.dir });
  const options = { ...runOptions(databaseUrl, project, []), kind: kindOf(files), files };
  return withClient(databaseUrl, (client) => withMigrationLock(client, options, () => revertMigrations(client, files, { step }, options)));
}
