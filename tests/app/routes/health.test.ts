import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigratedDatabase, startApp, type RunningApp } from '../harness.js';
import { createTcpProxy, type TcpProxy } from '../tcp-proxy.js';

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
let proxy: TcpProxy;
let app: RunningApp;

beforeAll(async () => {
  db = await createMigratedDatabase('app_health');
  const url = new URL(db.url);
  proxy = await createTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  url.host = `127.0.0.1:${proxy.port}`;
  app = await startApp(url.toString());
});
afterAll(async () => {
  await app?.close();
  await proxy?.close();
  await db?.drop();
});

describe('GET /health', () => {
  it('answers 200 when the database answers SELECT 1', async () => {
    const response = await app.api('GET', '/health');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 503 with Retry-After while the database is unreachable, and 200 again once it is back', async () => {
    await proxy.stop();
    try {
      const down = await app.api('GET', '/health');
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).toBe('5');
      expect(down.body).toEqual({ error: { code: 'APP_ERR_DB_UNAVAILABLE', message: 'The database is unavailable', details: [] } });
    } finally {
      await proxy.start();
    }
    expect((await app.api('GET', '/health')).status).toBe(200);
  });
});
