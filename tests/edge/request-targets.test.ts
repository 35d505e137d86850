// Request targets at the edge: one parse before anything else looks at the target. Behind Express 4 and 5 routers
// with their own /metrics and /health, no spelling reaches them around the supervisor (the token, its own
// readiness): each target is sent to the app served directly too, and whatever the router takes for its own
// /metrics there is the supervisor's (401 without the token) or refused (400) here. Absolute-form becomes
// origin-form with Host from the target; TRACE, CONNECT and OPTIONS * are answered by the supervisor.
import { beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, useEdge, type EdgeFixture } from './harness.js';
import type { SupervisorProcess } from '../helpers/supervisor-process.js';

const edge = useEdge('edge_targets');
const TOKEN = 'edge-targets-token-0123456789';

// The spellings a hostile-client probe found going around the token: targets that WHATWG URL refuses.
const PROBED = [
  'http://x:99999/metrics',
  'http://256.256.256.256/metrics',
  'http://[x]/metrics',
  'http:///metrics',
  'http://x:99999/health',
  'http://x:65536/METRICS/',
  'http://1.2.3.0x100/metrics',
  'HTTP://[::1/metrics',
];

// A fuzzed set, the same on every run: schemes, authorities (good and broken) and spellings of /metrics and /health.
function fuzzedTargets(count: number): string[] {
  const schemes = ['http://', 'HTTP://', 'https://', 'http:/', 'http:', '//', 'ftp://', ''];
  const authorities = ['x', 'x:99999', 'x:', 'x:80', '256.256.256.256', '999', '[x]', '[::1]', '', 'u@x', 'u:p@x', 'x%20y', 'x y', '127.0.0.1:0'];
  const paths = ['/metrics', '/METRICS', '/metrics/', '//metrics', '/%6detrics', '/./metrics', '/a/../metrics', '/a/%2e%2e/metrics', '\\metrics', '/metrics?x=1', '/metrics#f', '/metric%C5%BF', '/health', '/Health/', '/health;x', '', '?/metrics'];
  let seed = 0x2f6e2b1;
  const pick = <T>(list: readonly T[]): T => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return list[seed % list.length] as T;
  };
  const targets = new Set<string>();
  while (targets.size < count) targets.add(`${pick(schemes)}${pick(authorities)}${pick(paths)}`.replace(/ /g, '%20'));
  return [...targets];
}

const get = (target: string, extra = ''): string => `GET ${target} HTTP/1.1\r\nHost: example.com\r\n${extra}Connection: close\r\n\r\n`;

describe.each(['express4-app', 'express5-app'] as const)('behind %s', (app: EdgeFixture) => {
  let sup: SupervisorProcess;
  let direct: number;
  beforeAll(async () => {
    [sup, direct] = await Promise.all([edge.superviseForFile(app, { METRICS_TOKEN: TOKEN }), edge.direct(app)]);
  }, 60_000);

  it('the router serves its own /metrics to some of the probed spellings when it is reached directly', async () => {
    const answers = await Promise.all(PROBED.map(async (target) => (await rawRequest(direct, get(target))).body.toString()));
    expect(answers.filter((body) => body === 'APP-METRICS').length).toBeGreaterThan(0);
  });

  it.each([...PROBED, ...fuzzedTargets(160)])('%s never reaches the app\'s own routes through the supervisor', async (target) => {
    const [directly, through] = await Promise.all([rawRequest(direct, get(target)), rawRequest(sup.port, get(target))]);
    expect(through.body.toString()).not.toMatch(/APP-(METRICS|HEALTH)/);
    if (directly.body.toString() === 'APP-METRICS') expect([400, 401]).toContain(through.status);
    if (directly.body.toString() === 'APP-HEALTH') expect([200, 400]).toContain(through.status);
    // Whatever reaches the app got there in origin-form.
    if (through.header('content-type')?.startsWith('application/json') && through.body.toString().includes('"url"')) {
      expect(JSON.parse(through.body.toString()).url).toMatch(/^\//);
    }
  });

  it('sends an absolute-form target as origin-form, with Host and X-Forwarded-Host from its authority', async () => {
    const response = await rawRequest(sup.port, get('http://public.example:8080/abs/page?q=1'));
    expect(JSON.parse(response.body.toString())).toEqual({ url: '/abs/page?q=1', path: '/abs/page', host: 'public.example:8080', forwardedHost: 'public.example:8080' });
  });
});

describe('targets and methods the supervisor answers itself', () => {
  let sup: SupervisorProcess;
  beforeAll(async () => {
    sup = await edge.superviseForFile('echo-app');
  }, 60_000);

  it.each([
    ['http://x:99999/metrics', 'invalid port'],
    ['http://user:secret@example.com/', 'Credentials'],
    ['http://[x]/', 'no valid host'],
    ['*', 'asterisk-form'],
  ])('refuses %s with 400 and a body saying why', async (target, why) => {
    const method = target === '*' ? 'OPTIONS' : 'GET';
    const response = await rawRequest(sup.port, `${method} ${target} HTTP/1.1\r\nHost: example.com\r\n\r\n`);
    expect(response.status).toBe(400);
    expect(response.closed).toBe(true);
    const { error } = JSON.parse(response.body.toString()) as { error: { code: string; message: string } };
    expect(error.code).toBe('SUP_ERR_BAD_REQUEST');
    expect(error.message).toContain(why);
    expect(response.raw).not.toContain('"rawHeaders"');
  });

  it('refuses an upgrade to a target that does not parse six times over, never passing it on', async () => {
    for (let i = 0; i < 6; i++) {
      const response = await rawRequest(sup.port, `GET http://x:99999/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`);
      expect(response.status).toBe(400);
      expect(response.raw).not.toContain('"rawHeaders"');
    }
  });

  it('answers TRACE and CONNECT with 405 and Allow, as nginx refuses them', async () => {
    const trace = await rawRequest(sup.port, 'TRACE / HTTP/1.1\r\nHost: example.com\r\n\r\n');
    expect(trace.status).toBe(405);
    expect(trace.header('allow')).toMatch(/GET/);
    expect(trace.raw).not.toContain('"rawHeaders"');
    const connect = await rawRequest(sup.port, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expect(connect.status).toBe(405);
    expect(connect.header('allow')).toMatch(/GET/);
  });
});
