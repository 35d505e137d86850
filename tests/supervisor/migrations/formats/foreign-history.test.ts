// Never silent about another tool's history: a database migrated by knex, Prisma… with the wrong folder configured
// stops before anything runs, with a code that names the table and the tool, not "fix the file".
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../../supervisor/core/errors.js';
import { readMigrationFiles } from '../../../../supervisor/migrations/files.js';
import { prepareSchema } from '../../../../supervisor/database-setup.js';
import { createPhaseMachine } from '../../../../supervisor/core/phases.js';
import { createTestDatabase, type TestDatabase } from '../../../helpers/database.js';

let db: TestDatabase;
let dir: string;

beforeEach(async () => {
  db = await createTestDatabase('foreign_history');
  dir = await mkdtemp(path.join(os.tmpdir(), 'foreign-history-'));
  await writeFile(path.join(dir, '0001_create_users.sql'), 'CREATE TABLE users (id integer PRIMARY KEY);\n');
});
afterEach(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

async function start(): Promise<unknown> {
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const logger = pino({ level: 'silent' });
  try {
    await prepareSchema({
      pool,
      logger,
      phases: createPhaseMachine(logger),
      config: {
        directUrl: undefined,
        databaseUrl: db.url,
        dbConnectTimeoutMs: 5_000,
        migrationsDir: dir,
        migrateOnStart: true,
        requiredTables: [],
        migrationLockWaitTimeoutMs: 10_000,
        migrationLockTimeoutMs: 5_000,
        migrationStatementTimeoutMs: 0,
      },
    });
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await pool.end();
  }
}

describe('a database holding another tool’s history', () => {
  it.each([
    ['knex', 'knex_migrations', 'CREATE TABLE knex_migrations (id serial primary key, name varchar(255), batch integer, migration_time timestamptz); INSERT INTO knex_migrations (name, batch, migration_time) VALUES (\'20240101_create_users.js\', 1, now())'],
    ['Prisma', '_prisma_migrations', 'CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0); INSERT INTO "_prisma_migrations" (id, checksum, migration_name, finished_at) VALUES (\'1\', \'x\', \'20240101_init\', now())'],
    ['node-pg-migrate', 'pgmigrations', "CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL); INSERT INTO pgmigrations (name, run_on) VALUES ('1700000000000_init', now())"],
    ['drizzle-kit', 'drizzle.__drizzle_migrations', "CREATE SCHEMA drizzle; CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint); INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('h', 1)"],
  ])('stops the start before running anything when it is %s’s (%s)', async (tool, table, setup) => {
    await db.query(setup);
    const error = await start();
    expect(error).toMatchObject({ code: ErrorCodes.FOREIGN_HISTORY });
    expect((error as Error).message).toContain(`migrated by ${tool}: its history table ${table} holds 1 row`);
    expect((error as { hint: string }).hint).toContain('migrate baseline --to');
    expect(await db.scalar("SELECT to_regclass('users')::text")).toBeNull();
  });

  it('is left alone once the history in use has rows (adopted with baseline)', async () => {
    await db.query("CREATE TABLE pgmigrations (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL); INSERT INTO pgmigrations (name, run_on) VALUES ('1700000000000_init', now())");
    await db.query('CREATE TABLE schema_migrations (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), duration_ms integer NOT NULL DEFAULT 0)');
    const [file] = await readMigrationFiles(dir);
    await db.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [file!.name, file!.checksum]);
    expect(await start()).toBeUndefined();
  });

  it('ignores an empty table of another tool', async () => {
    await db.query('CREATE TABLE knex_migrations (id serial primary key, name varchar(255), batch integer, migration_time timestamptz)');
    expect(await start()).toBeUndefined();
    expect(await db.scalar("SELECT to_regclass('users')::text")).toBe('users');
  });
});
