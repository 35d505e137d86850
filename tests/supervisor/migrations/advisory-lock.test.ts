// The migration lock against a real Postgres: waiting while another session holds it, the deadline, release.
import { Writable } from 'node:stream';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireAdvisoryLock, releaseAdvisoryLock } from '../../../supervisor/migrations/advisory-lock.js';
import type { Queryable } from '../../../supervisor/database/connection.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';

const LOCK_ID = '42424242';
let db: TestDatabase;
let holder: pg.Client;
let waiter: pg.Client;

beforeEach(async () => {
  db = await createTestDatabase('advisory_lock');
  holder = new pg.Client({ connectionString: db.url });
  waiter = new pg.Client({ connectionString: db.url });
  await Promise.all([holder.connect(), waiter.connect()]);
  await holder.query('SELECT pg_advisory_lock($1::bigint)', [LOCK_ID]);
});
afterEach(async () => {
  await Promise.all([holder.end(), waiter.end()]);
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

// The waiter's connection, noting when each attempt to take the lock was made.
function timedAttempts(client: Queryable): { client: Queryable; attemptsAt: number[] } {
  const attemptsAt: number[] = [];
  const query = ((...args: Parameters<Queryable['query']>) => {
    if (String(args[0]).includes('pg_try_advisory_lock')) attemptsAt.push(performance.now());
    return (client.query as (...a: unknown[]) => unknown)(...args);
  }) as Queryable['query'];
  return { client: { query }, attemptsAt };
}

describe('acquireAdvisoryLock', () => {
  it('tries again every pollMs or so, jittered, logs lock_waiting once, and gives up at the deadline', async () => {
    const { logger, entries } = capturingLogger();
    const { client, attemptsAt } = timedAttempts(waiter);
    const startedAt = performance.now();

    await expect(acquireAdvisoryLock(client, { lockId: LOCK_ID, timeoutMs: 1_500, pollMs: 150, logger })).rejects.toMatchObject({
      code: 'SUP_ERR_LOCK_TIMEOUT',
      message: 'Another instance held the migration lock for more than 1500 ms',
      hint: 'Check for a stuck migration (pg_stat_activity) or raise MIGRATION_LOCK_WAIT_TIMEOUT_MS.',
    });
    const elapsed = performance.now() - startedAt;
    expect(elapsed).toBeGreaterThanOrEqual(1_450);
    expect(elapsed).toBeLessThan(2_500);

    // 1.5 s with waits of 75–225 ms (plus each query's time); the last wait is cut short by the deadline.
    expect(attemptsAt.length).toBeGreaterThanOrEqual(5);
    expect(attemptsAt.length).toBeLessThanOrEqual(21);
    const gaps = attemptsAt.slice(1, -1).map((at, index) => at - attemptsAt[index]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(70);
    expect(Math.max(...gaps)).toBeLessThan(500);
    expect(Math.max(...gaps) - Math.min(...gaps)).toBeGreaterThan(5);

    expect(entries.filter((entry) => entry.event === 'lock_waiting')).toEqual([expect.objectContaining({ lockId: LOCK_ID })]);
    expect(entries.some((entry) => entry.event === 'lock_acquired')).toBe(false);
    expect(await db.advisoryLocks()).toBe(1);
  });

  it('takes the lock as soon as the other session lets it go, and says how long it waited', async () => {
    const { logger, entries } = capturingLogger();
    const acquiring = acquireAdvisoryLock(waiter, { lockId: LOCK_ID, timeoutMs: 10_000, pollMs: 100, logger });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await holder.query('SELECT pg_advisory_unlock($1::bigint)', [LOCK_ID]);
    await acquiring;

    expect(entries.map((entry) => entry.event)).toEqual(['lock_waiting', 'lock_acquired']);
    expect(entries[1]).toMatchObject({ lockId: LOCK_ID, waitedMs: expect.any(Number) });
    expect(entries[1]!.waitedMs).toBeGreaterThanOrEqual(500);
    expect(entries[1]!.waitedMs).toBeLessThan(1_500);
    const held = await waiter.query(
      "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND objid = $1::bigint",
      [LOCK_ID],
    );
    expect(held.rows[0]?.n).toBe(1);
  });

  it('reports a failed query at once instead of trying again until the deadline', async () => {
    const { logger } = capturingLogger();
    const doomed = new pg.Client({ connectionString: db.url });
    doomed.on('error', () => {}); // the server's notice that it ended the session
    await doomed.connect();
    const pid = (await doomed.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    const acquiring = acquireAdvisoryLock(doomed, { lockId: LOCK_ID, timeoutMs: 10_000, pollMs: 100, logger });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const startedAt = performance.now();
    await holder.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect(acquiring).rejects.toThrow(/terminat|not queryable/i);
    expect(performance.now() - startedAt).toBeLessThan(1_500);
    await doomed.end().catch(() => {});
  });
});

describe('releaseAdvisoryLock', () => {
  it('lets the lock go; a failure to do so is a warning, not an error', async () => {
    const { logger, entries } = capturingLogger();
    await releaseAdvisoryLock(holder, LOCK_ID, logger);
    expect(await db.advisoryLocks()).toBe(0);

    await releaseAdvisoryLock({ query: () => Promise.reject(new Error('connection gone')) } as unknown as Queryable, LOCK_ID, logger);
    expect(entries.map((entry) => [entry.event, entry.level])).toEqual([
      ['lock_released', 20],
      ['lock_release_failed', 40],
    ]);
  });
});
