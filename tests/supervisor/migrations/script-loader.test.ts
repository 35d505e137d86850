// JS/TS migration modules (umzug style): `context` is the migrating pg client, inside the migration's transaction.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OwnConnection } from '../../../supervisor/database/connection.js';
import { readMigrationFiles } from '../../../supervisor/migrations/files.js';
import { migrateToLatest } from '../../../supervisor/migrations/runner.js';
import { nodeStripsTypes } from '../../../supervisor/migrations/script-loader.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { PROJECT_ROOT } from '../../helpers/supervisor-process.js';

const FIXTURE = path.join(PROJECT_ROOT, 'tests/fixtures/module-project');
let db: TestDatabase;
let dir: string;

beforeEach(async () => {
  db = await createTestDatabase('modules');
  dir = await mkdtemp(path.join(os.tmpdir(), 'module-migrations-'));
  await cp(path.join(FIXTURE, 'migrations'), dir, { recursive: true });
});
afterEach(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

async function migrate(): Promise<string[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await migrateToLatest(client, await readMigrationFiles(dir), {
      openLockConnection: async (): Promise<OwnConnection> => {
        const lock = new pg.Client({ connectionString: db.url });
        await lock.connect();
        return { query: lock.query.bind(lock) as OwnConnection['query'], close: () => lock.end() };
      },
      logger: pino({ level: 'silent' }),
      lockTimeoutMs: 2_000,
      statementTimeoutMs: 0,
      lockWaitTimeoutMs: 30_000,
    });
  } finally {
    await client.end();
  }
}

const history = async (): Promise<string[]> =>
  (await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).rows.map((row) => row.name);

describe('migration modules', () => {
  it('run (ESM and CommonJS) with their rows in schema_migrations, checksums included', async () => {
    expect(await migrate()).toEqual(['0001_create_items', '0002_seed_items', '0003_add_tags']);
    expect(await history()).toEqual(['0001_create_items', '0002_seed_items', '0003_add_tags']);
    expect((await db.query('SELECT name, tags FROM items ORDER BY id')).rows).toEqual([
      { name: 'first', tags: ['seeded'] },
      { name: 'second', tags: ['seeded'] },
    ]);
    expect(await db.scalar("SELECT count(*)::int FROM schema_migrations WHERE checksum ~ '^[0-9a-f]{64}$'")).toBe(3);
    expect(await migrate()).toEqual([]);
  });

  it('failing halfway leaves nothing of it and no history row', async () => {
    await cp(path.join(FIXTURE, 'failing'), dir, { recursive: true });
    await expect(migrate()).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_FAILED',
      message: expect.stringMatching(/^Migration 0004_fails_halfway failed: relation "no_such_table" does not exist \(SQLSTATE 42P01\)\. Nothing of it was applied\.$/),
    });
    expect(await history()).toEqual(['0001_create_items', '0002_seed_items', '0003_add_tags']);
    expect(await db.scalar("SELECT to_regclass('labels')")).toBeNull();
    expect(await db.advisoryLocks()).toBe(0);
  });

  it('an applied module whose file changed stops the run', async () => {
    await migrate();
    await writeFile(path.join(dir, '0002_seed_items.cjs'), 'exports.up = async ({ context }) => { await context.query("SELECT 1"); };');
    await expect(migrate()).rejects.toMatchObject({ code: 'SUP_ERR_CHECKSUM_MISMATCH' });
  });

  it('.ts runs where Node strips types, and says what is needed elsewhere', async () => {
    await writeFile(
      path.join(dir, '0004_typed.ts'),
      "export async function up({ context }: { context: import('pg').ClientBase }): Promise<void> {\n  await context.query('CREATE TABLE typed (id int)');\n}\n",
    );
    if (nodeStripsTypes()) {
      expect(await migrate()).toContain('0004_typed');
      return;
    }
    await expect(migrate()).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_INVALID',
      message: expect.stringContaining(`0004_typed.ts: this Node (${process.version}) cannot run TypeScript files`),
      hint: expect.stringContaining('Node 22.18'),
    });
    // Refused before anything ran.
    expect(await history()).toEqual([]);
  });
});
