// Own paths at the edge: no spelling of /health, /health/live or /metrics reaches the app, as a request or as an
// upgrade, and none reaches /metrics without its token; look-alikes still go to the app.
import { beforeAll, describe, expect, it } from 'vitest';
import { echoOf, rawRequest, useEdge } from './harness.js';
import type { SupervisorProcess } from '../helpers/supervisor-process.js';

const edge = useEdge('edge_own_paths');
const TOKEN = 'edge-metrics-token-0123456789';

const HEALTH_SPELLINGS = ['/health', '/HEALTH', '/health/', '/Health//', '/%68ealth', '/app/../health', '/app/%2e%2e/health', '/app/..\\health', 'http://example.com/health', 'HTTP://EXAMPLE.COM/HEALTH/'];
const LIVENESS_SPELLINGS = ['/health/live', '/HEALTH/LIVE/', '/health%2flive', '/health\\live', '/health/./live', 'http://example.com/health/live?x=1'];
const METRICS_SPELLINGS = ['/metrics', '/METRICS', '/metrics/', '//metrics', '/%6detrics', '/%6Detrics', '/x/../metrics', '/metric%C5%BF', 'http://example.com/metrics', 'http://example.com/a/../Metrics/'];

const get = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: example.com\r\n${extra}Connection: close\r\n\r\n`;
const upgrade = (target: string): string =>
  `GET ${target} HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`;

let sup: SupervisorProcess;
// One supervisor for the file, with /metrics on the public port behind a token.
beforeAll(async () => {
  sup = await edge.superviseForFile('echo-app', { METRICS_TOKEN: TOKEN });
}, 60_000);

describe('own paths at the edge', () => {
  it.each(HEALTH_SPELLINGS)('%s is the supervisor\'s readiness', async (target) => {
    const response = await rawRequest(sup.port, get(target));
    expect(response.status).toBe(200);
    expect(response.header('content-type')).toMatch(/^application\/health\+json/);
    expect(JSON.parse(response.body.toString())).toMatchObject({ status: 'pass', phase: 'ready' });
  });

  it.each(LIVENESS_SPELLINGS)('%s is the supervisor\'s liveness', async (target) => {
    const response = await rawRequest(sup.port, get(target));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body.toString())).toEqual({ status: 'pass', phase: 'ready' });
  });

  it.each(METRICS_SPELLINGS)('%s is the supervisor\'s metrics, refused without the token and served with it', async (target) => {
    const refused = await rawRequest(sup.port, get(target));
    expect(refused.status).toBe(401);
    expect(refused.header('www-authenticate')).toBe('Bearer realm="metrics"');
    const served = await rawRequest(sup.port, get(target, `Authorization: Bearer ${TOKEN}\r\n`));
    expect(served.status).toBe(200);
    expect(served.body.toString()).toContain('supervisor_phase{phase="ready"} 1');
  });

  it.each([...HEALTH_SPELLINGS.slice(0, 5), ...LIVENESS_SPELLINGS.slice(0, 3), ...METRICS_SPELLINGS.slice(0, 6)])('an upgrade to %s is refused, not passed to the app', async (target) => {
    const response = await rawRequest(sup.port, upgrade(target));
    expect(response.status).toBe(400);
    expect(response.raw).not.toContain('"rawHeaders"');
  });

  it.each(['/healthz', '/health-check', '/api/health', '/metrics.json', '/HEALTH/LIVE/MORE', '/static/metrics.css'])(
    'the look-alike %s goes to the app as it was sent',
    async (target) => {
      const echo = echoOf(await rawRequest(sup.port, get(target)));
      expect(echo.url).toBe(target);
    },
  );

  it('passes an upgrade to an app path on to the app', async () => {
    const response = await rawRequest(sup.port, upgrade('/ws'));
    expect(response.status).toBe(101);
    expect(JSON.parse(response.body.toString())).toMatchObject({ method: 'GET', url: '/ws' });
  });
});
