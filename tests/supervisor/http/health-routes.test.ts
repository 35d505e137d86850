// /health and /health/live on the public server: answered from the phase machine in every spelling of the path,
// GET and HEAD only.
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPhaseMachine } from '../../../supervisor/core/phases.js';
import { createProxy } from '../../../supervisor/http/proxy.js';
import { createPublicServer, type PublicServer } from '../../../supervisor/http/public-server.js';

const logger = pino({ level: 'silent' });
const phases = createPhaseMachine(logger);
let server: PublicServer;
let base: string;

beforeAll(async () => {
  const proxy = createProxy({ getTarget: () => undefined, sendUnavailable: (_req, res) => res.end(), isDraining: () => false, logger });
  server = createPublicServer({
    phases,
    proxy,
    logger,
    limits: { httpHeadersTimeoutMs: 10_000, httpRequestTimeoutMs: 20_000, httpMaxConnections: undefined, httpMaxWebSockets: 10, httpSendTimeoutMs: 0, httpWebSocketIdleTimeoutMs: 0 },
  });
  await server.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(server.server.address() as { port: number }).port}`;
});
afterAll(() => server.close());

describe('the health routes', () => {
  it('answers readiness 503 and liveness 200 while starting, in the health+json format, in any spelling', async () => {
    for (const path of ['/health', '/HEALTH/', '/health?verbose=1']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(503);
      expect(response.headers.get('content-type')).toBe('application/health+json');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toMatchObject({ status: 'fail', phase: 'starting', checks: { database: [{ componentType: 'datastore' }] } });
    }
    const live = await fetch(`${base}/health/live/`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'pass', phase: 'starting' });
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await fetch(`${base}/health/live`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await response.text()).toBe('');
  });

  it('answers other methods 405 with Allow: GET, HEAD', async () => {
    const response = await fetch(`${base}/health`, { method: 'POST', body: 'x' });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(await response.json()).toMatchObject({ error: { code: 'SUP_ERR_METHOD_NOT_ALLOWED' } });
  });

  it('says failed once the start failed', async () => {
    phases.fail('SUP_ERR_DB_UNAVAILABLE', 'SUP_ERR_DB_UNAVAILABLE');
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(503);
    expect(await live.json()).toEqual({ status: 'fail', phase: 'failed' });
  });
});
