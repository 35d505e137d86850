// Framing and headers at the edge, each compared with the echo app served directly: a response framed for the
// client's HTTP version, hop-by-hop headers removed without removing what the request needs, one Host, and
// X-Forwarded-* from the client side kept or replaced as TRUST_PROXY says.
import { beforeAll, describe, expect, it } from 'vitest';
import { echoed, echoOf, rawRequest, useEdge } from './harness.js';
import type { SupervisorProcess } from '../helpers/supervisor-process.js';

const edge = useEdge('edge_framing');
let trusting: SupervisorProcess;
let untrusting: SupervisorProcess;
let direct: number;

beforeAll(async () => {
  // On Render (RENDER set) its proxy's forwarding headers are trusted; elsewhere, by default, they are not.
  [trusting, untrusting] = await Promise.all([edge.superviseForFile('echo-app', { RENDER: 'true' }), edge.superviseForFile('echo-app')]);
}, 60_000);

describe('framing follows the client\'s HTTP version', () => {
  beforeAll(async () => {
    direct = await edge.direct('echo-app');
  });

  it.each([
    ['GET without Host', 'GET /stream HTTP/1.0\r\n\r\n'],
    ['GET with Host', 'GET /stream HTTP/1.0\r\nHost: example.com\r\n\r\n'],
    ['GET asking for keep-alive', 'GET /stream HTTP/1.0\r\nHost: example.com\r\nConnection: keep-alive\r\n\r\n'],
    ['POST with a body', 'POST /stream HTTP/1.0\r\nHost: example.com\r\nContent-Length: 5\r\n\r\nhello'],
  ])('an HTTP/1.0 %s gets a streamed response unchunked, ended by the close, as from the app', async (_what, request) => {
    const [through, reference] = await Promise.all([rawRequest(trusting.port, request), rawRequest(direct, request)]);
    for (const response of [through, reference]) {
      expect(response.statusLine).toMatch(/^HTTP\/1\.1 200/);
      expect(response.chunked).toBe(false);
      expect(response.header('transfer-encoding')).toBeUndefined();
      expect(response.closed).toBe(true);
    }
    // The hop to the app is HTTP/1.1 whatever the client spoke (as nginx's with proxy_http_version 1.1).
    expect(echoOf(through)).toMatchObject({ httpVersion: '1.1', url: '/stream', body: echoOf(reference).body });
  });

  it('an HTTP/1.0 HEAD gets no body and no chunking, as from the app', async () => {
    const request = 'HEAD /stream HTTP/1.0\r\nHost: example.com\r\n\r\n';
    const [through, reference] = await Promise.all([rawRequest(trusting.port, request), rawRequest(direct, request)]);
    expect(through.status).toBe(reference.status);
    expect(through.chunked).toBe(reference.chunked);
    expect(through.body.length).toBe(0);
  });

  it('an HTTP/1.1 client gets the same response chunked, as from the app', async () => {
    const request = 'GET /stream HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n';
    const [through, reference] = await Promise.all([rawRequest(trusting.port, request), rawRequest(direct, request)]);
    expect(through.chunked).toBe(true);
    expect(reference.chunked).toBe(true);
    expect(echoOf(through).url).toBe('/stream');
  });

  it('a response with a length keeps it, for either version', async () => {
    for (const version of ['1.0', '1.1']) {
      const response = await rawRequest(trusting.port, `GET /length HTTP/${version}\r\nHost: example.com\r\nConnection: close\r\n\r\n`);
      expect(response.chunked).toBe(false);
      expect(Number(response.header('content-length'))).toBe(response.body.length);
    }
  });
});

describe('hop-by-hop headers go, what the request needs stays', () => {
  it.each([
    ['Connection: Content-Length', 'Connection: Content-Length\r\nContent-Length: 11\r\n\r\nhello world'],
    ['Connection: close, content-length', 'Connection: close, content-length\r\nContent-Length: 11\r\n\r\nhello world'],
    ['Connection: Transfer-Encoding', 'Connection: Transfer-Encoding\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n'],
    ['Connection: TE, Trailer, Keep-Alive', 'Connection: TE, Trailer, Keep-Alive\r\nContent-Length: 11\r\n\r\nhello world'],
  ])('%s keeps the body', async (_what, rest) => {
    const echo = echoOf(await rawRequest(trusting.port, `POST /upload HTTP/1.1\r\nHost: example.com\r\n${rest}`, { until: (text) => text.includes('"body"') && text.endsWith('\r\n0\r\n\r\n') }));
    expect(echo.body).toBe('hello world');
  });

  it.each(['Connection: Host', 'Connection: host, close', 'Connection: keep-alive\r\nConnection: HOST'])('%s keeps Host', async (connection) => {
    const echo = echoOf(
      await rawRequest(trusting.port, `GET / HTTP/1.1\r\nHost: example.com\r\n${connection}\r\n\r\n`, { until: (text) => text.endsWith('\r\n0\r\n\r\n') }),
    );
    expect(echoed(echo, 'host')).toEqual(['example.com']);
    expect(echoed(echo, 'connection')).toEqual(['keep-alive']); // the supervisor's own, to the app
  });

  it.each(['Connection: X-Hop', 'Connection: keep-alive, x-hop', 'Connection: close\r\nConnection: X-HOP'])('%s removes X-Hop and Connection itself', async (connection) => {
    const echo = echoOf(
      await rawRequest(trusting.port, `GET / HTTP/1.1\r\nHost: example.com\r\nX-Hop: 1\r\nX-Kept: 2\r\n${connection}\r\n\r\n`, {
        until: (text) => text.endsWith('\r\n0\r\n\r\n'),
      }),
    );
    expect(echoed(echo, 'x-hop')).toEqual([]);
    expect(echoed(echo, 'x-kept')).toEqual(['2']);
  });
});

