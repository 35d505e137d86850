// An app's answer to an upload reaches the client as the app sent it, read body or not; `Expect: 100-continue`
// is the app's to answer.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/supervisor-process.js';
import { recordFigure } from '../reliability/figures.js';
import { echoOf, rawRequest, useEdge } from './harness.js';

const edge = useEdge('edge_early');
const BIG = 8 * 1024 * 1024;

// Uploads `size` bytes (Content-Length, or chunked) with node:http and says what came back: a status, or the error.
async function upload(port: number, size: number, chunked: boolean): Promise<number | string> {
  return new Promise((resolve) => {
    // A connection of its own, which the server may keep open (so that the app's server reads and drops the rest).
    const headers: http.OutgoingHttpHeaders = { connection: 'keep-alive', ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': size }) };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/upload', headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += String(chunk)));
      res.on('end', () => resolve(res.statusCode === 401 && body === '{"error":"unauthorized"}' ? 401 : `${res.statusCode} ${body}`));
      res.on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
    });
    req.on('error', (error) => resolve((error as NodeJS.ErrnoException).code ?? error.message));
    req.setTimeout(10_000, () => {
      resolve('no answer in 10 s');
      req.destroy();
    });
    const chunk = Buffer.alloc(64 * 1024, 'u');
    for (let sent = 0; sent < size; sent += chunk.length) req.write(chunk);
    req.end();
  });
}

function tally(outcomes: readonly (number | string)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[String(outcome)] = (counts[String(outcome)] ?? 0) + 1;
  return counts;
}

describe('an early answer to an upload', () => {
  it.each([
    ['with a Content-Length', false],
    ['chunked', true],
  ])('reaches the client every time, %s, as from the app', async (_what, chunked) => {
    const sup = await edge.supervise('app-answers-early');
    const direct = await edge.direct('app-answers-early');
    for (const port of [direct, sup.port]) {
      const outcomes: (number | string)[] = [];
      for (let n = 0; n < 20; n++) outcomes.push(await upload(port, BIG, chunked));
      expect({ via: port === direct ? 'direct' : 'supervisor', ...tally(outcomes) }).toEqual({ via: port === direct ? 'direct' : 'supervisor', 401: 20 });
    }
    // The connection stays usable: the rest of the upload was read and dropped.
    expect((await fetch(`${sup.url}/after`)).status).toBe(200);
  });

  it.each([
    ['Content-Length', (body: Buffer) => `Content-Length: ${body.length}\r\n\r\n`, (body: Buffer) => body],
    ['chunked', () => 'Transfer-Encoding: chunked\r\n\r\n', (body: Buffer) => Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')])],
  ])('leaves the connection usable once the client has sent the rest (%s): the next request on it is answered', async (_what, head, framed) => {
    const sup = await edge.supervise('app-answers-early');
    const body = Buffer.alloc(4 * 1024 * 1024, 'r');
    const socket = net.connect(sup.port, '127.0.0.1');
    await once(socket, 'connect');
    let received = '';
    socket.on('data', (data: Buffer) => (received += data.toString('latin1')));
    socket.write(`POST /upload HTTP/1.1\r\nHost: example.com\r\n${head(body)}`);
    socket.write(framed(body));
    await eventually(() => (received.includes('{"error":"unauthorized"}') ? true : undefined), 10_000, 'the 401');
    socket.write('GET /next HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n');
    await once(socket, 'close');
    expect(received).toMatch(/^HTTP\/1\.1 401 [^]*HTTP\/1\.1 200 [^]*\r\nup\r\n/);
  });

  it('from an app that also resets the connection reaches the client at least as often as from the app itself', async () => {
    const sup = await edge.supervise('app-answers-early-and-closes');
    const direct = await edge.direct('app-answers-early-and-closes');
    const outcomes = { direct: [] as (number | string)[], through: [] as (number | string)[] };
    for (let n = 0; n < 30; n++) {
      outcomes.direct.push(await upload(direct, BIG, false));
      outcomes.through.push(await upload(sup.port, BIG, false));
    }
    // Through the supervisor: the 401, or a 502 when the reset beat the answer; never a cut or a hang.
    const through = tally(outcomes.through);
    console.log('early answers with a reset', { direct: tally(outcomes.direct), through });
    expect(Object.keys(through).filter((outcome) => outcome !== '401' && !outcome.startsWith('502 {"error":{"code":"SUP_ERR_APP_UNREACHABLE"'))).toEqual([]);
    recordFigure('early answers', 'early_answer_with_reset_401_direct', ((tally(outcomes.direct)['401'] ?? 0) / 30) * 100, '%');
    recordFigure('early answers', 'early_answer_with_reset_401_through', ((through['401'] ?? 0) / 30) * 100, '%');
  });
});

describe('Expect: 100-continue', () => {
  const expectRequest = (port: number, expectValue: string) =>
    rawRequest(port, `POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nExpect: ${expectValue}\r\nConnection: close\r\n\r\n`, {
      then: { afterSeeing: '100 Continue', write: 'hello' },
      timeoutMs: 3_000,
    });

  it.each(['100-continue', '100-Continue', '100-CONTINUE'])('Expect: %s that the app refuses gets its 417, no 100, and no body is asked for', async (value) => {
    const sup = await edge.supervise('app-refuses-expect');
    const direct = await edge.direct('app-refuses-expect');
    const [through, reference] = await Promise.all([expectRequest(sup.port, value), expectRequest(direct, value)]);
    for (const response of [through, reference]) {
      expect(response.interim).toEqual([]);
      expect(response.status).toBe(417);
      expect(response.body.toString()).toBe('no expectations here');
    }
  });

  it.each(['100-continue', '100-Continue'])('Expect: %s that the app accepts gets its 100 Continue, then the body goes through', async (value) => {
    const sup = await edge.supervise('echo-app');
    const direct = await edge.direct('echo-app');
    const [through, reference] = await Promise.all([expectRequest(sup.port, value), expectRequest(direct, value)]);
    for (const response of [through, reference]) {
      expect(response.interim.map((head) => head.split('\r\n')[0])).toEqual(['HTTP/1.1 100 Continue']);
      expect(response.status).toBe(200);
      expect(echoOf(response).body).toBe('hello');
    }
  });

  it('an expectation other than 100-continue is the app\'s to answer too', async () => {
    const sup = await edge.supervise('app-refuses-expect');
    const response = await rawRequest(sup.port, 'GET / HTTP/1.1\r\nHost: example.com\r\nExpect: something-else\r\nConnection: close\r\n\r\n');
    expect(response.status).toBe(417);
    expect(response.body.toString()).toBe('no expectations here');
  });

  it('an own path with Expect: 100-continue is answered by the supervisor', async () => {
    const sup = await edge.supervise('app-refuses-expect');
    const response = await expectRequest(sup.port, '100-continue').then(() =>
      rawRequest(sup.port, 'GET /health HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n'),
    );
    expect(response.status).toBe(200);
  });
});
