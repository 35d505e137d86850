// The migration lock against a real Postgres: waiting while another session holds it, the deadline, release,
// and nothing left behind whatever ends the connection that holds it.
import { Writable } from 'node:stream';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OwnConnection, Queryable } from '../../../supervisor/database/connection.js';
import { type AdvisoryLockOptions, withAdvisoryLock } from '../../../supervisor/migrations/advisory-lock.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually, within } from '../../helpers/supervisor-process.js';

const LOCK_ID = '42424242';
let db: TestDatabase;
let holder: pg.Client;

beforeEach(async () => {
  db = await createTestDatabase('advisory_lock');
  // Another instance holding the lock (a session lock: advisory locks of both levels share one key space).
  holder = new pg.Client({ connectionString: db.url });
  await holder.connect();
  await holder.query('SELECT pg_advisory_lock($1::bigint)', [LOCK_ID]);
});
afterEach(async () => {
  await holder.end();
  await db.drop();
});

function capturingLogger(): { logger: Logger; entries: Record<string, unknown>[] } {
  const entries: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      entries.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), entries };
}

// Opens the waiter's lock connection (a real one), noting when each attempt to take the lock was made, and
// when each connection has ended (`ended[i]` for the connection of `pids[i]`).
function lockConnections(): { open: () => Promise<OwnConnection>; attemptsAt: number[]; pids: number[]; ended: Promise<unknown>[] } {
  const attemptsAt: number[] = [];
  const pids: number[] = [];
  const ended: Promise<unknown>[] = [];
  const open = async (): Promise<OwnConnection> => {
    const client = new pg.Client({ connectionString: db.url });
    client.on('error', () => {}); // the server's notice when a test ends the session
    await client.connect();
    ended.push(new Promise((resolve) => client.once('end', resolve)));
    pids.push((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
    const query = ((...args: Parameters<Queryable['query']>) => {
      if (String(args[0]).includes('pg_try_advisory_xact_lock')) attemptsAt.push(performance.now());
      return (client.query as (...a: unknown[]) => unknown).apply(client, args);
    }) as Queryable['query'];
    return { query, close: () => client.end() };
  };
  return { open, attemptsAt, pids, ended };
}

function options(logger: Logger, overrides: Partial<AdvisoryLockOptions> = {}): AdvisoryLockOptions {
  return { lockId: LOCK_ID, timeoutMs: 10_000, pollMs: 100, logger, ...overrides };
}

describe('withAdvisoryLock', () => {
  it('tries again every pollMs or so, jittered, logs lock_waiting once, and gives up at the deadline', async () => {
    const { logger, entries } = capturingLogger();
    const { open, attemptsAt } = lockConnections();
    let ran = false;
    const startedAt = performance.now();

    await expect(withAdvisoryLock({ kind: 'transaction', openConnection: open }, options(logger, { timeoutMs: 1_500, pollMs: 150 }), async () => (ran = true))).rejects.toMatchObject({
      code: 'SUP_ERR_LOCK_TIMEOUT',
      message: 'Another instance held the migration lock for more than 1500 ms',
      hint: 'Check for a stuck migration (pg_stat_activity) or raise MIGRATION_LOCK_WAIT_TIMEOUT_MS.',
    });
    const elapsed = performance.now() - startedAt;
    expect(ran).toBe(false);
    expect(elapsed).toBeGreaterThanOrEqual(1_450);

    // 1.5 s with waits of 100–200 ms (plus each query's time); the last wait is cut short by the deadline.
    expect(attemptsAt.length).toBeGreaterThanOrEqual(5);
    expect(attemptsAt.length).toBeLessThanOrEqual(21);
    // Jittered waits: the gaps differ. (Not bounded to the millisecond: on a busy machine one query's late start
    // makes the next gap short.)
    const gaps = attemptsAt.slice(1, -1).map((at, index) => at - attemptsAt[index]!);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(5);

    expect(entries.filter((entry) => entry.event === 'lock_waiting')).toEqual([expect.objectContaining({ lockId: LOCK_ID })]);
    expect(entries.some((entry) => entry.event === 'lock_acquired')).toBe(false);
    expect(await db.advisoryLocks()).toBe(1);
  });

  it('takes the lock as soon as the other session lets it go, holds it in an open transaction while fn runs, and ends it after', async () => {
    const { logger, entries } = capturingLogger();
    const { open, pids, attemptsAt } = lockConnections();
    const running = withAdvisoryLock({ kind: 'transaction', openConnection: open }, options(logger), async () => {
      // Held by the lock connection, in a transaction that is open while the work runs elsewhere.
      const { rows } = await holder.query<{ pid: number; state: string }>(
        "SELECT l.pid, a.state FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.objid = $1::bigint AND l.granted",
        [LOCK_ID],
      );
      return rows;
    });
    // Waiting: it has tried twice while the other session holds the lock.
    await eventually(() => (attemptsAt.length >= 2 ? true : undefined), 10_000, 'a second attempt at the lock');
    const unlockedAt = performance.now();
    await holder.query('SELECT pg_advisory_unlock($1::bigint)', [LOCK_ID]);
    const heldWhileRunning = await running;

    expect(heldWhileRunning).toEqual([{ pid: pids[0], state: 'idle in transaction' }]);
    expect(entries.map((entry) => entry.event)).toEqual(['lock_waiting', 'lock_acquired', 'lock_released']);
    expect(entries[1]).toMatchObject({ lockId: LOCK_ID, waitedMs: expect.any(Number) });
    // Taken by an attempt after the other session let go, and soon after (pollMs is 100 ms).
    expect(attemptsAt.at(-1)).toBeGreaterThan(unlockedAt);
    expect(attemptsAt.at(-1)! - unlockedAt).toBeLessThan(1_000);
    expect(await db.advisoryLocks()).toBe(0);
  });

  it('ends the lock when fn fails, and when the connection that holds it is killed', async () => {
    await holder.query('SELECT pg_advisory_unlock($1::bigint)', [LOCK_ID]);
    const { logger, entries } = capturingLogger();
    const { open, pids, ended } = lockConnections();
    await expect(withAdvisoryLock({ kind: 'transaction', openConnection: open }, options(logger), () => Promise.reject(new Error('migration failed')))).rejects.toThrow('migration failed');
    expect(await db.advisoryLocks()).toBe(0);

    // The process that holds the lock dies mid-way: its connection goes, and the lock with it.
    const killed = withAdvisoryLock({ kind: 'transaction', openConnection: open }, options(logger), async () => {
      await holder.query('SELECT pg_terminate_backend($1)', [pids[1]]);
      await within(ended[1]!, 10_000, 'the end of the killed connection');
    });
    await killed;
    expect(await db.advisoryLocks()).toBe(0);
    expect(entries.filter((entry) => entry.event === 'lock_release_failed')).toEqual([expect.objectContaining({ level: 40 })]);
  });

  it('held by the migrating session itself (a run with a no-transaction migration): taken, then let go', async () => {
    const { logger, entries } = capturingLogger();
    const own = new pg.Client({ connectionString: db.url });
    await own.connect();
    try {
      const pid = (await own.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      const running = withAdvisoryLock({ kind: 'session', client: own }, options(logger), async () => {
        const { rows } = await holder.query<{ pid: number }>(
          "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = $1::bigint AND granted",
          [LOCK_ID],
        );
        return rows.map((row) => row.pid);
      });
      await eventually(() => (entries.some((entry) => entry.event === 'lock_waiting') ? true : undefined), 10_000, 'lock_waiting');
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [LOCK_ID]);
      expect(await running).toEqual([pid]);
      expect(entries.map((entry) => entry.event)).toEqual(['lock_waiting', 'lock_acquired', 'lock_released']);
      expect(await db.advisoryLocks()).toBe(0);
    } finally {
      await own.end();
    }
  });

  it('reports a failed query at once instead of trying again until the deadline', async () => {
    const { logger } = capturingLogger();
    const { open, pids, attemptsAt } = lockConnections();
    const acquiring = withAdvisoryLock({ kind: 'transaction', openConnection: open }, options(logger), async () => undefined);
    await eventually(() => (attemptsAt.length >= 1 ? true : undefined), 10_000, 'a first attempt at the lock');
    const startedAt = performance.now();
    await holder.query('SELECT pg_terminate_backend($1)', [pids[0]]);
    await expect(acquiring).rejects.toThrow(/terminat|not queryable/i);
    expect(performance.now() - startedAt).toBeLessThan(1_500);
  });
});
