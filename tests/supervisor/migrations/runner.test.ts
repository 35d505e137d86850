import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_ID } from '../../../supervisor/migrations/advisory-lock.js';
import { readMigrationFiles } from '../../../supervisor/migrations/files.js';
import { applyPending, baselineTo, migrateToLatest, revertMigrations, withMigrationLock } from '../../../supervisor/migrations/runner.js';
import { createTestDatabase, openOwnConnection, type TestDatabase } from '../../helpers/database.js';
import { applyMigrations, MIGRATIONS_DIR } from '../../helpers/migrate.js';

const SCHEMA_DUMP = fileURLToPath(new URL('../../fixtures/schema-dump.sql', import.meta.url));

const silent = pino({ level: 'silent' });
let db: TestDatabase;
let dir: string;

beforeEach(async () => {
  db = await createTestDatabase('migrator');
  dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
});
afterEach(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

async function migrate(options: { lockWaitTimeoutMs?: number; logger?: typeof silent } = {}): Promise<string[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await migrateToLatest(client, await readMigrationFiles(dir), {
      openLockConnection: () => openOwnConnection(db.url),
      logger: options.logger ?? silent,
      lockTimeoutMs: 2_000,
      statementTimeoutMs: 0,
      lockWaitTimeoutMs: options.lockWaitTimeoutMs ?? 30_000,
    });
  } finally {
    await client.end();
  }
}

describe('the migrator\'s log', () => {
  it('names each migration under `migration` (or `migrations`), leaving `name` to the logger', async () => {
    for (const name of ['0001_first', '0002_second', '0003_third']) {
      await writeFile(path.join(dir, `${name}.sql`), `-- migrate:up\nCREATE TABLE t_${name} (id int);\n-- migrate:down\nDROP TABLE t_${name};\n`);
    }
    const lines: string[] = [];
    // Like the supervisor's root logger: `name` is a base field of every line.
    const logger = pino({ base: { name: 'supervisor' } }, { write: (line: string) => void lines.push(line) });
    const options = { logger, lockTimeoutMs: 2_000, statementTimeoutMs: 0, lockWaitTimeoutMs: 30_000, openLockConnection: () => openOwnConnection(db.url) };
    const files = await readMigrationFiles(dir);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await withMigrationLock(client, options, async () => {
        await baselineTo(client, files, '0001_first', logger);
        await applyPending(client, files, options);
        await revertMigrations(client, files, { step: 1 }, options);
      });
    } finally {
      await client.end();
    }

    // A line with two `name` keys reads as whichever comes last: one per line.
    expect(lines.filter((line) => line.match(/"name":/g)?.length !== 1)).toEqual([]);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.event !== 'lock_acquired');
    expect(entries.map(({ event, name, migration, migrations }) => ({ event, name, migration, migrations }))).toEqual([
      { event: 'baselined', name: 'supervisor', migration: undefined, migrations: ['0001_first'] },
      { event: 'migrated', name: 'supervisor', migration: '0002_second', migrations: undefined },
      { event: 'migrated', name: 'supervisor', migration: '0003_third', migrations: undefined },
      { event: 'reverted', name: 'supervisor', migration: '0003_third', migrations: undefined },
    ]);
  });
});

