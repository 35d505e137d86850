import { describe, expect, it } from 'vitest';
import { downstreamResponseHeaders, upstreamRequestHeaders } from '../../../supervisor/http/proxy-headers.js';

const client = { ip: '10.0.0.9', encrypted: false };

describe('upstreamRequestHeaders', () => {
  it('drops hop-by-hop headers, also those the Connection header names, and adds X-Forwarded-*', () => {
    const { headers, hasBody } = upstreamRequestHeaders(
      ['Host', 'example.com', 'Connection', 'keep-alive, X-Secret-Hop', 'X-Secret-Hop', '1', 'Keep-Alive', 'timeout=5', 'Accept', '*/*'],
      client,
      false,
      true,
    );
    expect(headers).toEqual(['Host', 'example.com', 'Accept', '*/*', 'X-Forwarded-For', '10.0.0.9', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'example.com']);
    expect(hasBody).toBe(false);
  });

  it('appends the client to every X-Forwarded-For line and keeps what a proxy in front set', () => {
    const { headers } = upstreamRequestHeaders(
      ['X-Forwarded-For', '203.0.113.1', 'x-forwarded-for', '198.51.100.2', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'app.example'],
      { ip: '10.0.0.9', encrypted: false },
      false,
      true,
    );
    expect(headers).toEqual(['X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'app.example', 'X-Forwarded-For', '203.0.113.1, 198.51.100.2, 10.0.0.9']);
  });

  it('keeps Connection and Upgrade for an upgrade', () => {
    const { headers } = upstreamRequestHeaders(['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Protocol', 'chat'], client, true, true);
    expect(headers.slice(0, 6)).toEqual(['Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Protocol', 'chat']);
  });

  it.each([
    [['Content-Length', '12'], { hasBody: true, chunked: false }],
    [['Content-Length', '0'], { hasBody: false, chunked: false }],
    [['Transfer-Encoding', 'chunked'], { hasBody: true, chunked: true }],
    [[], { hasBody: false, chunked: false }],
  ])('sees whether %j has a body, and how it is framed', (raw, expected) => {
    expect(upstreamRequestHeaders(raw, client, false, true)).toMatchObject(expected);
  });

  it.each([
    [['EXPECT', '100-continue', 'Content-Length', '5'], true],
    [['Content-Length', '5'], false],
  ])('sees whether %j has an Expect header', (raw, expected) => {
    expect(upstreamRequestHeaders(raw, client, false, true).hasExpect).toBe(expected);
  });
});

describe('what a Connection header may not remove', () => {
  it.each([
    ['Content-Length', ['Content-Length', '5', 'Connection', 'Content-Length'], ['Content-Length', '5']],
    ['Host', ['Host', 'h', 'Connection', 'close, host'], ['Host', 'h']],
    ['Transfer-Encoding', ['Transfer-Encoding', 'chunked', 'connection', 'TRANSFER-ENCODING'], ['Transfer-Encoding', 'chunked']],
  ])('keeps %s', (_name, raw, kept) => {
    expect(upstreamRequestHeaders(raw, client, false, true).headers.slice(0, 2)).toEqual(kept);
  });
});

describe('Host', () => {
  it.each([
    [['Host', 'a', 'Host', 'b'], true, false],
    [['Host', 'a', 'host', 'a'], true, false],
    [['Host', 'a'], false, false],
    [[], false, true],
  ])('%j: duplicate %s, missing %s', (raw, duplicateHost, missingHost) => {
    expect(upstreamRequestHeaders(raw, client, false, true)).toMatchObject({ duplicateHost, missingHost });
    expect(upstreamRequestHeaders(raw, client, true, true)).toMatchObject({ duplicateHost, missingHost });
  });
});

describe('X-Forwarded-* from the client side', () => {
  const raw = ['Host', 'h', 'X-Forwarded-For', '203.0.113.1', 'X-Forwarded-Proto', 'https', 'x-forwarded-host', 'evil.example', 'Forwarded', 'for=203.0.113.1'];

  it('are kept when trusted', () => {
    expect(upstreamRequestHeaders(raw, client, false, true).headers).toEqual([
      'Host', 'h', 'X-Forwarded-Proto', 'https', 'x-forwarded-host', 'evil.example', 'Forwarded', 'for=203.0.113.1',
      'X-Forwarded-For', '203.0.113.1, 10.0.0.9',
    ]);
  });

  it.each([false, true])('are replaced when not trusted (upgrade: %s)', (upgrade) => {
    expect(upstreamRequestHeaders(raw, client, upgrade, false).headers).toEqual([
      'Host', 'h', 'X-Forwarded-For', '10.0.0.9', 'X-Forwarded-Proto', 'http', 'X-Forwarded-Host', 'h',
    ]);
  });
});

describe('downstreamResponseHeaders', () => {
  it('drops Transfer-Encoding, which Node frames again for the client, and keeps a Content-Length that Connection names', () => {
    expect(downstreamResponseHeaders(['Transfer-Encoding', 'chunked', 'Content-Type', 'text/plain'], false)).toEqual({ 'content-type': 'text/plain' });
    expect(downstreamResponseHeaders(['Content-Length', '3', 'Connection', 'content-length'], false)).toEqual({ 'content-length': '3' });
  });

  it('drops hop-by-hop headers, keeps repeated ones, and closes the connection while draining', () => {
    const raw = ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5'];
    expect(downstreamResponseHeaders(raw, false)).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
    expect(downstreamResponseHeaders(raw, true)).toMatchObject({ connection: 'close' });
  });
});
