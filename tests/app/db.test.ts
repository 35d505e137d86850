// The database going away while the app runs: requests get 503, nothing crashes, and it recovers.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMigratedDatabase, EVENTUALLY, startApp, type RunningApp } from './harness.js';
import { createTcpProxy, type TcpProxy } from './tcp-proxy.js';

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
let proxy: TcpProxy;
let app: RunningApp;

function viaProxy(databaseUrl: string, port: number): string {
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${port}`;
  return url.toString();
}

beforeAll(async () => {
  db = await createMigratedDatabase('app_db');
  const url = new URL(db.url);
  proxy = await createTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  app = await startApp(viaProxy(db.url, proxy.port));
});
afterAll(async () => {
  await app?.close();
  await proxy?.close();
  await db?.drop();
});
beforeEach(() => db.reset());

async function appBackends(): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'app'",
  );
  return rows.map((row) => row.pid);
}

describe('the database going away', () => {
  it('answers 503 while the database is unreachable and serves again once it is back', async () => {
    expect((await app.api('POST', '/api/messages', { author: 'Ada', body: 'before' })).status).toBe(201);
    await proxy.stop();
    try {
      // The pool's idle connection dies with the proxy; that is logged, not thrown.
      await vi.waitFor(() => expect(app.logs.some((line) => line.event === 'pool_error')).toBe(true), EVENTUALLY);
      for (const [method, path, body] of [
        ['GET', '/api/messages', undefined],
        ['POST', '/api/messages', { author: 'Ada', body: 'during' }],
        ['GET', '/api/kanban/columns', undefined],
        ['POST', '/api/kanban/columns', { title: 'Todo' }],
      ] as const) {
        const response = await app.api(method, path, body);
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(response.body).toEqual({
          error: { code: 'APP_ERR_DB_UNAVAILABLE', message: 'The database is unavailable; try again shortly', details: [] },
        });
      }
    } finally {
      await proxy.start();
    }
    expect((await app.api('POST', '/api/messages', { author: 'Ada', body: 'after' })).status).toBe(201);
    const messages = await app.api('GET', '/api/messages');
    expect(messages.body.map((message: { body: string }) => message.body)).toEqual(['after', 'before']);
  });

  it('survives the server terminating its idle connections (a restart or failover)', async () => {
    expect((await app.api('GET', '/api/messages')).status).toBe(200);
    const pids = await appBackends();
    expect(pids.length).toBeGreaterThan(0);
    const logged = app.logs.length;
    await db.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [pids]);
    await vi.waitFor(() => expect(app.logs.slice(logged).some((line) => line.event === 'pool_error')).toBe(true), EVENTUALLY);
    expect((await app.api('POST', '/api/messages', { author: 'Ada', body: 'still here' })).status).toBe(201);
  });

  // Holds a lock so that the app's insert waits inside its transaction, then breaks its connection with `cut`.
  async function interruptInsert(cut: (backendPid: number) => Promise<void>) {
    const { default: pg } = await import('pg');
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
      const pending = app.api('POST', '/api/messages', { author: 'Ada', body: 'interrupted' });
      let waiting: number | undefined;
      await vi.waitFor(async () => {
        const { rows } = await db.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = 'app' AND wait_event_type = 'Lock' AND datname = current_database()",
        );
        waiting = rows[0]?.pid;
        expect(waiting).toBeDefined();
      }, EVENTUALLY);
      await cut(waiting!);
      return await pending;
    } finally {
      await locker.query('ROLLBACK');
      await locker.end();
    }
  }

  it('answers 503 when the server kills the connection in the middle of a transaction, and serves the next request', async () => {
    const response = await interruptInsert(async (pid) => {
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
    });
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('APP_ERR_DB_UNAVAILABLE');
    expect((await app.api('POST', '/api/messages', { author: 'Ada', body: 'next' })).status).toBe(201);
    expect((await db.query('SELECT body FROM messages')).rows).toEqual([{ body: 'next' }]);
  });

  it('answers 503 when the network drops in the middle of a transaction, and serves once it is back', async () => {
    const response = await interruptInsert(async () => {
      await proxy.stop();
    });
    try {
      expect(response.status).toBe(503);
      expect(response.body.error.code).toBe('APP_ERR_DB_UNAVAILABLE');
      // The connection's error event arrived while the transaction held it: logged, not thrown.
      expect(app.logs.some((line) => line.event === 'connection_lost')).toBe(true);
    } finally {
      await proxy.start();
    }
    expect((await app.api('POST', '/api/messages', { author: 'Ada', body: 'next' })).status).toBe(201);
    expect((await db.query('SELECT body FROM messages')).rows).toEqual([{ body: 'next' }]);
  });
});

describe('DATABASE_URL', () => {
  it('asks for SSL when the URL says sslmode=require (this test server has none, so health fails)', async () => {
    const sslApp = await startApp(`${db.url}?sslmode=require`);
    try {
      const response = await sslApp.api('GET', '/health');
      expect(response.status).toBe(503);
      expect(sslApp.logs.find((line) => line.event === 'health_failed')).toMatchObject({
        err: { message: expect.stringMatching(/SSL/) },
      });
    } finally {
      await sslApp.close();
    }
  });

  it('connects without SSL when the URL says sslmode=disable', async () => {
    const plainApp = await startApp(`${db.url}?sslmode=disable`);
    try {
      expect((await plainApp.api('GET', '/health')).status).toBe(200);
    } finally {
      await plainApp.close();
    }
  });
});
