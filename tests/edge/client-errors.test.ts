// Requests the parser cannot take, at the edge: each gets the right status with a short JSON body carrying its code,
// and the connection is closed after the answer is sent, without a reset that could destroy it (the rest of what
// the client sends is read and dropped first). Served directly, Node answers 431 to an overlong target too, with
// no body, and closes at once.
import { beforeAll, describe, expect, it } from 'vitest';
import { rawRequest, useEdge } from './harness.js';
import type { SupervisorProcess } from '../helpers/supervisor-process.js';

const edge = useEdge('edge_client_errors');
let sup: SupervisorProcess;
let direct: number;

beforeAll(async () => {
  [sup, direct] = await Promise.all([edge.superviseForFile('echo-app'), edge.direct('echo-app')]);
}, 60_000);

const codeOf = (body: Buffer): string => (JSON.parse(body.toString()) as { error: { code: string } }).error.code;

describe('requests the parser cannot take', () => {
  it('an overlong target gets 414 (SUP_ERR_URI_TOO_LONG), where Node served directly says 431', async () => {
    const request = `GET /${'a'.repeat(100 * 1024)} HTTP/1.1\r\nHost: example.com\r\n\r\n`;
    const [through, reference] = await Promise.all([rawRequest(sup.port, request), rawRequest(direct, request)]);
    expect(reference.status).toBe(431);
    expect(through.status).toBe(414);
    expect(codeOf(through.body)).toBe('SUP_ERR_URI_TOO_LONG');
    expect(through.header('connection')).toBe('close');
    expect(through.closed).toBe(true);
  });

  it.each([20, 100, 400])('%i KiB of headers get 431 (SUP_ERR_HEADERS_TOO_LARGE) in full, the rest of the request read and dropped', async (kib) => {
    const request = `GET / HTTP/1.1\r\nHost: example.com\r\n${`X-Filler: ${'h'.repeat(1000)}\r\n`.repeat(kib)}\r\n`;
    const through = await rawRequest(sup.port, request);
    expect(through.status).toBe(431);
    expect(codeOf(through.body)).toBe('SUP_ERR_HEADERS_TOO_LARGE');
    expect(through.closed).toBe(true);
  });

  it.each([
    ['a malformed request line', 'GET / HTTP/1.1 extra\r\nHost: example.com\r\n\r\n'],
    ['a header without a colon', 'GET / HTTP/1.1\r\nHost example.com\r\n\r\n'],
    ['both Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ])('%s gets 400 (SUP_ERR_BAD_REQUEST) with a body and a close', async (_what, request) => {
    const through = await rawRequest(sup.port, request);
    expect(through.status).toBe(400);
    expect(codeOf(through.body)).toBe('SUP_ERR_BAD_REQUEST');
    expect(through.closed).toBe(true);
    expect(through.raw).not.toContain('"rawHeaders"');
  });
});
