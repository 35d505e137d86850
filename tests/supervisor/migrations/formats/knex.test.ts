// knex projects run as they are: the knexfile's migrations.directory found without MIGRATIONS_DIR, each migration
// called with the project's own knex bound to its transaction, knex_migrations and knex_migrations_lock kept as knex
// keeps them, so that knex's own migrate:list agrees.
import { createRequire } from 'node:module';
import { cp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../../supervisor/core/errors.js';
import { createTestDatabase, type TestDatabase } from '../../../helpers/database.js';
import { copyToolProject, migrateToolProject, revertToolProject, type ToolProject } from '../../../helpers/tool-project.js';

const NAMES = ['20240101120000_create_users.js', '20240102120000_create_messages.js'];

interface Knex {
  migrate: { latest(): Promise<unknown>; list(): Promise<[{ name: string }[], { file: string }[]]> };
  destroy(): Promise<void>;
}

let db: TestDatabase;
let project: ToolProject;

beforeEach(async () => {
  db = await createTestDatabase('knex');
  project = await copyToolProject('knex-project');
});
afterEach(async () => {
  await db.drop();
  await project.remove();
});

// knex itself, with the project's knexfile (as `npx knex migrate:…` runs in the project folder).
async function withKnex<T>(fn: (knex: Knex) => Promise<T>): Promise<T> {
  const load = createRequire(path.join(project.dir, 'package.json'));
  const config = (load(path.join(project.dir, 'knexfile.js')) as { development: { migrations: { directory: string } } }).development;
  const knex = (load('knex') as (config: unknown) => Knex)({
    ...config,
    connection: db.url,
    migrations: { ...config.migrations, directory: path.join(project.dir, config.migrations.directory) },
  });
  try {
    return await fn(knex);
  } finally {
    await knex.destroy();
  }
}

const knexStatus = (): Promise<{ completed: string[]; pending: string[] }> =>
  withKnex(async (knex) => {
    const [completed, pending] = await knex.migrate.list();
    return { completed: completed.map((entry) => entry.name), pending: pending.map((entry) => entry.file) };
  });

describe('knex migrations', () => {
  it("are found from the knexfile's migrations.directory without MIGRATIONS_DIR", () => {
    expect(project.migrationsDir).toBe(path.join(project.dir, 'db/migrations'));
  });

  it('bring a fresh database up to date with knex_migrations as knex writes it, and knex agrees', async () => {
    const { applied } = await migrateToolProject(db.url, project);
    expect(applied).toEqual(NAMES);
    const { rows } = await db.query('SELECT name, batch, migration_time IS NOT NULL AS timed FROM knex_migrations ORDER BY id');
    expect(rows).toEqual(NAMES.map((name) => ({ name, batch: 1, timed: true })));
    expect((await db.query('SELECT is_locked FROM knex_migrations_lock')).rows).toEqual([{ is_locked: 0 }]);
    // The migration got a knex (its insert ran through the query builder).
    expect(await db.scalar('SELECT email FROM users')).toBe('first@example.com');
    expect(await knexStatus()).toEqual({ completed: NAMES, pending: [] });
  });

  it('re-run nothing on a database knex migrated, and apply a new migration once, in the next batch', async () => {
    await withKnex((knex) => knex.migrate.latest());
    expect((await migrateToolProject(db.url, project)).applied).toEqual([]);

    await writeFile(
      path.join(project.migrationsDir, '20240104120000_add_pinned.js'),
      "exports.up = (knex) => knex.schema.alterTable('messages', (t) => { t.boolean('pinned').defaultTo(false); });\n" +
        "exports.down = (knex) => knex.schema.alterTable('messages', (t) => { t.dropColumn('pinned'); });\n",
    );
    expect((await migrateToolProject(db.url, project)).applied).toEqual(['20240104120000_add_pinned.js']);
    expect((await migrateToolProject(db.url, project)).applied).toEqual([]);
    expect(await db.scalar("SELECT batch FROM knex_migrations WHERE name = '20240104120000_add_pinned.js'")).toBe(2);
    expect(await knexStatus()).toEqual({ completed: [...NAMES, '20240104120000_add_pinned.js'], pending: [] });
  });

  it('leave nothing of a failing migration: no table, no row', async () => {
    await migrateToolProject(db.url, project);
    await cp(path.join(project.dir, 'failing'), project.migrationsDir, { recursive: true });
    await expect(migrateToolProject(db.url, project)).rejects.toMatchObject({
      code: ErrorCodes.MIGRATION_FAILED,
      message: expect.stringContaining('Nothing of it was applied'),
    });
    expect(await db.scalar("SELECT to_regclass('labels')::text")).toBeNull();
    expect(await db.scalar('SELECT count(*)::int FROM knex_migrations')).toBe(2);
    expect((await knexStatus()).pending).toEqual(['20240103120000_create_labels_fails_halfway.js']);
  });

  it('refuse a new migration ordered before the last applied one', async () => {
    await migrateToolProject(db.url, project);
    await writeFile(path.join(project.migrationsDir, '20231231120000_early.js'), 'exports.up = (knex) => knex.raw("SELECT 1");\n');
    await expect(migrateToolProject(db.url, project)).rejects.toMatchObject({ code: ErrorCodes.MIGRATION_OUT_OF_ORDER });
  });
});

describe('knex migrations reverted', () => {
  it('`down` runs the down function with knex and deletes the row, and knex agrees', async () => {
    await migrateToolProject(db.url, project);
    expect(await revertToolProject(db.url, project, 1)).toEqual([NAMES[1]]);
    expect(await db.scalar("SELECT to_regclass('messages')::text")).toBeNull();
    expect(await knexStatus()).toEqual({ completed: [NAMES[0]], pending: [NAMES[1]] });
  });
});

describe('a stop while a knex migration runs', () => {
  it("cancels the statement on knex's own connection: rolled back at once, no row, the lock free", async () => {
    await migrateToolProject(db.url, project);
    await writeFile(
      path.join(project.migrationsDir, '20240104120000_slow.js'),
      "exports.up = async (knex) => { await knex.schema.createTable('slow', (t) => { t.increments('id'); }); await knex.raw('SELECT pg_sleep(30)'); };\n",
    );
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 1_000);
    const startedAt = performance.now();
    await expect(migrateToolProject(db.url, project, stop.signal)).rejects.toMatchObject({ code: ErrorCodes.MIGRATION_INTERRUPTED });
    expect(performance.now() - startedAt).toBeLessThan(10_000);
    expect(await db.scalar("SELECT to_regclass('slow')::text")).toBeNull();
    expect(await db.scalar('SELECT count(*)::int FROM knex_migrations')).toBe(2);
    expect(await db.advisoryLocks()).toBe(0);
  });
});

describe("the knexfile's loadExtensions", () => {
  it('leaves files with other extensions out, as knex does', async () => {
    await writeFile(
      path.join(project.dir, 'knexfile.js'),
      "const shared = { client: 'pg', migrations: { directory: './db/migrations', loadExtensions: ['.js'] } };\nmodule.exports = { development: shared, test: shared };\n",
    );
    await writeFile(path.join(project.migrationsDir, '20240103120000_helper_types.ts'), 'export const up = (knex: unknown) => knex;\n');
    expect((await migrateToolProject(db.url, project)).applied).toEqual(NAMES);
  });
});