describe('one Host', () => {
  it.each([
    ['two values', 'Host: a.example\r\nHost: b.example'],
    ['one value twice', 'Host: a.example\r\nhost: a.example'],
    ['two spellings', 'Host: a.example\r\nHOST: b.example'],
  ])('a request with %s of Host gets 400 and does not reach the app', async (_what, hosts) => {
    for (const request of [`GET / HTTP/1.1\r\n${hosts}\r\nConnection: close\r\n\r\n`, `POST / HTTP/1.1\r\n${hosts}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi`]) {
      const response = await rawRequest(trusting.port, request);
      expect(response.status).toBe(400);
      expect(JSON.parse(response.body.toString())).toMatchObject({ error: { code: 'SUP_ERR_BAD_REQUEST' } });
      expect(response.raw).not.toContain('rawHeaders');
    }
  });

  it('an upgrade with two Hosts gets 400 too', async () => {
    const response = await rawRequest(
      trusting.port,
      'GET /ws HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    );
    expect(response.status).toBe(400);
  });
});

describe('X-Forwarded-* from the client side', () => {
  const CLIENT_SENT = [
    'X-Forwarded-For: 203.0.113.7',
    'x-forwarded-for: 198.51.100.2',
    'X-FORWARDED-PROTO: https',
    'x-forwarded-host: public.example',
    'Forwarded: for=203.0.113.7;proto=https',
  ].join('\r\n');
  const request = `GET / HTTP/1.1\r\nHost: example.com\r\n${CLIENT_SENT}\r\nConnection: close\r\n\r\n`;

  it('are kept, the peer appended, on Render (where its proxy set them)', async () => {
    const echo = echoOf(await rawRequest(trusting.port, request));
    expect(echoed(echo, 'x-forwarded-for')).toEqual(['203.0.113.7, 198.51.100.2, 127.0.0.1']);
    expect(echoed(echo, 'x-forwarded-proto')).toEqual(['https']);
    expect(echoed(echo, 'x-forwarded-host')).toEqual(['public.example']);
    expect(echoed(echo, 'forwarded')).toEqual(['for=203.0.113.7;proto=https']);
  });

  it('are replaced by what the supervisor sees elsewhere, by default', async () => {
    const echo = echoOf(await rawRequest(untrusting.port, request));
    expect(echoed(echo, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(echoed(echo, 'x-forwarded-proto')).toEqual(['http']);
    expect(echoed(echo, 'x-forwarded-host')).toEqual(['example.com']);
    expect(echoed(echo, 'forwarded')).toEqual([]);
  });

  it('are set by the supervisor when the client sent none, either way', async () => {
    for (const sup of [trusting, untrusting]) {
      const echo = echoOf(await rawRequest(sup.port, 'GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n'));
      expect(echoed(echo, 'x-forwarded-for')).toEqual(['127.0.0.1']);
      expect(echoed(echo, 'x-forwarded-proto')).toEqual(['http']);
      expect(echoed(echo, 'x-forwarded-host')).toEqual(['example.com']);
    }
  });

  it('are replaced on an upgrade too, by default', async () => {
    const response = await rawRequest(
      untrusting.port,
      `GET /ws HTTP/1.1\r\nHost: example.com\r\n${CLIENT_SENT}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    );
    expect(response.status).toBe(101);
    const echo = JSON.parse(response.body.toString()) as { rawHeaders: string[] };
    expect(echoed({ rawHeaders: echo.rawHeaders } as never, 'x-forwarded-for')).toEqual(['127.0.0.1']);
    expect(echoed({ rawHeaders: echo.rawHeaders } as never, 'x-forwarded-host')).toEqual(['example.com']);
  });
});
