// Hostile clients at the public port: each is cut off by a limit while everyone else keeps being served.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../supervisor/core/config.js';
import { useSupervisorFixture } from '../helpers/supervisor-fixture.js';
import { eventually, healthOf } from '../helpers/supervisor-process.js';
import { percentile, recordFigure } from './figures.js';
import { errorsLogged, logged } from './harness.js';
import { startLoad, succeeded, type Outcome } from './load.js';

const fixture = useSupervisorFixture('rel_hostile');
const HEADERS_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 2_000;
const MAX_WEBSOCKETS = 16;
// A client the server has not cut off by then is taken as hanging: many times the limits above, for a busy machine.
const HANG_MS = 20_000;

/** How the server ended a raw connection: what it answered, if anything, and when it closed. */
interface Cut {
  readonly answer: string;
  readonly closed: boolean;
  readonly closedAfterMs: number;
}

// Opens a raw TCP connection, lets `behave` misbehave on it, and resolves once the server closes it.
// With `halfOpen`, the client keeps its side open after the server's ends, as a hostile one may.
async function rawClient(port: number, behave: (socket: net.Socket) => void, halfOpen = false): Promise<Cut> {
  const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: halfOpen });
  await once(socket, 'connect');
  const openedAt = performance.now();
  let answer = '';
  socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
  socket.on('error', () => {});
  // Not events.once: a reset after the answer (the client still writing) is an error event, and still a cut.
  const closed = new Promise<Cut>((resolve) => socket.once('close', () => resolve({ answer, closed: true, closedAfterMs: performance.now() - openedAt })));
  behave(socket);
  const hung = sleep(HANG_MS).then(() => ({ answer, closed: false, closedAfterMs: Number.NaN }));
  const cut = await Promise.race([closed, hung]);
  socket.destroy();
  return cut;
}

function writeEvery(socket: net.Socket, ms: number, chunk: (n: number) => string): void {
  let n = 0;
  const timer = setInterval(() => socket.writable && socket.write(chunk(n++)), ms);
  socket.once('close', () => clearInterval(timer));
}

const statusOf = (cut: Cut): string => `${cut.closed ? '' : `still open after ${HANG_MS} ms: `}${cut.answer.slice(0, 12)}`;

async function openWebSocket(port: number): Promise<{ socket: WebSocket; status: number }> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  socket.on('error', () => {});
  return new Promise((resolve) => {
    socket.once('open', () => resolve({ socket, status: 101 }));
    socket.once('unexpected-response', (_req, res) => {
      resolve({ socket, status: res.statusCode ?? 0 });
      res.resume();
    });
    socket.once('close', () => resolve({ socket, status: 0 }));
  });
}

// Echo round trips on one WebSocket every `everyMs` until stopped.
function pingLoop(socket: WebSocket, everyMs: number): { readonly rtts: number[]; stop(): Promise<void> } {
  const rtts: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let n = 0; running; n++) {
      const sentAt = performance.now();
      const echoed = new Promise<void>((resolve) => {
        const onMessage = (data: WebSocket.RawData): void => {
          if (data.toString() !== `ping ${n}`) return;
          socket.off('message', onMessage);
          resolve();
        };
        socket.on('message', onMessage);
      });
      socket.send(`ping ${n}`);
      await echoed;
      rtts.push(performance.now() - sentAt);
      await sleep(everyMs);
    }
  })();
  return {
    rtts,
    async stop() {
      running = false;
      await loop;
    },
  };
}

function latencies(outcomes: readonly Outcome[], from: number, to: number): number[] {
  return outcomes.filter((outcome) => outcome.startedAt >= from && outcome.startedAt < to).map((outcome) => outcome.endedAt - outcome.startedAt);
}

