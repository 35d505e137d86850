// The supervisor through a real PgBouncer in transaction mode (as with Supabase's or Neon's pooled URL):
// concurrent starts migrate exactly once, no advisory lock is ever left behind, whatever dies when, and a
// migration that needs a session of its own asks for DIRECT_URL.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../helpers/database.js';
import { findPgBouncer, startPgBouncer, type PgBouncer } from '../helpers/pgbouncer.js';
import { eventually, healthOf, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { errorsLogged, exitWithin, logged, useScenario } from './harness.js';

const scenario = useScenario('rel_pooler');
const pgbouncer = findPgBouncer('every test (the supervisor through a transaction pooler)');
let bouncer: PgBouncer;

// Runs only when a test runs, and every test here runs only with PgBouncer.
beforeAll(async () => {
  bouncer = await startPgBouncer(pgbouncer!, 'transaction');
});
afterAll(async () => {
  await bouncer?.stop();
});

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await scenario.tempDir();
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return dir;
}

const MIGRATIONS = {
  '0001_create_users.sql': 'CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL);',
  // Slow enough that the instances overlap while one of them holds the lock.
  '0002_seed_users.sql': "SELECT pg_sleep(0.5); INSERT INTO users (email) VALUES ('a@example.com');",
  '0003_create_orders.sql': 'CREATE TABLE orders (id serial PRIMARY KEY, user_id int REFERENCES users);',
};

async function readyOrExited(sup: SupervisorProcess): Promise<void> {
  await eventually(
    async () => {
      if (sup.process.exitCode !== null) throw new Error(`exited with ${sup.process.exitCode}:\n${sup.lines.slice(-10).join('\n')}`);
      return (await healthOf(sup.url).catch(() => undefined))?.status === 200 ? true : undefined;
    },
    90_000,
    'ready',
  );
}

async function stopAll(sups: readonly SupervisorProcess[]): Promise<void> {
  for (const sup of sups) sup.process.kill('SIGTERM');
  const exits = await Promise.all(sups.map((sup) => exitWithin(sup, 60_000)));
  expect(exits.map((exit) => exit.code)).toEqual(sups.map(() => 0));
}

async function expectNoLockLeft(db: TestDatabase): Promise<void> {
  // The pooler ends a server connection whose client left mid-transaction a moment later.
  await eventually(async () => ((await db.advisoryLocks()) === 0 ? true : undefined), 15_000, 'no advisory lock left');
}

describe.runIf(pgbouncer).each([
  ['through the pooler alone', false],
  ['with DIRECT_URL for the supervisor', true],
])('three supervisors starting at once, %s', (_label, withDirectUrl) => {
  it('all become ready, every migration runs once, no lock is left, and a later start with a new migration is not blocked', { timeout: 180_000 }, async () => {
    const db = await scenario.database();
    const dir = await migrationsDir(MIGRATIONS);
    const env = {
      DATABASE_URL: bouncer.url(db.name),
      DIRECT_URL: withDirectUrl ? db.url : undefined,
      MIGRATIONS_DIR: dir,
      REQUIRED_TABLES: 'users,orders',
    };
    const sups = await Promise.all([1, 2, 3].map(() => scenario.supervisor(env)));
    await Promise.all(sups.map(readyOrExited));

    const history = await db.query<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name ORDER BY name');
    expect(history.rows).toEqual(Object.keys(MIGRATIONS).map((file) => ({ name: file.replace('.sql', ''), n: 1 })));
    expect(await db.scalar('SELECT count(*)::int FROM users')).toBe(1);
    expect(sups.flatMap((sup) => logged(sup, 'migrated'))).toHaveLength(3);
    expect(sups.flatMap((sup) => errorsLogged(sup))).toEqual([]);
    await stopAll(sups);
    await expectNoLockLeft(db);

    await writeFile(path.join(dir, '0004_add_total.sql'), 'ALTER TABLE orders ADD COLUMN total numeric NOT NULL DEFAULT 0;');
    const later = await scenario.supervisor({ ...env, MIGRATION_LOCK_WAIT_TIMEOUT_MS: '10000' });
    await readyOrExited(later);
    expect(logged(later, 'migrated').map((entry) => entry.migration)).toEqual(['0004_add_total']);
    await stopAll([later]);
    await expectNoLockLeft(db);
  });
});

describe.runIf(pgbouncer)('a supervisor killed while it holds the lock through the pooler', () => {
  it('leaves no lock behind: the next start migrates at once', { timeout: 120_000 }, async () => {
    const db = await scenario.database();
    const dir = await migrationsDir({ '0001_slow.sql': 'SELECT pg_sleep(30); CREATE TABLE slow (id int);' });
    const env = { DATABASE_URL: bouncer.url(db.name), MIGRATIONS_DIR: dir };
    const doomed = await scenario.supervisor(env);
    await doomed.waitForLog((entry) => entry.event === 'lock_acquired');
    await doomed.kill(); // SIGKILL: no chance to let anything go
    await expectNoLockLeft(db);

    await writeFile(path.join(dir, '0001_slow.sql'), 'CREATE TABLE slow (id int);');
    const next = await scenario.supervisor({ ...env, MIGRATION_LOCK_WAIT_TIMEOUT_MS: '10000' });
    await readyOrExited(next);
    expect(logged(next, 'lock_waiting')).toEqual([]);
    await stopAll([next]);
  });
});

describe.runIf(pgbouncer)('a no-transaction migration through a transaction pooler', () => {
  const files = {
    '0001_create_items.sql': 'CREATE TABLE items (id int);',
    '0002_index_items.sql': '-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY items_id_idx ON items (id);',
  };

  it('is refused before anything runs, naming DIRECT_URL', { timeout: 60_000 }, async () => {
    const db = await scenario.database();
    const sup = await scenario.supervisor({ DATABASE_URL: bouncer.url(db.name), MIGRATIONS_DIR: await migrationsDir(files) });
    const exit = await exitWithin(sup, 30_000);
    expect(exit.code).toBe(1);
    const failed = logged(sup, 'failed')[0];
    expect(failed).toMatchObject({ code: 'SUP_ERR_DIRECT_URL_REQUIRED' });
    expect(String(failed?.hint)).toContain('DIRECT_URL');
    expect(await db.scalar("SELECT to_regclass('items')")).toBeNull();
    await expectNoLockLeft(db);
  });

  it('runs with DIRECT_URL, while the app keeps the pooled URL', { timeout: 60_000 }, async () => {
    const db = await scenario.database();
    const sup = await scenario.supervisor({
      DATABASE_URL: bouncer.url(db.name),
      DIRECT_URL: db.url,
      MIGRATIONS_DIR: await migrationsDir(files),
    });
    await readyOrExited(sup);
    expect(await db.scalar("SELECT to_regclass('items_id_idx')::text")).toBe('items_id_idx');
    await stopAll([sup]);
    await expectNoLockLeft(db);
  });
});