describe('migrateToLatest', () => {
  it('applies the project migrations once and records each with its checksum', async () => {
    const applied = await applyMigrations(db.url, MIGRATIONS_DIR);
    expect(applied.length).toBeGreaterThanOrEqual(3);
    const { rows } = await db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations ORDER BY name');
    expect(rows.map((row) => row.name)).toEqual(applied);
    expect(rows.every((row) => /^[0-9a-f]{64}$/.test(row.checksum))).toBe(true);
    expect(await applyMigrations(db.url, MIGRATIONS_DIR)).toEqual([]);
  });

  it('rolls back a failing multi-statement migration completely and keeps the earlier ones', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    await writeFile(
      path.join(dir, '0002_broken.sql'),
      '-- migrate:up\nCREATE TABLE second (id int);\nINSERT INTO second VALUES (1);\nSELECT * FROM no_such_table;\n',
    );
    await expect(migrate()).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_FAILED',
      message: expect.stringMatching(/0002_broken failed at line 4 of 0002_broken\.sql: .*no_such_table/),
    });
    const { rows } = await db.query('SELECT name FROM schema_migrations');
    expect(rows).toEqual([{ name: '0001_first' }]);
    expect(await db.scalar("SELECT to_regclass('second') AS t")).toBeNull();
    expect(await db.advisoryLocks()).toBe(0);
  });

  it('refuses an applied migration whose file changed, naming it', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    await migrate();
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id bigint);');
    await expect(migrate()).rejects.toMatchObject({ code: 'SUP_ERR_CHECKSUM_MISMATCH', message: expect.stringContaining('0001_first') });
  });

  it('refuses a new file that sorts before the last applied migration, naming both, before running anything', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    await writeFile(path.join(dir, '0003_third.sql'), 'CREATE TABLE third (id int);');
    expect(await migrate()).toEqual(['0001_first', '0003_third']);
    // A branch merged late brings 0002; 0004 is in order but must not run either.
    await writeFile(path.join(dir, '0002_second.sql'), 'CREATE TABLE second (id int);');
    await writeFile(path.join(dir, '0004_fourth.sql'), 'CREATE TABLE fourth (id int);');

    await expect(migrate()).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_OUT_OF_ORDER',
      message: 'New migration 0002_second.sql sorts before 0003_third, the last applied migration: it would run out of order.',
      hint: expect.stringMatching(/^Rename it to sort after 0003_third/),
    });
    const { rows } = await db.query('SELECT name FROM schema_migrations ORDER BY name');
    expect(rows).toEqual([{ name: '0001_first' }, { name: '0003_third' }]);
    expect(await db.scalar("SELECT to_regclass('second')::text || to_regclass('fourth')::text AS t")).toBeNull();
    expect(await db.advisoryLocks()).toBe(0);

    await rm(path.join(dir, '0002_second.sql'));
    await writeFile(path.join(dir, '0005_second.sql'), 'CREATE TABLE second (id int);');
    expect(await migrate()).toEqual(['0004_fourth', '0005_second']);
  });

  it('runs a no-transaction migration outside a transaction, and says so in the log', async () => {
    await writeFile(path.join(dir, '0001_table.sql'), 'CREATE TABLE items (id int);');
    await writeFile(path.join(dir, '0002_index.sql'), '-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY items_id_idx ON items (id);');
    const lines: string[] = [];
    expect(await migrate({ logger: pino({}, { write: (line: string) => void lines.push(line) }) })).toEqual(['0001_table', '0002_index']);
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.event === 'migration_no_transaction')).toEqual([
      expect.objectContaining({ level: 40, migration: '0002_index' }),
    ]);
    expect(await db.scalar("SELECT to_regclass('items_id_idx') AS t")).toBe('items_id_idx');
  });

  it('waits for the lock held by another session and gives up at its deadline', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_ID]);
    try {
      await expect(migrate({ lockWaitTimeoutMs: 1_000 })).rejects.toMatchObject({ code: 'SUP_ERR_LOCK_TIMEOUT' });
      const waiting = migrate();
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_ID]);
      expect(await waiting).toEqual(['0001_first']);
    } finally {
      await holder.end();
    }
  });

  it('applies each migration exactly once when several processes migrate at the same time', async () => {
    for (let i = 1; i <= 5; i++) await writeFile(path.join(dir, `000${i}_m${i}.sql`), `CREATE TABLE t${i} (id int);`);
    const results = await Promise.all(Array.from({ length: 4 }, () => migrate()));
    expect(results.flat().sort()).toEqual(['0001_m1', '0002_m2', '0003_m3', '0004_m4', '0005_m5']);
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
    expect(rows[0]?.n).toBe(5);
  });
});

describe('SQL that cannot keep the promise, and schema dumps', () => {
  it('refuses a transactional migration with BEGIN/COMMIT before anything runs, pointing at the line and at -- migrate:no-transaction', async () => {
    await writeFile(path.join(dir, '0001_ok.sql'), 'CREATE TABLE ok (id int);');
    await writeFile(
      path.join(dir, '0002_converted.sql'),
      "-- migrate:up\nSTART TRANSACTION;\nCREATE TABLE half (note text DEFAULT 'COMMIT; is only text here');\nCOMMIT;\n",
    );
    await expect(migrate()).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_INVALID',
      message: expect.stringMatching(/0002_converted\.sql line 2: START TRANSACTION; 0002_converted\.sql line 4: COMMIT/),
      hint: expect.stringContaining('-- migrate:no-transaction'),
    });
    expect(await db.scalar("SELECT to_regclass('ok')")).toBeNull();
    await writeFile(path.join(dir, '0002_converted.sql'), "-- migrate:no-transaction\n-- migrate:up\nSTART TRANSACTION;\nCREATE TABLE half (id int);\nCOMMIT;\n");
    expect(await migrate()).toEqual(['0001_ok', '0002_converted']);
  });

  it('runs pg_dump --schema-only output as a first migration: its session settings (search_path emptied) reach neither the history row nor the next migration', async () => {
    // Real `pg_dump --schema-only --no-owner` output (pg_dump 15.20, which brackets it with psql-only \restrict
    // lines as 17.6+ does), kept as a fixture: a machine that runs the tests need not have pg_dump.
    const dump = await readFile(SCHEMA_DUMP, 'utf8');
    expect(dump).toContain("set_config('search_path', '', false)");
    expect(dump).toMatch(/^\\restrict /m);
    await writeFile(path.join(dir, '0001_baseline.sql'), dump);
    // The next migration sees the session's own settings, not the dump's.
    await writeFile(
      path.join(dir, '0002_more.sql'),
      "CREATE TABLE labels (id int);\nDO $$ BEGIN IF current_setting('check_function_bodies') <> 'on' THEN RAISE 'dump settings leaked'; END IF; END $$;",
    );
    expect(await migrate()).toEqual(['0001_baseline', '0002_more']);
    expect(await db.scalar('SELECT to_regclass(\'public."Messages"\') IS NOT NULL')).toBe(true);
    expect(await db.scalar("SELECT to_regclass('public.labels') IS NOT NULL")).toBe(true);
    expect(await db.scalar('SELECT count(*)::int FROM schema_migrations')).toBe(2);
    await writeFile(path.join(dir, '0003_meta.sql'), '\\connect other\nSELECT 1;');
    await expect(readMigrationFiles(dir)).rejects.toThrow(/0003_meta\.sql: line 1 has the psql meta-command `\\connect`/);
  });
});
