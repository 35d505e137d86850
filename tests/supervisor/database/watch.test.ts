// The database watch while ready, against a real Postgres reached through a forwarder that the test closes.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../supervisor/core/free-port.js';
import { type DatabaseState, watchDatabase } from '../../../supervisor/database/watch.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually } from '../../helpers/supervisor-process.js';
import { startSilentPostgres } from '../../helpers/silent-postgres.js';
import { createDelayedForwarder, type DelayedForwarder } from '../../helpers/tcp-forwarder.js';

let db: TestDatabase;
let forwarder: DelayedForwarder;
let viaForwarder: string;

beforeAll(async () => {
  db = await createTestDatabase('db_watch');
  const target = new URL(db.url);
  forwarder = createDelayedForwarder(await freePort(), { host: target.hostname, port: Number(target.port || 5432) });
  await forwarder.open();
  target.port = String(forwarder.port);
  viaForwarder = target.toString();
});
afterAll(async () => {
  await forwarder.close().catch(() => {});
  await db.drop();
});

describe('watchDatabase', () => {
  it('reports the database going away and coming back, logging each change once', async () => {
    const states: DatabaseState[] = [];
    const events: string[] = [];
    const logger = pino(new Writable({ write: (chunk: Buffer, _encoding, done) => (events.push(JSON.parse(chunk.toString()).event), done()) }));
    const stop = watchDatabase({ databaseUrl: viaForwarder, connectTimeoutMs: 1_000, intervalMs: 100, logger, onState: (state) => states.push(state) });
    try {
      await eventually(() => (states.length >= 2 ? true : undefined), 10_000, 'two checks');
      expect(states.every((state) => state.reachable)).toBe(true);

      await forwarder.close();
      await eventually(() => (states.filter((state) => !state.reachable).length >= 3 ? true : undefined), 10_000, 'three failed checks');
      expect(states.at(-1)).toEqual({ reachable: false, reason: 'ECONNREFUSED' });

      await forwarder.open();
      await eventually(() => (states.at(-1)?.reachable ? true : undefined), 10_000, 'the database back');
      expect(events).toEqual(['database_unreachable', 'database_reachable']);
    } finally {
      stop();
    }
    const checks = states.length;
    // The point of the wait: three intervals in which a watch that was not stopped would check again.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(states.length).toBe(checks);
  });

  it('reports a check that hangs (connected, never answered) as a failure, and goes on checking', async () => {
    const silent = await startSilentPostgres();
    const states: DatabaseState[] = [];
    const stop = watchDatabase({ databaseUrl: silent.url, connectTimeoutMs: 300, intervalMs: 100, logger: pino({ level: 'silent' }), onState: (state) => states.push(state) });
    try {
      await eventually(() => (states.length >= 3 ? true : undefined), 10_000, 'three checks');
      expect(states.every((state) => !state.reachable)).toBe(true);
      expect(silent.queries.filter((query) => query === 'SELECT 1').length).toBeGreaterThanOrEqual(3);
    } finally {
      stop();
      await silent.close();
    }
  });
});
