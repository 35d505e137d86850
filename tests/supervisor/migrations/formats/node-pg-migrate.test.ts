// node-pg-migrate projects run as they are: `migrations/` found from node-pg-migrate among the dependencies, each
// migration run by the project's own node-pg-migrate in one transaction with its pgmigrations row, so that
// node-pg-migrate itself finds nothing to run afterwards.
import { cp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../../supervisor/core/errors.js';
import { createTestDatabase, type TestDatabase } from '../../../helpers/database.js';
import { copyToolProject, migrateToolProject, revertToolProject, type ToolProject } from '../../../helpers/tool-project.js';

const NAMES = ['1700000000000_create-users', '1700000000001_create-messages'];
type Runner = (options: Record<string, unknown>) => Promise<{ name: string }[]>;

let db: TestDatabase;
let project: ToolProject;

beforeEach(async () => {
  db = await createTestDatabase('node_pg_migrate');
  project = await copyToolProject('node-pg-migrate-project');
});
afterEach(async () => {
  await db.drop();
  await project.remove();
});

// node-pg-migrate itself (as `npx node-pg-migrate up` runs it); with `dryRun`, what it would run.
async function nodePgMigrate(options: Record<string, unknown>): Promise<string[]> {
  const resolved = createRequire(path.join(project.dir, 'package.json')).resolve('node-pg-migrate');
  const { runner } = (await import(pathToFileURL(resolved).href)) as { runner: Runner };
  const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  // A client of the test's own, ended before the database is dropped: node-pg-migrate does not wait for the end of
  // one it opens itself, and the forced DROP would then end it with an error nobody listens to.
  const client = new pg.Client({ connectionString: db.url });
  client.on('error', () => {});
  await client.connect();
  try {
    const run = await runner({ dbClient: client, dir: project.migrationsDir, migrationsTable: 'pgmigrations', direction: 'up', logger: silent, ...options });
    return run.map((migration) => migration.name);
  } finally {
    await client.end();
  }
}

describe('node-pg-migrate migrations', () => {
  it('are found from node-pg-migrate among the dependencies without MIGRATIONS_DIR', () => {
    expect(project.migrationsDir).toBe(path.join(project.dir, 'migrations'));
  });

  it('bring a fresh database up to date with pgmigrations rows, and node-pg-migrate finds nothing to run', async () => {
    const { applied } = await migrateToolProject(db.url, project);
    expect(applied).toEqual(NAMES);
    const { rows } = await db.query('SELECT name, run_on IS NOT NULL AS ran FROM public.pgmigrations ORDER BY id');
    expect(rows).toEqual(NAMES.map((name) => ({ name, ran: true })));
    expect(await db.scalar('SELECT email FROM users')).toBe('first@example.com');
    expect(await nodePgMigrate({ dryRun: true })).toEqual([]);
  });

  it('re-run nothing on a database node-pg-migrate migrated, and apply a new migration once', async () => {
    expect(await nodePgMigrate({})).toEqual(NAMES);
    expect((await migrateToolProject(db.url, project)).applied).toEqual([]);

    await writeFile(path.join(project.migrationsDir, '1700000000003_add-pinned.js'), "exports.up = (pgm) => { pgm.addColumn('messages', { pinned: { type: 'boolean', default: false } }); };\n");
    expect((await migrateToolProject(db.url, project)).applied).toEqual(['1700000000003_add-pinned']);
    expect((await migrateToolProject(db.url, project)).applied).toEqual([]);
    expect(await nodePgMigrate({ dryRun: true })).toEqual([]);
  });

  it('leave nothing of a failing migration: no table, no row', async () => {
    await migrateToolProject(db.url, project);
    await cp(path.join(project.dir, 'failing'), project.migrationsDir, { recursive: true });
    await expect(migrateToolProject(db.url, project)).rejects.toMatchObject({ code: ErrorCodes.MIGRATION_FAILED });
    expect(await db.scalar("SELECT to_regclass('labels')::text")).toBeNull();
    expect(await db.scalar('SELECT count(*)::int FROM pgmigrations')).toBe(2);
    expect(await nodePgMigrate({ dryRun: true })).toEqual(['1700000000002_create-labels-fails-halfway']);
  });
});

describe('node-pg-migrate migrations reverted', () => {
  it('`down` runs the down function with node-pg-migrate and deletes the row; node-pg-migrate would run it again', async () => {
    await migrateToolProject(db.url, project);
    expect(await revertToolProject(db.url, project, 1)).toEqual([NAMES[1]]);
    expect(await db.scalar("SELECT to_regclass('messages')::text")).toBeNull();
    expect(await nodePgMigrate({ dryRun: true })).toEqual([NAMES[1]]);
  });
});
