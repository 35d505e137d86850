// Responses as the app sends them, when it sends them: a Server-Sent Events head at once, 103 Early Hints relayed,
// and a 504 when the app accepts a request and never answers it (APP_RESPONSE_TIMEOUT_MS), which cuts neither a
// stream nor a WebSocket.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { recordFigure } from '../reliability/figures.js';
import { rawRequest, useEdge } from './harness.js';

const edge = useEdge('edge_stream');
const headOf = (text: string): boolean => text.includes('\r\n\r\n');

describe('Server-Sent Events', () => {
  it.each([
    ['HTTP/1.1', 'GET /events HTTP/1.1\r\nHost: example.com\r\nAccept: text/event-stream\r\n\r\n'],
    ['HTTP/1.1 with Connection: keep-alive', 'GET /events HTTP/1.1\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n'],
    ['HTTP/1.0', 'GET /events HTTP/1.0\r\nHost: example.com\r\n\r\n'],
  ])('get their head as soon as the app flushes it (%s), long before the first event, as from the app', async (_what, request) => {
    const sup = await edge.supervise('app-server-sent-events');
    const direct = await edge.direct('app-server-sent-events');
    const [through, reference] = await Promise.all([rawRequest(sup.port, request, { until: headOf }), rawRequest(direct, request, { until: headOf })]);
    for (const response of [through, reference]) {
      expect(response.status).toBe(200);
      expect(response.header('content-type')).toBe('text/event-stream');
      expect(response.headAfterMs).toBeLessThan(2_000); // the first event comes after 3 s
    }
    recordFigure('server-sent events', 'sse_head_through_supervisor', through.headAfterMs, 'ms');
    const events = await rawRequest(sup.port, request, { until: (text) => text.includes('data: event 1') });
    expect(events.body.toString()).toContain('data: event 0');
  });
});

describe('103 Early Hints', () => {
  it('reach an HTTP/1.1 client before the final response, with every header, as from the app', async () => {
    const sup = await edge.supervise('app-early-hints');
    const direct = await edge.direct('app-early-hints');
    const request = 'GET /page HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n';
    const [through, reference] = await Promise.all([rawRequest(sup.port, request), rawRequest(direct, request)]);
    for (const response of [through, reference]) {
      expect(response.interim).toHaveLength(1);
      const hints = (response.interim[0] as string).split('\r\n');
      expect(hints[0]).toBe('HTTP/1.1 103 Early Hints');
      expect(hints.slice(1).map((line) => line.toLowerCase())).toEqual(
        expect.arrayContaining(['link: </style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script', 'x-hint: early']),
      );
      expect(response.status).toBe(200);
      expect(response.body.toString()).toBe('<p>page</p>');
    }
  });

  it('are not sent to an HTTP/1.0 client, which does not expect them', async () => {
    const sup = await edge.supervise('app-early-hints');
    const response = await rawRequest(sup.port, 'GET /page HTTP/1.0\r\nHost: example.com\r\n\r\n');
    expect(response.interim).toEqual([]);
    expect(response.status).toBe(200);
  });
});

describe('an app that never answers', () => {
  it.each([
    ['an API client', 'GET /never HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n', 'application/json'],
    ['a browser', 'GET /never HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\r\nConnection: close\r\n\r\n', 'text/html; charset=utf-8'],
    ['an upload', 'POST /never HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello', 'application/json'],
    ['an HTTP/1.0 client', 'GET /never HTTP/1.0\r\n\r\n', 'application/json'],
  ])('gets %s a 504 after APP_RESPONSE_TIMEOUT_MS, and the request to the app is aborted', async (_what, request, type) => {
    const sup = await edge.supervise('app-never-answers', { APP_RESPONSE_TIMEOUT_MS: '1000' });
    const response = await rawRequest(sup.port, request);
    expect(response.status).toBe(504);
    expect(response.header('content-type')).toBe(type);
    expect(response.header('retry-after')).toBe('5');
    if (type === 'application/json') expect(JSON.parse(response.body.toString())).toMatchObject({ error: { code: 'SUP_ERR_APP_RESPONSE_TIMEOUT' } });
    else expect(response.body.toString()).toContain('took too long');
    expect(response.endAfterMs).toBeGreaterThanOrEqual(1_000);
    expect(response.endAfterMs).toBeLessThan(3_000);
    recordFigure('response timeout', 'response_timeout_1000_answered_after', response.endAfterMs, 'ms');
    await sup.waitForLog((entry) => entry.event === 'app_response_timeout');
    await sup.waitForLog((entry) => entry.msg === 'fixture: request closed by the client');
  });

  it('holds the client with APP_RESPONSE_TIMEOUT_MS=0', async () => {
    const sup = await edge.supervise('app-never-answers', { APP_RESPONSE_TIMEOUT_MS: '0' });
    const response = await rawRequest(sup.port, 'GET /never HTTP/1.1\r\nHost: example.com\r\n\r\n', { timeoutMs: 2_500 });
    expect(response.raw).toBe('');
  });
});

describe('the response timeout', () => {
  it('cuts neither a stream whose head came in time nor a WebSocket, and no answer at all when it is 0', async () => {
    const sse = await edge.supervise('app-server-sent-events', { APP_RESPONSE_TIMEOUT_MS: '500' });
    const events = await rawRequest(sse.port, 'GET /events HTTP/1.1\r\nHost: example.com\r\n\r\n', { until: (text) => text.includes('data: event 2') });
    expect(events.status).toBe(200);
    expect(events.body.toString()).toContain('data: event 2'); // 3 s after the head

    const ws = await edge.supervise('app', { APP_RESPONSE_TIMEOUT_MS: '500' });
    const socket = new WebSocket(`ws://127.0.0.1:${ws.port}/ws`);
    await once(socket, 'open');
    // The point of the wait: the WebSocket stays quiet for three times APP_RESPONSE_TIMEOUT_MS, and must not be cut.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    socket.send('still here');
    const echoed = await new Promise<string>((resolve) => socket.on('message', (data) => String(data) === 'still here' && resolve(String(data))));
    expect(echoed).toBe('still here');
    socket.close();
    expect((await fetch(`${ws.url}/slow?ms=1200`)).status).toBe(504);
    expect((await fetch(`${ws.url}/slow?ms=100`)).status).toBe(200);

    const patient = await edge.supervise('app', { APP_RESPONSE_TIMEOUT_MS: '0' });
    expect((await fetch(`${patient.url}/slow?ms=1200`)).status).toBe(200);
  });
});
