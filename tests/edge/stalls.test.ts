// Stalled clients and handshakes at the edge: a client that stops reading a download is cut after
// HTTP_SEND_TIMEOUT_MS (nginx's send_timeout), an idle WebSocket after HTTP_WEBSOCKET_IDLE_TIMEOUT_MS (nginx's
// proxy_read_timeout) while a busy one stays, and an upgrade request whose announced body never came leaves no
// half-read connection to the app behind (an upgrade the app never answers: tests/reliability/stops-and-waits).
// The app served directly is the reference.
import { once } from 'node:events';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { rawRequest, useEdge } from './harness.js';
import { eventually } from '../helpers/supervisor-process.js';

const edge = useEdge('edge_stalls');

/** Asks for GET /big and reads only its first bytes; resolves the socket once those came. */
async function startUnreadDownload(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write('GET /big HTTP/1.1\r\nHost: example.com\r\n\r\n');
  await once(socket, 'data');
  socket.pause();
  return socket;
}

const closed = (socket: net.Socket): Promise<number> => {
  const startedAt = performance.now();
  return new Promise((resolve) => (socket.destroyed ? resolve(0) : socket.once('close', () => resolve(performance.now() - startedAt))));
};

/** An upgrade to `path` and the 101 that answers it; the tunnel stays open. */
async function openTunnel(port: number, path: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(`GET ${path} HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: quiet\r\n\r\n`);
  const [head] = (await once(socket, 'data')) as [Buffer];
  expect(head.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
  return socket;
}

describe('a client that stops reading a download', () => {
  it('is cut after HTTP_SEND_TIMEOUT_MS; served directly it stays connected', async () => {
    const sup = await edge.supervise('app-big-download', { HTTP_SEND_TIMEOUT_MS: '1000' });
    const direct = await edge.direct('app-big-download');
    const [through, reference] = await Promise.all([startUnreadDownload(sup.port), startUnreadDownload(direct)]);
    await sup.waitForLog((entry) => entry.event === 'send_timeout', 30_000);
    // The download from the app ends with it: nothing keeps reading from the app for a client that is gone.
    await eventually(() => sup.lines.find((line) => line.includes('fixture: download closed after')), 10_000, 'the download to end at the app');
    // A paused client learns of the close only once it reads again: the cut one ends, the reference goes on.
    const throughClosed = closed(through);
    through.resume();
    reference.resume();
    expect(await Promise.race([throughClosed, new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), 10_000))])).toBeLessThan(10_000);
    // The point of the wait: a second in which the reference, served directly, must stay connected.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(reference.destroyed).toBe(false);
    reference.destroy();
  }, 60_000);

  it('that keeps reading, however slowly, is not cut', async () => {
    const sup = await edge.supervise('app-big-download', { HTTP_SEND_TIMEOUT_MS: '1000' });
    const socket = await startUnreadDownload(sup.port);
    let received = 0;
    // A slow reader: a little every 300 ms for 4 s, each time making room for more.
    for (let i = 0; i < 13; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let chunk = socket.read() as Buffer | null; chunk; chunk = socket.read() as Buffer | null) received += chunk.length;
    }
    expect(socket.destroyed).toBe(false);
    expect(received).toBeGreaterThan(0);
    socket.destroy();
  }, 60_000);
});

describe('WebSockets', () => {
  it('an idle one is closed after HTTP_WEBSOCKET_IDLE_TIMEOUT_MS, a busy one stays open', async () => {
    const sup = await edge.supervise('app-big-download', { HTTP_WEBSOCKET_IDLE_TIMEOUT_MS: '1500' });
    const [idle, busy] = await Promise.all([openTunnel(sup.port, '/quiet'), openTunnel(sup.port, '/quiet')]);
    const echoes: Buffer[] = [];
    busy.on('data', (chunk: Buffer) => echoes.push(chunk));
    const idleClosed = closed(idle);
    for (let i = 0; i < 12; i++) {
      busy.write(`ping ${i}\n`);
      await new Promise((resolve) => setTimeout(resolve, 400));
    }
    expect(await Promise.race([idleClosed, new Promise<number>((resolve) => setTimeout(() => resolve(Number.NaN), 10_000))])).toBeLessThan(10_000);
    expect(busy.destroyed).toBe(false);
    expect(Buffer.concat(echoes).toString()).toContain('ping 11');
    busy.destroy();
  }, 60_000);

  it('an upgrade request announcing a body it never sends leaves the next handshake its own answer', async () => {
    const sup = await edge.supervise('app-counts-concurrency');
    const direct = await edge.direct('app-counts-concurrency');
    const withBody = 'GET /first HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 5\r\n\r\n';
    const plain = 'GET /second HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n';
    for (const port of [sup.port, direct]) {
      const first = await rawRequest(port, withBody, { until: (text) => text.includes('"seq"') });
      expect(first.status).toBe(200);
      const second = await rawRequest(port, plain, { until: (text) => text.includes('"seq"'), timeoutMs: 5_000 });
      expect(second.status).toBe(200);
      expect(JSON.parse(second.body.toString())).toMatchObject({ url: '/second' });
      expect(second.headAfterMs).toBeLessThan(3_000);
    }
  }, 60_000);
});
