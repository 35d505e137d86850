// Traffic through the supervisor once ready: headers, streaming bodies, the app's own statuses, WebSockets;
// and the proxy on its own, draining.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createProxy } from '../../../supervisor/http/proxy.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { applyMigrations } from '../../helpers/migrate.js';
import { eventually, startSupervisor, type SupervisorProcess } from '../../helpers/supervisor-process.js';

let db: TestDatabase;
let sup: SupervisorProcess;

beforeAll(async () => {
  db = await createTestDatabase('proxy');
  await applyMigrations(db.url);
  sup = await startSupervisor({ env: { DATABASE_URL: db.url } });
  await sup.waitForPhase('ready');
});
afterAll(async () => {
  await sup.kill();
  await db.drop();
});

describe('the proxy', () => {
  it('sets X-Forwarded-For, -Proto and -Host from the connection (no proxy trusted) and keeps the client\'s Host', async () => {
    const response = await fetch(`${sup.url}/headers`, { headers: { 'x-forwarded-for': '203.0.113.7', 'x-custom': 'kept' } });
    const headers = (await response.json()) as Record<string, string>;
    expect(headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe(`127.0.0.1:${sup.port}`);
    expect(headers.host).toBe(`127.0.0.1:${sup.port}`);
    expect(headers['x-custom']).toBe('kept');
  });

  it('streams a large request body to the app and its answer back unchanged', async () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz');
    const response = await fetch(`${sup.url}/echo`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    expect(response.status).toBe(200);
    expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
  });

  it('passes the app\'s own 503 through as it is, without retrying', async () => {
    const response = await fetch(`${sup.url}/status/503`);
    expect(response.status).toBe(503);
    expect(response.headers.get('x-fixture')).toBe('yes');
    expect(await response.text()).toBe('from the app');
  });

  it('answers 502 with Retry-After when the app drops the connection', async () => {
    const response = await fetch(`${sup.url}/destroy`);
    expect(response.status).toBe(502);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ error: { code: 'SUP_ERR_APP_UNREACHABLE' } });
    expect((await fetch(`${sup.url}/status/200`)).status).toBe(200);
  });

  it('tunnels a WebSocket with its subprotocol and echoes messages', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${sup.port}/ws`, ['chat.v2', 'chat.v1']);
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(data.toString()));
    await once(socket, 'open');
    expect(socket.protocol).toBe('chat.v2');
    socket.send('ping through the proxy');
    const binary = Buffer.from([0, 1, 2, 255]);
    socket.send(binary);
    const [echoedBinary] = await new Promise<[Buffer]>((resolve) => {
      socket.on('message', (data, isBinary) => {
        if (isBinary) resolve([data as Buffer]);
      });
    });
    expect(echoedBinary.equals(binary)).toBe(true);
    expect(JSON.parse(messages[0] as string)).toMatchObject({ hello: true, protocol: 'chat.v2', forwardedFor: '127.0.0.1' });
    expect(messages[1]).toBe('ping through the proxy');
    socket.close(1000);
    const [code] = await once(socket, 'close');
    expect(code).toBe(1000);
  });

  it('passes on the app\'s refusal of an upgrade', async () => {
    // The fixture's WebSocket server answers 400 for a path it does not serve.
    const socket = new WebSocket(`ws://127.0.0.1:${sup.port}/not-a-socket`);
    socket.on('error', () => {}); // terminate() below reports the handshake it abandons as an error
    const [, response] = await once(socket, 'unexpected-response');
    expect(response.statusCode).toBe(400);
    socket.terminate();
  });

  it('answers its own health routes without the app', async () => {
    const live = await fetch(`${sup.url}/health/live`);
    expect(live.status).toBe(200);
    expect(live.headers.get('cache-control')).toBe('no-store');
    expect(await live.json()).toEqual({ status: 'pass', phase: 'ready' });
    const head = await fetch(`${sup.url}/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
  });

  it('answers a malformed request with 400 and keeps serving others', async () => {
    const socket = net.connect(sup.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GARBAGE / HTTP/9.9\r\n\r\n');
    const [data] = await once(socket, 'data');
    expect(String(data)).toMatch(/^HTTP\/1\.1 400/);
    socket.destroy();
    expect((await fetch(`${sup.url}/status/200`)).status).toBe(200);
  });
});

async function listening(server: http.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

describe('draining', () => {
  it('resolves once the last request in flight is done, or at its deadline', async () => {
    const upstream = http.createServer((_req, res) => void setTimeout(() => res.end('late'), 500));
    const upstreamPort = await listening(upstream);
    const proxy = createProxy({
      getTarget: () => ({ port: upstreamPort }),
      sendUnavailable: (_req, res) => void res.writeHead(503).end(),
      isDraining: () => false,
      logger: pino({ level: 'silent' }),
    });
    const front = http.createServer((req, res) => proxy.handleRequest(req, res));
    const frontPort = await listening(front);
    try {
      expect(await proxy.drained(10_000)).toBe(true); // nothing in flight: at once

      const response = fetch(`http://127.0.0.1:${frontPort}/`).then((answer) => answer.text());
      await eventually(() => (proxy.inFlight === 1 ? true : undefined));
      expect(await proxy.drained(50)).toBe(false);
      const drained = await proxy.drained(10_000);
      expect(drained).toBe(true);
      expect(proxy.inFlight).toBe(0);
      expect(await response).toBe('late');
    } finally {
      proxy.close();
      front.closeAllConnections();
      await Promise.all([front, upstream].map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});

describe('counting requests in flight', () => {
  it('counts out every request of a connection that closes, pipelined ones included', async () => {
    const upstream = http.createServer((req) => void req.resume()); // never answers
    const upstreamPort = await listening(upstream);
    const proxy = createProxy({
      getTarget: () => ({ port: upstreamPort }),
      sendUnavailable: (_req, res) => void res.writeHead(503).end(),
      isDraining: () => false,
      logger: pino({ level: 'silent' }),
    });
    const front = http.createServer((req, res) => proxy.handleRequest(req, res));
    const frontPort = await listening(front);
    try {
      for (const requests of [3, 1, 5]) {
        const socket = net.connect(frontPort, '127.0.0.1');
        await once(socket, 'connect');
        socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(requests));
        await eventually(() => (proxy.inFlight === requests ? true : undefined), 5_000, `${requests} in flight`);
        socket.destroy();
        expect(await proxy.drained(2_000)).toBe(true);
        expect(proxy.inFlight).toBe(0);
      }
    } finally {
      proxy.close();
      front.closeAllConnections();
      await Promise.all([front, upstream].map((server) => new Promise((resolve) => server.close(resolve))));
    }
  });
});
