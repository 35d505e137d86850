// Waiting for Postgres: a real server, a port with nothing listening, a server that never answers, a database that
// comes up during the wait, and the errors that no retry fixes (failing at the first attempt).
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../supervisor/core/errors.js';
import { freePort } from '../../../supervisor/core/free-port.js';
import { waitForDatabase } from '../../../supervisor/database/wait.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { startSilentPostgres } from '../../helpers/silent-postgres.js';
import { createDelayedForwarder } from '../../helpers/tcp-forwarder.js';

const logger = pino({ level: 'silent' });
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('db_wait');
});
afterAll(async () => {
  await db.drop();
});

function withUrl(change: (url: URL) => void): string {
  const url = new URL(db.url);
  change(url);
  return url.toString();
}

// Runs a wait and returns what it came to, how long it took and the attempts it reported as failed.
async function wait(databaseUrl: string, options: { timeoutMs?: number; connectTimeoutMs?: number; signal?: AbortSignal } = {}) {
  const failed: string[] = [];
  const startedAt = Date.now();
  const outcome = await waitForDatabase({
    databaseUrl,
    timeoutMs: options.timeoutMs ?? 10_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
    minDelayMs: 50,
    maxDelayMs: 200,
    logger,
    signal: options.signal,
    onAttemptFailed: (attempt, reason) => failed.push(`${attempt}: ${reason}`),
  }).then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error: error as Error & { code?: string; hint?: string } }),
  );
  return { ...outcome, failed, elapsedMs: Date.now() - startedAt };
}

describe('waitForDatabase', () => {
  it('resolves at the first attempt against a server that answers', async () => {
    const { value, failed } = await wait(db.url);
    expect(value).toEqual({ attempts: 1 });
    expect(failed).toEqual([]);
  });

  it('retries a port with nothing listening until its budget is spent, then fails with SUP_ERR_DB_UNAVAILABLE', async () => {
    const port = await freePort();
    const { error, failed, elapsedMs } = await wait(`postgres://app@127.0.0.1:${port}/app`, { timeoutMs: 1_500 });
    expect(error).toMatchObject({ code: ErrorCodes.DB_UNAVAILABLE, message: expect.stringMatching(/^Postgres at 127\.0\.0\.1:\d+ did not accept connections within 1500 ms \(\d+ attempts\)/) });
    expect(failed.length).toBeGreaterThan(2);
    expect(failed.every((line) => line.endsWith('ECONNREFUSED'))).toBe(true);
    expect(elapsedMs).toBeLessThan(5_000);
  });

  it('ends each attempt on a server that accepts the connection and never answers, and gives up within its budget', async () => {
    const silent = await startSilentPostgres();
    try {
      const { error, failed, elapsedMs } = await wait(silent.url, { timeoutMs: 1_500, connectTimeoutMs: 300 });
      expect(error).toMatchObject({ code: ErrorCodes.DB_UNAVAILABLE });
      // Each attempt got as far as its query, and was ended after connectTimeoutMs rather than held.
      expect(silent.queries.filter((query) => query === 'SELECT 1').length).toBeGreaterThan(1);
      expect(failed.length).toBeGreaterThan(1);
      expect(elapsedMs).toBeLessThan(5_000);
    } finally {
      await silent.close();
    }
  });

  it('resolves once a database that was away starts answering', async () => {
    const target = new URL(db.url);
    const forwarder = createDelayedForwarder(await freePort(), { host: target.hostname, port: Number(target.port || 5432) });
    try {
      const { attempts } = await waitForDatabase({
        databaseUrl: withUrl((url) => (url.port = String(forwarder.port))),
        timeoutMs: 10_000,
        connectTimeoutMs: 2_000,
        minDelayMs: 50,
        maxDelayMs: 200,
        logger,
        // The database comes up after two refused attempts.
        onAttemptFailed: (attempt) => void (attempt === 2 && forwarder.open()),
      });
      expect(attempts).toBe(3);
    } finally {
      await forwarder.close().catch(() => {});
    }
  });

  it.each([
    ['a role that does not exist', (url: URL): void => void (url.username = 'nobody_here'), ErrorCodes.DB_AUTH_FAILED, /Check the user and password in DATABASE_URL/],
    ['a database that does not exist', (url: URL): void => void (url.pathname = '/no_such_database'), ErrorCodes.DB_NOT_FOUND, /Create the database or fix its name/],
  ] as const)('fails at the first attempt on %s, with a hint', async (_what, change, code, hint) => {
    const { error, failed, elapsedMs } = await wait(withUrl(change));
    expect(error).toMatchObject({ code, hint: expect.stringMatching(hint) });
    expect(failed).toEqual([]);
    expect(elapsedMs).toBeLessThan(2_000);
  });

  it('stops waiting at once when its signal is aborted', async () => {
    const port = await freePort();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopping')), 300);
    const { error, elapsedMs } = await wait(`postgres://app@127.0.0.1:${port}/app`, { timeoutMs: 30_000, signal: controller.signal });
    expect(error?.message).toBe('stopping');
    expect(elapsedMs).toBeLessThan(2_000);
  });
});
