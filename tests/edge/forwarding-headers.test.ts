// Forwarding headers at the edge: from a client that is not a trusted proxy (the default off Render), every header
// that names a client address, scheme, host, port or prefix is removed, in every spelling, and X-Forwarded-For,
// -Proto and -Host are set from the connection; a proxy named in TRUST_PROXY (an address, a subnet, `loopback`)
// keeps what it set. Served directly, the app sees whatever the client wrote.
import { beforeAll, describe, expect, it } from 'vitest';
import { echoed, echoOf, rawRequest, useEdge } from './harness.js';
import type { SupervisorProcess } from '../helpers/supervisor-process.js';

const edge = useEdge('edge_forwarding');

const FORGED: readonly (readonly [string, string])[] = [
  ['X-Forwarded-For', '203.0.113.7'],
  ['X-Forwarded-Proto', 'https'],
  ['X-Forwarded-Proto', 'http'],
  ['X-Forwarded-Host', 'evil.example'],
  ['X-Forwarded-Port', '443'],
  ['X-Forwarded-Prefix', '/admin'],
  ['X-Forwarded-Ssl', 'on'],
  ['Forwarded', 'for=203.0.113.7;host=evil.example;proto=https'],
  ['X-Real-IP', '203.0.113.7'],
  ['True-Client-IP', '203.0.113.7'],
  ['X-Client-IP', '203.0.113.7'],
  ['CF-Connecting-IP', '203.0.113.7'],
  ['Fastly-Client-IP', '203.0.113.7'],
  ['X-Cluster-Client-IP', '203.0.113.7'],
  ['X-Original-URL', '/admin'],
  ['X_Forwarded_For', '203.0.113.7'],
  ['X_Real_IP', '203.0.113.7'],
  ['x_forwarded_host', 'evil.example'],
];
const request = `GET /next HTTP/1.1\r\nHost: app.example\r\n${FORGED.map(([name, value]) => `${name}: ${value}\r\n`).join('')}Connection: close\r\n\r\n`;
const upgrade = `GET /ws HTTP/1.1\r\nHost: app.example\r\n${FORGED.map(([name, value]) => `${name}: ${value}\r\n`).join('')}Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n`;

let byDefault: SupervisorProcess;
let otherProxies: SupervisorProcess;
let loopbackProxy: SupervisorProcess;
let direct: number;
beforeAll(async () => {
  [byDefault, otherProxies, loopbackProxy, direct] = await Promise.all([
    edge.superviseForFile('echo-app'),
    edge.superviseForFile('echo-app', { TRUST_PROXY: '10.0.0.0/8, 192.168.1.1' }),
    edge.superviseForFile('echo-app', { TRUST_PROXY: 'loopback' }),
    edge.direct('echo-app'),
  ]);
}, 60_000);

function expectOnlyOwnForwarding(rawHeaders: readonly string[]): void {
  const names = rawHeaders.filter((_, i) => i % 2 === 0).map((name) => name.toLowerCase());
  for (const [name] of FORGED) {
    const lower = name.toLowerCase().replaceAll('_', '-');
    if (['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host'].includes(lower) && !name.includes('_')) continue;
    expect(names, name).not.toContain(name.toLowerCase());
  }
  const echo = { rawHeaders } as never;
  expect(echoed(echo, 'x-forwarded-for')).toEqual(['127.0.0.1']);
  expect(echoed(echo, 'x-forwarded-proto')).toEqual(['http']);
  expect(echoed(echo, 'x-forwarded-host')).toEqual(['app.example']);
}

describe('forwarding headers from a client that is not a trusted proxy', () => {
  it('reach the app served directly as the client wrote them (the reference)', async () => {
    const echo = echoOf(await rawRequest(direct, request));
    expect(echoed(echo, 'x-forwarded-host')).toEqual(['evil.example']);
    expect(echoed(echo, 'x_forwarded_for')).toEqual(['203.0.113.7']);
  });

  it('are all removed and set from the connection, by default', async () => {
    expectOnlyOwnForwarding(echoOf(await rawRequest(byDefault.port, request)).rawHeaders);
  });

  it('are all removed on an upgrade too', async () => {
    const response = await rawRequest(byDefault.port, upgrade);
    expect(response.status).toBe(101);
    expectOnlyOwnForwarding((JSON.parse(response.body.toString()) as { rawHeaders: string[] }).rawHeaders);
  });

  it('are all removed when TRUST_PROXY names other proxies than the client', async () => {
    expectOnlyOwnForwarding(echoOf(await rawRequest(otherProxies.port, request)).rawHeaders);
  });
});

describe('forwarding headers from a proxy TRUST_PROXY names', () => {
  it('are kept, the proxy appended to X-Forwarded-For', async () => {
    const echo = echoOf(await rawRequest(loopbackProxy.port, request));
    expect(echoed(echo, 'x-forwarded-for')).toEqual(['203.0.113.7, 127.0.0.1']);
    expect(echoed(echo, 'x-forwarded-host')).toEqual(['evil.example']);
    expect(echoed(echo, 'x-real-ip')).toEqual(['203.0.113.7']);
    expect(echoed(echo, 'x-forwarded-proto')).toEqual(['https', 'http']);
  });
});
