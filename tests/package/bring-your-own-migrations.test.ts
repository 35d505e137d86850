// Projects with their own migrations, through the packed supervisor as a user installs it: a sequelize-cli project
// (with its own sequelize, sequelize-cli and pg) and a project of umzug-style JS modules. Each migration applies
// whole or not at all; SequelizeMeta stays sequelize-cli's history, so that sequelize-cli agrees and can go on beside.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { PROJECT_ROOT } from '../helpers/supervisor-process.js';
import { exitWithin, packSupervisor, runInProject, startInstalled, untilReady, userEnv, type InstalledSupervisor } from './packed-project.js';

const run = promisify(execFile);
// The versions this repository tests with (its devDependencies), so that npm finds them in its cache.
const rootManifest = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
  dependencies: Record<string, string>;
};
const SEQUELIZE = `sequelize@${rootManifest.devDependencies.sequelize}`;
const SEQUELIZE_CLI = `sequelize-cli@${rootManifest.devDependencies['sequelize-cli']}`;
const PG = `pg@${rootManifest.dependencies.pg}`;

const SEQUELIZE_MIGRATIONS = [
  '20240101120000-create-users.js',
  '20240102120000-create-messages.js',
  '20240102120000-index-messages.js',
  '20240103120000-seed-users.js',
  '20240104120000-add-pinned.js',
];
const FAILING_SEQUELIZE = '20240105120000-create-labels-fails-halfway.js';
const MODULE_MIGRATIONS = ['0001_create_items', '0002_seed_items', '0003_add_tags'];
const APP = ['--app-health-path', '/healthz', '--', 'node', 'server.js'];

