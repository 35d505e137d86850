// Every request counted as in flight is counted out when its connection goes away, whatever the client did: a
// SIGTERM afterwards drains at once instead of waiting out DRAIN_TIMEOUT_MS.
import net from 'node:net';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { recordFigure } from '../reliability/figures.js';
import { eventually, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { exitWithin } from '../reliability/harness.js';
import { useEdge } from './harness.js';

const edge = useEdge('edge_drain');
const DRAIN_TIMEOUT_MS = 20_000;
const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: example.com\r\n\r\n`;

// Opens a connection, lets `behave` write, waits until the app has received the connection's first request (it
// is in flight), and leaves.
async function abandon(sup: SupervisorProcess, behave: (socket: net.Socket) => void): Promise<void> {
  const received = (): number => sup.entries().filter((entry) => entry.msg === 'fixture: request received').length;
  const before = received();
  const socket = net.connect(sup.port, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  behave(socket);
  await eventually(() => (received() > before ? true : undefined), 10_000, 'the request at the app');
  socket.destroy();
}

describe('requests on abandoned connections', () => {
  it.each([
    ['three pipelined requests, then the connection dropped', (socket: net.Socket) => socket.write(get('/a') + get('/b') + get('/c'))],
    ['three pipelined requests, then the client half-closes', (socket: net.Socket) => socket.end(get('/a') + get('/b') + get('/c'))],
    ['one request, then the connection dropped', (socket: net.Socket) => socket.write(get('/a'))],
    ['an upload cut halfway', (socket: net.Socket) => socket.write('POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100000\r\n\r\npartial')],
    ['a pipelined request behind an upload cut halfway', (socket: net.Socket) => socket.write(`${get('/a')}POST /up HTTP/1.1\r\nHost: example.com\r\nContent-Length: 100000\r\n\r\npartial`)],
  ])('%s: SIGTERM drains at once', async (_what, behave) => {
    const sup = await edge.supervise('app-never-answers', { DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS) });
    await abandon(sup, behave);
    await abandon(sup, behave);
    const signalledAt = performance.now();
    sup.process.kill('SIGTERM');
    const exit = await exitWithin(sup, DRAIN_TIMEOUT_MS - 5_000);
    const tookMs = performance.now() - signalledAt;
    expect(exit.code).toBe(0);
    expect(sup.entries().filter((entry) => entry.event === 'drain_timeout')).toEqual([]);
    expect(sup.entries().find((entry) => entry.event === 'shutdown')).toMatchObject({ inFlight: 0 });
    recordFigure('abandoned connections', 'sigterm_to_exit_after_abandoned_requests', tookMs, 'ms');
  });
});
