// The pg_dump recipe of docs/migrate-cli.md ("Switching from another tool", "From a schema dump"), run as written on a database that
// health-gate and other tools migrated: the dump must leave out every history table, or the new migration fails on
// every new database (`relation "schema_migrations" already exists`).
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readMigrationFiles } from '../../../supervisor/migrations/files.js';
import { applyMigrations } from '../../helpers/migrate.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { PROJECT_ROOT } from '../../helpers/supervisor-process.js';
import { findSystemTool } from '../../helpers/system-tool.js';

const run = promisify(execFile);
const pgDump = findSystemTool(
  { name: 'pg_dump', command: 'pg_dump', pathVariable: 'PG_DUMP_PATH', usualFolders: ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/15/bin'], install: 'apt-get install postgresql-client (Debian, Ubuntu), brew install libpq (macOS)' },
  'the pg_dump recipe test',
);
// The recipe's options, as docs/migrate-cli.md writes them (checked below), before the connection string.
const RECIPE =
  "pg_dump --schema-only --no-owner --no-privileges --exclude-table=schema_migrations --exclude-table='\"SequelizeMeta\"' " +
  "--exclude-table=_prisma_migrations --exclude-table='knex_migrations*' --exclude-table='pgmigrations*' --exclude-schema=drizzle";

let source: TestDatabase;
let target: TestDatabase;
let dir: string;

beforeEach(async () => {
  [source, target] = await Promise.all([createTestDatabase('dump_source'), createTestDatabase('dump_target')]);
  dir = await mkdtemp(path.join(os.tmpdir(), 'dump-recipe-'));
});
afterEach(async () => {
  await Promise.all([source.drop(), target.drop()]);
  await rm(dir, { recursive: true, force: true });
});

// The recipe's words, as a shell would split them (single quotes removed).
const recipeArgs = (): string[] => RECIPE.split(' ').slice(1).map((word) => word.replace(/'/g, ''));

describe.runIf(pgDump)('the pg_dump recipe', () => {
  it('is the one docs/migrate-cli.md gives', async () => {
    expect(await readFile(path.join(PROJECT_ROOT, 'docs/migrate-cli.md'), 'utf8')).toContain(RECIPE.replace(' --exclude-table=schema_migrations', ' \\\n  --exclude-table=schema_migrations'));
  });

  it('leaves out every history table, so the dump runs as the first migration of a new database', async (context) => {
    // pg_dump refuses a server newer than itself (the embedded PostgreSQL 18 beside Debian's pg_dump 15).
    const dumpMajor = Number(/(\d+)\.\d+/.exec((await run(pgDump!, ['--version'])).stdout)?.[1]);
    const serverMajor = Math.floor(Number(await source.scalar<string>("SELECT current_setting('server_version_num')")) / 10_000);
    if (dumpMajor < serverMajor) {
      console.info(`tests: skipped the pg_dump recipe test: pg_dump ${dumpMajor} cannot dump a PostgreSQL ${serverMajor} server (set PG_DUMP_PATH to a pg_dump ${serverMajor} or newer)`);
      return context.skip();
    }
    await writeFile(path.join(dir, '0001_items.sql'), 'CREATE TABLE items (id integer PRIMARY KEY, name text);\n');
    await applyMigrations(source.url, dir);
    await source.query(
      'CREATE TABLE knex_migrations (id serial primary key, name varchar(255), batch integer, migration_time timestamptz);' +
        'CREATE TABLE knex_migrations_lock (index serial primary key, is_locked integer);' +
        'CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);' +
        'CREATE TABLE "SequelizeMeta" (name varchar(255) PRIMARY KEY);' +
        'CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, migration_name varchar(255) NOT NULL);' +
        'CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint);',
    );
    const dumps = path.join(dir, 'dumps');
    await run('mkdir', [dumps]);

    const { stdout } = await run(pgDump!, [...recipeArgs(), source.url], { maxBuffer: 16 * 1024 * 1024 });
    expect(stdout).toContain('CREATE TABLE public.items');
    expect(stdout).not.toMatch(/schema_migrations|SequelizeMeta|_prisma_migrations|knex_migrations|pgmigrations|drizzle/);
    await writeFile(path.join(dumps, '0001_baseline.sql'), stdout);
    expect(await applyMigrations(target.url, dumps)).toEqual(['0001_baseline']);
    expect(await target.scalar("SELECT to_regclass('public.items')::text")).toBe('items');

    // Without the exclusions (the recipe as it was), the dump fails on the new database's own history table.
    const plain = await run(pgDump!, ['--schema-only', '--no-owner', '--no-privileges', source.url], { maxBuffer: 16 * 1024 * 1024 });
    const other = await createTestDatabase('dump_plain');
    try {
      await writeFile(path.join(dumps, '0001_baseline.sql'), plain.stdout);
      expect((await readMigrationFiles(dumps)).length).toBe(1);
      await expect(applyMigrations(other.url, dumps)).rejects.toMatchObject({ code: 'SUP_ERR_MIGRATION_FAILED', message: expect.stringContaining('already exists') });
    } finally {
      await other.drop();
    }
  });
});