/** A copy of a fixture project in a temporary directory, with the tarball and `packages` installed. */
async function installProject(fixture: string, manifest: Record<string, unknown>, packages: readonly string[]): Promise<{ dir: string; installMs: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${fixture}-`));
  await cp(path.join(PROJECT_ROOT, 'tests/fixtures', fixture), dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ name: fixture, version: '1.0.0', private: true, ...manifest }, null, 2)}\n`);
  const startedAt = performance.now();
  await run('npm', ['install', ...packages, '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    env: userEnv(),
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { dir, installMs: performance.now() - startedAt };
}




const events = (supervisor: InstalledSupervisor, event: string): Record<string, unknown>[] =>
  supervisor.entries().filter((entry) => entry.event === event);

describe('the packed supervisor in front of projects that bring their own migrations', () => {
  let workDir: string;
  let sequelizeProject: string;
  let moduleProject: string;
  const timings: Record<string, number> = {};
  const started: InstalledSupervisor[] = [];
  const databases: TestDatabase[] = [];

  async function database(): Promise<TestDatabase> {
    const created = await createTestDatabase('byo');
    databases.push(created);
    return created;
  }

  async function start(dir: string, databaseUrl: string, requiredTables: string): Promise<InstalledSupervisor> {
    const supervisor = startInstalled(dir, ['--required-tables', requiredTables, ...APP], { DATABASE_URL: databaseUrl, PORT: await freePort() });
    started.push(supervisor);
    return supervisor;
  }

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'byo-migrations-'));
    const tarball = await packSupervisor(workDir);
    const [sequelize, modules] = await Promise.all([
      installProject('sequelize-project', {}, [tarball.file, SEQUELIZE, SEQUELIZE_CLI, PG]),
      installProject('module-project', { type: 'module' }, [tarball.file, PG]),
    ]);
    sequelizeProject = sequelize.dir;
    moduleProject = modules.dir;
    timings.installSequelizeProjectMs = sequelize.installMs;
    timings.installModuleProjectMs = modules.installMs;
  }, 600_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((supervisor) => supervisor.kill()));
    await Promise.all(databases.splice(0).map((created) => created.drop()));
  });

  afterAll(async () => {
    console.log(`bring-your-own migrations: ${Object.entries(timings).map(([name, ms]) => `${name}=${Math.round(ms)}`).join(' ')}`);
    for (const dir of [workDir, sequelizeProject, moduleProject]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('a sequelize-cli project', () => {
    test('empty database → ready; SequelizeMeta full, sequelize-cli db:migrate:status agrees; mixed-case REQUIRED_TABLES found', async () => {
      const db = await database();
      const startedAt = performance.now();
      const supervisor = await start(sequelizeProject, db.url, 'Users,Messages');
      await untilReady(supervisor);
      timings.sequelizeStartToReadyMs = performance.now() - startedAt;

      const meta = await db.query<{ name: string }>('SELECT name FROM "SequelizeMeta" ORDER BY name COLLATE "C"');
      expect(meta.rows.map((row) => row.name)).toEqual(SEQUELIZE_MIGRATIONS);
      expect(await db.scalar("SELECT to_regclass('schema_migrations')")).toBeNull();
      expect(events(supervisor, 'migrated').map((entry) => entry.migration)).toEqual(SEQUELIZE_MIGRATIONS);
      expect(events(supervisor, 'migration_own_transaction').map((entry) => entry.migration)).toEqual(['20240104120000-add-pinned.js']);

      const response = await fetch(`${supervisor.url}/`, { signal: AbortSignal.timeout(5_000) });
      expect(await response.json()).toEqual({
        app: 'sequelize-project',
        messages: [
          { name: 'ada', body: 'hello from ada', pinned: false },
          { name: 'grace', body: 'hello from grace', pinned: false },
        ],
      });

      const status = await runInProject(sequelizeProject, 'npx', ['sequelize-cli', 'db:migrate:status'], { DATABASE_URL: db.url });
      expect(status.code).toBe(0);
      for (const name of SEQUELIZE_MIGRATIONS) expect(status.output).toContain(`up ${name}`);
      expect(status.output).not.toMatch(/^down /m);
    });

    test('a database sequelize-cli migrated first → ready, nothing re-run', async () => {
      const db = await database();
      const migrated = await runInProject(sequelizeProject, 'npx', ['sequelize-cli', 'db:migrate'], { DATABASE_URL: db.url });
      expect(migrated.code, migrated.output).toBe(0);
      const supervisor = await start(sequelizeProject, db.url, 'Users,Messages');
      await untilReady(supervisor);
      expect(events(supervisor, 'migrated')).toEqual([]);
      expect(await db.scalar('SELECT count(*)::int FROM "Users"')).toBe(2);
      expect(await db.scalar('SELECT count(*)::int FROM "SequelizeMeta"')).toBe(SEQUELIZE_MIGRATIONS.length);
    });

    test('a migration failing halfway → non-zero exit, nothing of it left, no SequelizeMeta row, lock free; sequelize-cli itself leaves its table behind', async () => {
      const failing = path.join(sequelizeProject, 'migrations', FAILING_SEQUELIZE);
      await cp(path.join(PROJECT_ROOT, 'tests/fixtures/sequelize-project/failing', FAILING_SEQUELIZE), failing);
      try {
        const db = await database();
        const supervisor = await start(sequelizeProject, db.url, 'Users,Messages');
        const status = await exitWithin(supervisor, 90_000);
        expect(status.code).not.toBe(0);
        const failed = supervisor.entries().find((entry) => (entry.err as { code?: string } | undefined)?.code === 'SUP_ERR_MIGRATION_FAILED');
        expect(JSON.stringify(failed)).toContain(FAILING_SEQUELIZE);
        expect(await db.scalar("SELECT to_regclass('\"Labels\"')")).toBeNull();
        expect(await db.scalar('SELECT count(*)::int FROM "SequelizeMeta" WHERE name = $1', [FAILING_SEQUELIZE])).toBe(0);
        expect(await db.scalar('SELECT count(*)::int FROM "SequelizeMeta"')).toBe(SEQUELIZE_MIGRATIONS.length);
        expect(await db.advisoryLocks()).toBe(0);

        // What sequelize-cli does with the same migration on a fresh database: the half-made table stays.
        const other = await database();
        const cli = await runInProject(sequelizeProject, 'npx', ['sequelize-cli', 'db:migrate'], { DATABASE_URL: other.url });
        expect(cli.code).not.toBe(0);
        expect(await other.scalar("SELECT to_regclass('\"Labels\"') IS NOT NULL")).toBe(true);
        expect(await other.scalar('SELECT count(*)::int FROM "SequelizeMeta" WHERE name = $1', [FAILING_SEQUELIZE])).toBe(0);
      } finally {
        await rm(failing, { force: true });
      }
    });
  });

  describe('a project of JS migration modules', () => {
    test('empty database → ready, schema_migrations full; started again → nothing re-run', async () => {
      const db = await database();
      const startedAt = performance.now();
      const first = await start(moduleProject, db.url, 'items');
      await untilReady(first);
      timings.moduleStartToReadyMs = performance.now() - startedAt;
      expect(events(first, 'migrated').map((entry) => entry.migration)).toEqual(MODULE_MIGRATIONS);
      const history = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(history.rows.map((row) => row.name)).toEqual(MODULE_MIGRATIONS);
      const response = await fetch(`${first.url}/`, { signal: AbortSignal.timeout(5_000) });
      expect(await response.json()).toEqual({
        app: 'module-project',
        items: [
          { name: 'first', tags: ['seeded'] },
          { name: 'second', tags: ['seeded'] },
        ],
      });
      await first.kill();

      const again = await start(moduleProject, db.url, 'items');
      await untilReady(again);
      expect(events(again, 'migrated')).toEqual([]);
      expect(await db.scalar('SELECT count(*)::int FROM items')).toBe(2);
    });

    test('a module failing halfway → non-zero exit, nothing of it left, no history row, lock free', async () => {
      const failing = path.join(moduleProject, 'migrations', '0004_fails_halfway.js');
      await cp(path.join(PROJECT_ROOT, 'tests/fixtures/module-project/failing/0004_fails_halfway.js'), failing);
      try {
        const db = await database();
        const supervisor = await start(moduleProject, db.url, 'items');
        expect((await exitWithin(supervisor, 90_000)).code).not.toBe(0);
        expect(await db.scalar("SELECT to_regclass('labels')")).toBeNull();
        const history = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
        expect(history.rows.map((row) => row.name)).toEqual(MODULE_MIGRATIONS);
        expect(await db.advisoryLocks()).toBe(0);
      } finally {
        await rm(failing, { force: true });
      }
    });
  });
});