describe('hostile clients at the public port', () => {
  it('cuts off slow headers, oversized headers, malformed requests, endless bodies and a WebSocket flood; others keep being served', { timeout: 90_000 }, async () => {
    const sup = await fixture.start({
      HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      HTTP_MAX_WEBSOCKETS: String(MAX_WEBSOCKETS),
    });
    await sup.waitForPhase('ready');
    const { port } = sup;

    // Well-behaved clients: keep-alive requests, a new connection per request, the health check, a live WebSocket.
    const goodWebSocket = await openWebSocket(port);
    expect(goodWebSocket.status).toBe(101);
    const goodOpenedAt = performance.now();
    const pings = pingLoop(goodWebSocket.socket, 50);
    const keepAlive = startLoad({ port, concurrency: 4, path: () => '/status/200' });
    const fresh = startLoad({ port, concurrency: 2, path: () => '/status/200', keepAlive: false });
    const health = startLoad({ port, concurrency: 1, path: () => '/health' });
    const baselineFrom = performance.now();
    await eventually(() => (keepAlive.outcomes.filter(succeeded).length >= 200 ? true : undefined), 20_000, 'baseline traffic');
    const attackFrom = performance.now();

    const slowloris = Array.from({ length: 40 }, () =>
      rawClient(port, (socket) => {
        socket.write('GET /status/200 HTTP/1.1\r\nHost: localhost\r\n');
        writeEvery(socket, 200, (n) => `X-Slow-${n}: y\r\n`);
      }),
    );
    const silent = Array.from({ length: 20 }, () => rawClient(port, () => {}));
    const oversized = Array.from({ length: 5 }, () =>
      rawClient(port, (socket) => socket.write(`GET /status/200 HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`)),
    );
    const malformed = ['GARBAGE / HTTP/9.9\r\n\r\n', 'GET /status/200 HTTP/1.1\r\nHost localhost\r\n\r\n', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n'].map(
      (request) => rawClient(port, (socket) => socket.write(request)),
    );
    const endlessBodies = [
      ...Array.from({ length: 5 }, () =>
        rawClient(port, (socket) => socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n${'b'.repeat(1024)}`)),
      ),
      ...Array.from({ length: 5 }, () =>
        rawClient(port, (socket) => socket.write(`POST /upload HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n${'c'.repeat(1024)}\r\n`)),
      ),
    ];
    const flood = await Promise.all(Array.from({ length: 2 * MAX_WEBSOCKETS }, () => openWebSocket(port)));
    const flooding = flood.filter((ws) => ws.status === 101);
    const upgradeRequest = 'GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
    // Refused, yet keeping its own side open and writing: the server must close the connection, not just end its side.
    const halfOpenCuts = await Promise.all(
      Array.from({ length: 3 }, () =>
        rawClient(
          port,
          (socket) => {
            socket.write(upgradeRequest);
            socket.once('end', () => writeEvery(socket, 100, () => 'x'));
          },
          true,
        ),
      ),
    );
    const blaster = flooding[0]?.socket as WebSocket;
    let echoes = 0;
    blaster.on('message', () => echoes++);
    const message = Buffer.alloc(16 * 1024, 'x');
    for (let n = 0; n < 200; n++) blaster.send(message);

    const [slowCuts, silentCuts, oversizedCuts, malformedCuts, bodyCuts] = await Promise.all([
      Promise.all(slowloris),
      Promise.all(silent),
      Promise.all(oversized),
      Promise.all(malformed),
      Promise.all(endlessBodies),
    ]);
    await eventually(() => (echoes === 200 ? true : undefined), 20_000, 'the flood echoed back');
    const attackTo = performance.now();
    await sleep(Math.max(0, REQUEST_TIMEOUT_MS + 500 - (performance.now() - goodOpenedAt)));
    const [keepAliveOutcomes, freshOutcomes, healthOutcomes] = await Promise.all([keepAlive.stop(), fresh.stop(), health.stop()]);
    await pings.stop();

    // Each hostile client was cut off by its limit.
    expect(slowCuts.map(statusOf)).toEqual(slowCuts.map(() => 'HTTP/1.1 408'));
    expect(silentCuts.every((cut) => cut.closed)).toBe(true);
    expect(oversizedCuts.map(statusOf)).toEqual(oversizedCuts.map(() => 'HTTP/1.1 431'));
    expect(malformedCuts.map(statusOf)).toEqual(malformedCuts.map(() => 'HTTP/1.1 400'));
    expect(bodyCuts.map(statusOf)).toEqual(bodyCuts.map(() => 'HTTP/1.1 408'));
    expect(flooding).toHaveLength(MAX_WEBSOCKETS - 1); // the good WebSocket holds one place
    expect(flood.filter((ws) => ws.status === 503)).toHaveLength(MAX_WEBSOCKETS + 1);
    expect(halfOpenCuts.map(statusOf)).toEqual(halfOpenCuts.map(() => 'HTTP/1.1 503'));
    expect(logged(sup, 'websocket_limit')).toHaveLength(1);

    // Everyone else was served throughout, health check included.
    for (const outcomes of [keepAliveOutcomes, freshOutcomes, healthOutcomes]) {
      expect(outcomes.filter((outcome) => !succeeded(outcome))).toEqual([]);
      expect(outcomes.filter((outcome) => outcome.startedAt >= attackFrom && outcome.startedAt < attackTo).length).toBeGreaterThan(0);
    }
    const good = [...keepAliveOutcomes, ...freshOutcomes, ...healthOutcomes];
    const scenario = 'hostile clients';
    recordFigure(scenario, 'hostile_good_p99_baseline', percentile(latencies(good, baselineFrom, attackFrom), 99), 'ms');
    recordFigure(scenario, 'hostile_good_p99_under_attack', percentile(latencies(good, attackFrom, attackTo), 99), 'ms');
    recordFigure(scenario, 'hostile_good_websocket_echo_p99', percentile(pings.rtts, 99), 'ms');
    recordFigure(scenario, 'hostile_slowloris_cut_median', percentile(slowCuts.map((cut) => cut.closedAfterMs), 50), 'ms');
    recordFigure(scenario, 'hostile_endless_body_cut_median', percentile(bodyCuts.map((cut) => cut.closedAfterMs), 50), 'ms');

    // Limits that do not get in the way: the good WebSocket outlived the request timeout and still echoes; once the
    // flood is gone its places are free again; an upload slower than the header timeout goes through.
    expect(performance.now() - goodOpenedAt).toBeGreaterThan(REQUEST_TIMEOUT_MS);
    expect(goodWebSocket.socket.readyState).toBe(WebSocket.OPEN);
    for (const ws of flood) ws.socket.terminate();
    const again = await eventually(async () => {
      const ws = await openWebSocket(port);
      if (ws.status === 101) return ws;
      ws.socket.terminate();
      return undefined;
    }, 10_000, 'a free WebSocket place');
    again.socket.close();
    goodWebSocket.socket.close();
    const upload = await slowUpload(port, 16, 100, 4096);
    expect(upload).toEqual({ status: 200, body: { bytes: 16 * 4096 } });
    expect((await healthOf(sup.url)).status).toBe(200);
    expect(errorsLogged(sup)).toEqual([]);
  });

  it('refuses a header timeout above the request timeout, naming both', () => {
    const APP = { DATABASE_URL: 'postgres://app@db/app', APP_COMMAND: 'node server.js' };
    expect(() =>
      loadConfig({ ...APP, HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '1000' }),
    ).toThrow('Expected `HTTP_HEADERS_TIMEOUT_MS` (5000) to be no greater than `HTTP_REQUEST_TIMEOUT_MS` (1000)');
    expect(loadConfig({ ...APP, HTTP_REQUEST_TIMEOUT_MS: '0' })).toMatchObject({
      httpHeadersTimeoutMs: 66_000,
      httpRequestTimeoutMs: 0,
      httpMaxWebSockets: 10_000,
    });
  });
});

// A legitimate upload that takes longer than the header timeout: `chunks` chunks, one every `everyMs`.
async function slowUpload(port: number, chunks: number, everyMs: number, size: number): Promise<{ status: number; body: unknown }> {
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { 'content-length': chunks * size } });
  const response = once(req, 'response') as Promise<[http.IncomingMessage]>;
  for (let n = 0; n < chunks; n++) {
    await sleep(everyMs);
    req.write(Buffer.alloc(size, 'u'));
  }
  req.end();
  const [res] = await response;
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, body: JSON.parse(body) as unknown };
}
