// The supervisor's start against migration histories that do not match the files: a real process, a real Postgres.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { applyMigrations } from '../helpers/migrate.js';
import { startSupervisor, type SupervisorProcess } from '../helpers/supervisor-process.js';

let db: TestDatabase;
let dir: string;
const running: SupervisorProcess[] = [];

beforeEach(async () => {
  db = await createTestDatabase('prepare_schema');
  dir = await mkdtemp(path.join(os.tmpdir(), 'prepare-schema-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((sup) => sup.kill()));
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<SupervisorProcess> {
  const sup = await startSupervisor({ env: { DATABASE_URL: db.url, MIGRATIONS_DIR: dir, ...env } });
  running.push(sup);
  return sup;
}

async function history(): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  return rows.map((row) => row.name);
}

describe('supervisor start: an applied migration without a file', () => {
  it('warns with the migration under `migration` and starts (an older release on a newer schema)', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    await writeFile(path.join(dir, '0002_newer.sql'), 'CREATE TABLE newer (id int);');
    await applyMigrations(db.url, dir);
    await rm(path.join(dir, '0002_newer.sql'));

    const sup = await start({ REQUIRED_TABLES: 'first' });
    await sup.waitForPhase('ready');
    expect(sup.entries().filter((entry) => entry.event === 'migration_without_file')).toEqual([
      expect.objectContaining({ level: 40, name: 'supervisor', migration: '0002_newer', msg: 'applied migration 0002_newer has no file here' }),
    ]);
  });
});

describe('supervisor start: the order of migrations', () => {
  beforeEach(async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    await writeFile(path.join(dir, '0003_third.sql'), 'CREATE TABLE third (id int);');
    await applyMigrations(db.url, dir);
    await writeFile(path.join(dir, '0002_second.sql'), 'CREATE TABLE second (id int);');
    await writeFile(path.join(dir, '0004_fourth.sql'), 'CREATE TABLE fourth (id int);');
  });

  it('refuses a new file that sorts before the last applied migration: exit 1, nothing run, no lock taken', async () => {
    const sup = await start();
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({
      code: 'SUP_ERR_MIGRATION_OUT_OF_ORDER',
      msg: expect.stringContaining('0002_second.sql sorts before 0003_third, the last applied migration'),
      hint: expect.stringContaining('Rename it to sort after 0003_third'),
    });
    expect(sup.entries().filter((entry) => ['lock_acquired', 'migrated'].includes(String(entry.event)))).toEqual([]);
    expect(await history()).toEqual(['0001_first', '0003_third']);
    expect(await db.scalar("SELECT to_regclass('second')::text || to_regclass('fourth')::text")).toBeNull();
  });

  it('refuses it as well when it only verifies (MIGRATE_ON_START=false)', async () => {
    const sup = await start({ MIGRATE_ON_START: 'false' });
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({ code: 'SUP_ERR_MIGRATION_OUT_OF_ORDER' });
  });
});
