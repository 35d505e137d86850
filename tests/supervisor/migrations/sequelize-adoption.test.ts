// Adopting sequelize-cli's history: the map file, the plan, and the supervisor's start on such a database.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseMigration } from '../../../supervisor/migrations/files.js';
import type { AppliedMigration, MigrationFile } from '../../../supervisor/migrations/migration.js';
import { planAdoption, readSequelizeMap } from '../../../supervisor/migrations/sequelize-adoption.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { ALL_RECORDED, prepareSequelizeDatabase, writeSwitchingMigrations } from '../../helpers/sequelize.js';
import { startSupervisor, type SupervisorProcess } from '../../helpers/supervisor-process.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sequelize-adoption-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (name: string): MigrationFile => parseMigration(`${name}.sql`, `CREATE TABLE t_${name.slice(0, 4)} (id int);`);
const applied = (name: string): AppliedMigration => ({ name, checksum: file(name).checksum, appliedAt: new Date(), durationMs: 1 });
const FILES = ['0001_a', '0002_b', '0003_c'].map(file);
const MAP = new Map([
  ['0001_a', ['1-a.js']],
  ['0002_b', ['2-b.js', '3-b2.js']],
]);

describe('readSequelizeMap', () => {
  it('reads migration name → sequelize-cli file names; no file means no map', async () => {
    expect(await readSequelizeMap(dir)).toBeUndefined();
    await writeFile(path.join(dir, 'sequelize-map.json'), JSON.stringify({ '0001_a': ['1-a.js'], '0002_b': ['2-b.js', '3-b2.js'] }));
    expect(await readSequelizeMap(dir)).toEqual(MAP);
  });

  it.each([
    ['not JSON', '{ "0001_a": [', /Cannot use .*sequelize-map\.json/],
    ['not an object', '["1-a.js"]', /must hold one JSON object/],
    ['a value that is not a list', '{"0001_a": "1-a.js"}', /"0001_a" must be a non-empty list/],
    ['an empty list', '{"0001_a": []}', /"0001_a" must be a non-empty list/],
    ['a name claimed twice', '{"0001_a": ["1-a.js"], "0002_b": ["1-a.js"]}', /1-a\.js is listed under both 0001_a and 0002_b/],
  ])('refuses %s with SUP_ERR_ADOPTION_INVALID', async (_case, content, message) => {
    await writeFile(path.join(dir, 'sequelize-map.json'), content);
    await expect(readSequelizeMap(dir)).rejects.toMatchObject({ code: 'SUP_ERR_ADOPTION_INVALID', message: expect.stringMatching(message) });
  });
});

describe('planAdoption', () => {
  it('adopts each pending migration whose sequelize-cli migrations are all recorded, and lists the unmapped', () => {
    const plan = planAdoption(FILES, [], new Set(['1-a.js', '2-b.js', '3-b2.js', '9-extra.js']), MAP);
    expect(plan.adopt.map((f) => f.name)).toEqual(['0001_a', '0002_b']);
    expect(plan.unmapped).toEqual(['9-extra.js']);
  });

  it('skips what is already applied, so running it again adopts nothing', () => {
    const plan = planAdoption(FILES, [applied('0001_a'), applied('0002_b')], new Set(['1-a.js', '2-b.js', '3-b2.js']), MAP);
    expect(plan.adopt).toEqual([]);
  });

  it('adopts a prefix: what SequelizeMeta does not record stays pending', () => {
    expect(planAdoption(FILES, [], new Set(['1-a.js']), MAP).adopt.map((f) => f.name)).toEqual(['0001_a']);
  });

  it('refuses a partly recorded migration, one that follows a migration still to run, and a map naming no file', () => {
    expect(() => planAdoption(FILES, [], new Set(['1-a.js', '2-b.js']), MAP)).toThrow(
      /SequelizeMeta records 2-b\.js but not 3-b2\.js, which 0002_b also replaces/,
    );
    expect(() => planAdoption(FILES, [], new Set(['2-b.js', '3-b2.js']), MAP)).toThrow(
      /accounts for 0002_b, but not for 0001_a, which comes before it/,
    );
    expect(() => planAdoption(FILES, [], new Set(), new Map([['0009_gone', ['9.js']]]))).toThrow(/names migrations that have no file: 0009_gone/);
  });
});

describe('supervisor start on a database migrated by sequelize-cli', () => {
  let db: TestDatabase;
  const running: SupervisorProcess[] = [];
  beforeEach(async () => {
    db = await createTestDatabase('sequelize');
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((sup) => sup.kill()));
    await db.drop();
  });
  async function start(): Promise<SupervisorProcess> {
    const sup = await startSupervisor({ env: { DATABASE_URL: db.url, MIGRATIONS_DIR: dir } });
    running.push(sup);
    return sup;
  }

  it('adopts the history under the lock, runs only the new migration, and keeps the data', async () => {
    await writeSwitchingMigrations(dir);
    await prepareSequelizeDatabase(db, ALL_RECORDED);

    const sup = await start();
    await sup.waitForPhase('ready');
    const events = sup.entries().filter((entry) => typeof entry.event === 'string' && entry.module === 'migrator');
    expect(events.map((entry) => entry.event)).toEqual(['lock_acquired', 'sequelize_unmapped', 'sequelize_adopted', 'migrated']);
    expect(events.find((entry) => entry.event === 'sequelize_unmapped')).toMatchObject({ entries: ['20240201090000-seed-demo-data.js'] });
    expect(events.find((entry) => entry.event === 'sequelize_adopted')).toMatchObject({
      migrations: ['0001_create_messages', '0002_create_activities', '0003_create_kanban'],
    });
    expect(events.find((entry) => entry.event === 'migrated')).toMatchObject({ name: 'supervisor', migration: '0004_add_pinned' });
    expect(await db.scalar('SELECT body FROM messages WHERE NOT pinned')).toBe('written before the switch');
    await sup.kill();

    // Adopted once: the next start takes the fast path, without the lock.
    const again = await start();
    await again.waitForPhase('ready');
    expect(again.entries().some((entry) => entry.event === 'lock_acquired' || entry.event === 'sequelize_adopted')).toBe(false);
  });

  it('without a map, stops before running anything: SequelizeMeta is named, not the first migration blamed', async () => {
    await writeSwitchingMigrations(dir, null);
    await prepareSequelizeDatabase(db, ALL_RECORDED);
    const sup = await start();
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({
      code: 'SUP_ERR_FOREIGN_HISTORY',
      msg: expect.stringContaining('its history table SequelizeMeta holds'),
    });
    expect(await db.scalar("SELECT to_regclass('schema_migrations')::text")).toBeNull();
  });
});
