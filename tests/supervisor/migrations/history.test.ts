// The history tables on a real Postgres: schema_migrations and SequelizeMeta as they are read and written, in the
// order the runner relies on, and a batch of rows recorded all or none.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  deleteApplied,
  ensureHistoryTable,
  ensureHistoryTableOf,
  historyLabelOf,
  historyTableName,
  readHistory,
  recordApplied,
  recordWithoutRunning,
} from '../../../supervisor/migrations/history.js';
import { parseMigration } from '../../../supervisor/migrations/files.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

let db: TestDatabase;
let client: pg.Client;

beforeEach(async () => {
  db = await createTestDatabase('history');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterEach(async () => {
  await client.end();
  await db.drop();
});

const names = async (order: 'name' | 'applied' = 'name', kind: 'sql' | 'sequelize' = 'sql'): Promise<string[]> =>
  (await readHistory(client, order, kind)).map((row) => row.name);

describe('schema_migrations', () => {
  it('reads as empty on a fresh database, for either table', async () => {
    expect(await readHistory(client, 'name', 'sql')).toEqual([]);
    expect(await readHistory(client, 'name', 'sequelize')).toEqual([]);
  });

  it('records a migration with its checksum and duration, and reads it back', async () => {
    await ensureHistoryTable(client);
    await recordApplied(client, { name: '0001_first', checksum: 'abc' }, 12.6);
    const [row] = await readHistory(client);
    expect(row).toMatchObject({ name: '0001_first', checksum: 'abc', durationMs: 13 });
    expect(row?.appliedAt).toBeInstanceOf(Date);
  });

  it('reads by name as JavaScript sorts (not in the database collation), or as applied, rows of one time by name', async () => {
    await ensureHistoryTable(client);
    // A language collation, as databases created with en_US.UTF-8 have (this server's default is C).
    const collation = await db.scalar<string>("SELECT collname FROM pg_collation WHERE collname IN ('en-x-icu', 'en_US.utf8') ORDER BY collname LIMIT 1");
    expect(collation).toBeDefined();
    await client.query(`ALTER TABLE schema_migrations ALTER COLUMN name TYPE text COLLATE "${collation}"`);
    await client.query(
      `INSERT INTO schema_migrations (name, checksum, applied_at) VALUES
         ('b_second', 'x', '2024-01-02'), ('B_first', 'x', '2024-01-03'), ('a_third', 'x', '2024-01-01'), ('a_fourth', 'x', '2024-01-03')`,
    );
    expect(await names('name')).toEqual(['B_first', 'a_fourth', 'a_third', 'b_second']);
    expect(await names('applied')).toEqual(['a_third', 'b_second', 'B_first', 'a_fourth']);
  });

  it('deletes a reverted migration', async () => {
    await ensureHistoryTable(client);
    await recordApplied(client, { name: '0001_first', checksum: 'a' }, 0);
    await recordApplied(client, { name: '0002_second', checksum: 'b' }, 0);
    await deleteApplied(client, '0002_second');
    expect(await names()).toEqual(['0001_first']);
  });

  it('is named with its schema before a migration runs, so that its row goes in after the migration emptied the search_path', async () => {
    expect(await historyTableName(client)).toBe('schema_migrations');
    await client.query('CREATE SCHEMA app; SET search_path TO app');
    await ensureHistoryTable(client);
    const table = await historyTableName(client);
    expect(table).toBe('app.schema_migrations');
    await client.query("SELECT set_config('search_path', '', false)"); // as pg_dump's output does
    await recordApplied(client, { name: '0001_first', checksum: 'a' }, 0, table);
    expect((await client.query('SELECT name FROM app.schema_migrations')).rows).toEqual([{ name: '0001_first' }]);
  });

  it('records a batch without running it all or none: one row that cannot go in leaves none', async () => {
    await ensureHistoryTable(client);
    await recordApplied(client, { name: '0002_second', checksum: 'b' }, 0);
    const batch = ['0001_first', '0002_second', '0003_third'].map((name) => parseMigration(`${name}.sql`, 'SELECT 1;'));
    await expect(recordWithoutRunning(client, batch)).rejects.toMatchObject({ code: '23505' });
    expect(await names()).toEqual(['0002_second']);
    await recordWithoutRunning(client, batch.filter((file) => file.name !== '0002_second'));
    expect(await names()).toEqual(['0001_first', '0002_second', '0003_third']);
  });
});

describe('SequelizeMeta', () => {
  it('is created as sequelize-cli creates it and read by name, file names with their extension', async () => {
    await ensureHistoryTableOf(client, 'sequelize');
    const { rows } = await client.query(
      "SELECT column_name, data_type, character_maximum_length FROM information_schema.columns WHERE table_name = 'SequelizeMeta'",
    );
    expect(rows).toEqual([{ column_name: 'name', data_type: 'character varying', character_maximum_length: 255 }]);
    await client.query(`INSERT INTO "SequelizeMeta" (name) VALUES ('20240102-b.js'), ('20240101-a.js')`);
    expect(await readHistory(client, 'name', 'sequelize')).toEqual([
      { name: '20240101-a.js', checksum: undefined, appliedAt: undefined, durationMs: undefined },
      { name: '20240102-b.js', checksum: undefined, appliedAt: undefined, durationMs: undefined },
    ]);
  });

  it('takes a batch recorded without running into SequelizeMeta, not schema_migrations', async () => {
    await ensureHistoryTableOf(client, 'sequelize');
    const batch = [parseMigration('20240101120000-a.sql', 'SELECT 1;')].map((file) => ({ ...file, name: '20240101120000-a.js' }));
    await recordWithoutRunning(client, batch, 'sequelize');
    expect(await names('name', 'sequelize')).toEqual(['20240101120000-a.js']);
    expect(await db.scalar("SELECT to_regclass('schema_migrations')")).toBeNull();
  });
});

describe('historyLabelOf', () => {
  it('names each kind\'s table as its users know it', () => {
    expect(historyLabelOf('sql')).toBe('schema_migrations');
    expect(historyLabelOf('module')).toBe('schema_migrations');
    expect(historyLabelOf('sequelize')).toBe('SequelizeMeta');
    expect(historyLabelOf('prisma')).toBe('_prisma_migrations');
    expect(historyLabelOf('knex')).toBe('knex_migrations');
    expect(historyLabelOf('node-pg-migrate')).toBe('pgmigrations');
  });
});
