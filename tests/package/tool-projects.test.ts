// Projects of the other migration tools users already have (Prisma, knex, drizzle-kit, node-pg-migrate), through the
// packed supervisor as a user installs it, each with its own tool from npm: one changed start command, the tool's own
// history kept so that the tool agrees, nothing re-run on a database the tool migrated, a failing migration leaves
// nothing. Prisma's CLI cannot run here (it downloads its engine): its table is compared with Prisma's definition.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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
const pinned = (name: string): string => `${name}@${rootManifest.devDependencies[name] ?? rootManifest.dependencies[name]}`;
const APP = ['--app-health-path', '/healthz', '--', 'node', 'server.mjs'];

/** A copy of a fixture project with the tarball and `packages` installed, and the plain app of the packed-project fixture. */
async function installProject(fixture: string, packages: readonly string[]): Promise<{ dir: string; installMs: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `${fixture}-`));
  await cp(path.join(PROJECT_ROOT, 'tests/fixtures', fixture), dir, { recursive: true });
  await cp(path.join(PROJECT_ROOT, 'tests/fixtures/packed-project/server.js'), path.join(dir, 'server.mjs'));
  const manifest = JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify({ name: fixture, version: '1.0.0', ...manifest, dependencies: {} }, null, 2)}\n`);
  const startedAt = performance.now();
  await run('npm', ['install', ...packages, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env: userEnv(), timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  return { dir, installMs: performance.now() - startedAt };
}




const migrated = (supervisor: InstalledSupervisor): unknown[] => supervisor.entries().filter((entry) => entry.event === 'migrated').map((entry) => entry.migration);
const failure = (supervisor: InstalledSupervisor): Record<string, unknown> | undefined => supervisor.entries().find((entry) => entry.event === 'failed');

describe('the packed supervisor in front of Prisma, knex, drizzle-kit and node-pg-migrate projects', () => {
  let workDir: string;
  const projects: Record<string, string> = {};
  const timings: Record<string, number> = {};
  const started: InstalledSupervisor[] = [];
  const databases: TestDatabase[] = [];

  async function database(): Promise<TestDatabase> {
    const created = await createTestDatabase('tools');
    databases.push(created);
    return created;
  }

  async function start(project: string, databaseUrl: string, requiredTables: string, flags: readonly string[] = []): Promise<InstalledSupervisor> {
    const supervisor = startInstalled(projects[project]!, ['--required-tables', requiredTables, ...flags, ...APP], { DATABASE_URL: databaseUrl, PORT: await freePort() });
    started.push(supervisor);
    return supervisor;
  }

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'tool-projects-'));
    const tarball = (await packSupervisor(workDir)).file;
    const installs: [string, string[]][] = [
      ['prisma-project', [tarball, pinned('pg')]],
      ['knex-project', [tarball, pinned('knex'), pinned('pg')]],
      ['node-pg-migrate-project', [tarball, pinned('node-pg-migrate'), pinned('pg')]],
      ['drizzle-project', [tarball, pinned('drizzle-orm'), pinned('pg')]],
    ];
    // One after the other: the machine's cores are shared.
    for (const [fixture, packages] of installs) {
      const { dir, installMs } = await installProject(fixture, packages);
      projects[fixture] = dir;
      timings[`install ${fixture} ms`] = installMs;
    }
  }, 900_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((supervisor) => supervisor.kill()));
    await Promise.all(databases.splice(0).map((created) => created.drop()));
  });

  afterAll(async () => {
    console.log(`tool projects: ${Object.entries(timings).map(([name, ms]) => `${name}=${Math.round(ms)}`).join(' ')}`);
    for (const dir of [workDir, ...Object.values(projects)]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  describe('Prisma', () => {
    const NAMES = ['20240101120000_init', '20240102120000_add_pinned'];
    const migrationSql = (name: string): Promise<string> => readFile(path.join(projects['prisma-project']!, 'prisma/migrations', name, 'migration.sql'), 'utf8');
    const sha256 = async (name: string): Promise<string> => createHash('sha256').update(await migrationSql(name)).digest('hex');

    test('empty database → ready with _prisma_migrations as Prisma writes it; started again → nothing re-run', async () => {
      const db = await database();
      const startedAt = performance.now();
      const first = await start('prisma-project', db.url, 'Message');
      await untilReady(first);
      timings['prisma start to ready ms'] = performance.now() - startedAt;
      expect(migrated(first)).toEqual(NAMES);
      const { rows } = await db.query('SELECT migration_name, checksum, logs, rolled_back_at, applied_steps_count, finished_at IS NOT NULL AS finished FROM "_prisma_migrations" ORDER BY started_at, migration_name');
      expect(rows).toEqual(await Promise.all(NAMES.map(async (name) => ({ migration_name: name, checksum: await sha256(name), logs: null, rolled_back_at: null, applied_steps_count: 1, finished: true }))));
      await first.kill();
      const again = await start('prisma-project', db.url, 'Message');
      await untilReady(again);
      expect(migrated(again)).toEqual([]);
    });

    test('a database with Prisma’s table and rows → nothing re-run; a new migration applied once; a failing one leaves nothing', async () => {
      const db = await database();
      await db.query('CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), "applied_steps_count" INTEGER NOT NULL DEFAULT 0)');
      for (const name of NAMES) {
        await db.query(await migrationSql(name));
        await db.query('INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES (gen_random_uuid(), $1, now(), $2, 1)', [await sha256(name), name]);
      }
      const first = await start('prisma-project', db.url, 'Message');
      await untilReady(first);
      expect(migrated(first)).toEqual([]);
      await first.kill();

      const added = path.join(projects['prisma-project']!, 'prisma/migrations/20240103120000_add_labels');
      const failing = path.join(projects['prisma-project']!, 'prisma/migrations/20240104120000_add_labels_fails_halfway');
      try {
        await mkdir(added);
        await writeFile(path.join(added, 'migration.sql'), 'CREATE TABLE "Tag" ("id" SERIAL PRIMARY KEY);\n');
        const second = await start('prisma-project', db.url, 'Message');
        await untilReady(second);
        expect(migrated(second)).toEqual(['20240103120000_add_labels']);
        await second.kill();

        await cp(path.join(PROJECT_ROOT, 'tests/fixtures/prisma-project/failing/20240103120000_add_labels_fails_halfway'), failing, { recursive: true });
        const third = await start('prisma-project', db.url, 'Message');
        expect((await exitWithin(third, 90_000)).code).not.toBe(0);
        expect(failure(third)).toMatchObject({ code: 'SUP_ERR_MIGRATION_FAILED' });
        expect(await db.scalar(`SELECT to_regclass('"Label"')::text`)).toBeNull();
        expect(await db.scalar('SELECT count(*)::int FROM "_prisma_migrations"')).toBe(3);
        expect(await db.advisoryLocks()).toBe(0);
      } finally {
        await rm(added, { recursive: true, force: true });
        await rm(failing, { recursive: true, force: true });
      }
    });
  });

  describe('knex', () => {
    const NAMES = ['20240101120000_create_users.js', '20240102120000_create_messages.js'];

    test('empty database → ready with knex_migrations; knex migrate:list agrees', async () => {
      const db = await database();
      const startedAt = performance.now();
      const supervisor = await start('knex-project', db.url, 'users,messages');
      await untilReady(supervisor);
      timings['knex start to ready ms'] = performance.now() - startedAt;
      expect(migrated(supervisor)).toEqual(NAMES);
      expect((await db.query('SELECT name, batch FROM knex_migrations ORDER BY id')).rows).toEqual(NAMES.map((name) => ({ name, batch: 1 })));
      const list = await runInProject(projects['knex-project']!, 'npx', ['knex', 'migrate:list'], { DATABASE_URL: db.url });
      expect(list.code, list.output).toBe(0);
      expect(list.output).toContain('Found 2 Completed Migration file/files.');
      expect(list.output).toContain('No Pending Migration files Found.');
    });

    test('a database knex migrated → nothing re-run; a new migration once; a failing one leaves nothing; the wrong folder → SUP_ERR_FOREIGN_HISTORY', async () => {
      const db = await database();
      const latest = await runInProject(projects['knex-project']!, 'npx', ['knex', 'migrate:latest'], { DATABASE_URL: db.url });
      expect(latest.code, latest.output).toBe(0);
      const first = await start('knex-project', db.url, 'users,messages');
      await untilReady(first);
      expect(migrated(first)).toEqual([]);
      await first.kill();

      const migrations = path.join(projects['knex-project']!, 'db/migrations');
      const added = path.join(migrations, '20240104120000_add_pinned.js');
      const failing = path.join(migrations, '20240105120000_create_labels_fails_halfway.js');
      const sqlFolder = path.join(projects['knex-project']!, 'sql');
      try {
        await writeFile(added, "exports.up = (knex) => knex.schema.alterTable('messages', (t) => { t.boolean('pinned').defaultTo(false); });\nexports.down = () => {};\n");
        const second = await start('knex-project', db.url, 'users,messages');
        await untilReady(second);
        expect(migrated(second)).toEqual(['20240104120000_add_pinned.js']);
        await second.kill();

        await cp(path.join(PROJECT_ROOT, 'tests/fixtures/knex-project/failing/20240103120000_create_labels_fails_halfway.js'), failing);
        const third = await start('knex-project', db.url, 'users,messages');
        expect((await exitWithin(third, 90_000)).code).not.toBe(0);
        expect(failure(third)).toMatchObject({ code: 'SUP_ERR_MIGRATION_FAILED' });
        expect(await db.scalar("SELECT to_regclass('labels')::text")).toBeNull();
        expect(await db.scalar('SELECT count(*)::int FROM knex_migrations')).toBe(3);
        const list = await runInProject(projects['knex-project']!, 'npx', ['knex', 'migrate:list'], { DATABASE_URL: db.url });
        expect(list.output).toContain('Found 3 Completed Migration file/files.');

        // The same database with a folder of SQL files configured: stopped, the table named, nothing run.
        await mkdir(sqlFolder);
        await writeFile(path.join(sqlFolder, '0001_create_users.sql'), 'CREATE TABLE users (id integer PRIMARY KEY);\n');
        const wrong = await start('knex-project', db.url, 'users', ['--migrations-dir', 'sql']);
        expect((await exitWithin(wrong, 90_000)).code).not.toBe(0);
        expect(failure(wrong)).toMatchObject({ code: 'SUP_ERR_FOREIGN_HISTORY', msg: expect.stringContaining('knex_migrations') });
        expect(await db.scalar("SELECT to_regclass('schema_migrations')::text")).toBeNull();
      } finally {
        await rm(added, { force: true });
        await rm(failing, { force: true });
        await rm(sqlFolder, { recursive: true, force: true });
      }
    });
  });

  describe('node-pg-migrate', () => {
    const NAMES = ['1700000000000_create-users', '1700000000001_create-messages'];

    test('empty database → ready with pgmigrations; node-pg-migrate up finds nothing to run; its own migrations → nothing re-run', async () => {
      const db = await database();
      const startedAt = performance.now();
      const supervisor = await start('node-pg-migrate-project', db.url, 'users,messages');
      await untilReady(supervisor);
      timings['node-pg-migrate start to ready ms'] = performance.now() - startedAt;
      expect(migrated(supervisor)).toEqual(NAMES);
      expect((await db.query('SELECT name FROM pgmigrations ORDER BY id')).rows.map((row) => row.name)).toEqual(NAMES);
      const up = await runInProject(projects['node-pg-migrate-project']!, 'npx', ['node-pg-migrate', 'up'], { DATABASE_URL: db.url });
      expect(up.code, up.output).toBe(0);
      expect(up.output).toContain('No migrations to run!');

      const other = await database();
      const own = await runInProject(projects['node-pg-migrate-project']!, 'npx', ['node-pg-migrate', 'up'], { DATABASE_URL: other.url });
      expect(own.code, own.output).toBe(0);
      const again = await start('node-pg-migrate-project', other.url, 'users,messages');
      await untilReady(again);
      expect(migrated(again)).toEqual([]);
    });

    test('a new migration once; a failing one leaves nothing', async () => {
      const db = await database();
      const migrations = path.join(projects['node-pg-migrate-project']!, 'migrations');
      const added = path.join(migrations, '1700000000003_add-pinned.js');
      const failing = path.join(migrations, '1700000000004_create-labels-fails-halfway.js');
      try {
        const first = await start('node-pg-migrate-project', db.url, 'users,messages');
        await untilReady(first);
        await first.kill();
        await writeFile(added, "exports.up = (pgm) => { pgm.addColumn('messages', { pinned: { type: 'boolean', default: false } }); };\n");
        const second = await start('node-pg-migrate-project', db.url, 'users,messages');
        await untilReady(second);
        expect(migrated(second)).toEqual(['1700000000003_add-pinned']);
        await second.kill();

        await cp(path.join(PROJECT_ROOT, 'tests/fixtures/node-pg-migrate-project/failing/1700000000002_create-labels-fails-halfway.js'), failing);
        const third = await start('node-pg-migrate-project', db.url, 'users,messages');
        expect((await exitWithin(third, 90_000)).code).not.toBe(0);
        expect(failure(third)).toMatchObject({ code: 'SUP_ERR_MIGRATION_FAILED' });
        expect(await db.scalar("SELECT to_regclass('labels')::text")).toBeNull();
        expect(await db.scalar('SELECT count(*)::int FROM pgmigrations')).toBe(3);
        expect(await db.advisoryLocks()).toBe(0);
      } finally {
        await rm(added, { force: true });
        await rm(failing, { force: true });
      }
    });
  });

  describe('drizzle-kit', () => {
    const TAGS = ['0000_init', '0001_add_labels'];
    // drizzle-orm's own migrator in the project (what `drizzle-kit migrate` runs), printing the history after.
    const MIGRATE_WITH_DRIZZLE =
      "import pg from 'pg'; import { drizzle } from 'drizzle-orm/node-postgres'; import { migrate } from 'drizzle-orm/node-postgres/migrator';" +
      "const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL }); await migrate(drizzle(pool), { migrationsFolder: './drizzle' });" +
      "const { rows } = await pool.query('SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations'); console.log('rows=' + rows[0].n); await pool.end();";

    test('empty database → ready with drizzle-orm’s history; its migrator runs nothing after; a database it migrated → nothing re-run', async () => {
      const db = await database();
      const startedAt = performance.now();
      const supervisor = await start('drizzle-project', db.url, 'users,messages,labels');
      await untilReady(supervisor);
      timings['drizzle start to ready ms'] = performance.now() - startedAt;
      expect(migrated(supervisor)).toEqual(TAGS);
      const after = await runInProject(projects['drizzle-project']!, 'node', ['--input-type=module', '-e', MIGRATE_WITH_DRIZZLE], { DATABASE_URL: db.url });
      expect(after.code, after.output).toBe(0);
      expect(after.output).toContain('rows=2');

      const other = await database();
      const own = await runInProject(projects['drizzle-project']!, 'node', ['--input-type=module', '-e', MIGRATE_WITH_DRIZZLE], { DATABASE_URL: other.url });
      expect(own.code, own.output).toBe(0);
      const again = await start('drizzle-project', other.url, 'users,messages,labels');
      await untilReady(again);
      expect(migrated(again)).toEqual([]);
    });

    test('a failing migration leaves nothing', async () => {
      const db = await database();
      const dir = path.join(projects['drizzle-project']!, 'drizzle');
      const journalFile = path.join(dir, 'meta/_journal.json');
      const journal = await readFile(journalFile, 'utf8');
      try {
        const parsed = JSON.parse(journal) as { entries: { idx: number; when: number; tag: string }[] };
        const last = parsed.entries.at(-1)!;
        parsed.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1_000, tag: '0002_fails_halfway' });
        await writeFile(journalFile, JSON.stringify(parsed, null, 2));
        await writeFile(path.join(dir, '0002_fails_halfway.sql'), 'CREATE TABLE "tags" ("id" serial PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO "users" ("nope") VALUES (1);');
        const supervisor = await start('drizzle-project', db.url, 'users');
        expect((await exitWithin(supervisor, 90_000)).code).not.toBe(0);
        expect(failure(supervisor)).toMatchObject({ code: 'SUP_ERR_MIGRATION_FAILED' });
        expect(await db.scalar("SELECT to_regclass('tags')::text")).toBeNull();
        expect(await db.scalar('SELECT count(*)::int FROM drizzle.__drizzle_migrations')).toBe(2);
      } finally {
        await writeFile(journalFile, journal);
        await rm(path.join(dir, '0002_fails_halfway.sql'), { force: true });
      }
    });
  });
});
