// The Node internals the edge relies on, where Node has no public API for the same: checked here so that a Node
// upgrade that changes them fails this test by name instead of changing the edge's behaviour in silence.
// - `res._writeRaw` (response-head.ts): a 103 Early Hints relayed with the app's own headers (`writeEarlyHints` takes
//   only Link values it validates, and drops a 103 without one).
// - `socket._httpMessage` (proxy.ts's response timeout, connection-budget.ts, client-errors.ts): the response
//   (server side) or request (client side) a connection carries now, null between requests.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

type WithMessage = Socket & { _httpMessage?: unknown };
let server: http.Server;
let port: number;
const seen: { during?: unknown; response?: unknown; socket?: WithMessage } = {};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.socket = req.socket as WithMessage;
    seen.during = seen.socket._httpMessage;
    seen.response = res;
    (res as unknown as { _writeRaw(data: string, encoding: BufferEncoding): boolean })._writeRaw('HTTP/1.1 103 Early Hints\r\nX-Hint: a\r\n\r\n', 'latin1');
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('Node internals used by the edge', () => {
  it('ServerResponse#_writeRaw writes raw bytes before the response head (a 1xx reaches the client)', async () => {
    const agent = new http.Agent({ keepAlive: true });
    const request = http.get({ host: '127.0.0.1', port, agent });
    const informed = once(request, 'information');
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    const [info] = (await informed) as [http.InformationEvent];
    expect(info).toMatchObject({ statusCode: 103, headers: { 'x-hint': 'a' } });
    // While the request is under way, both sides' sockets carry their message.
    expect(seen.during).toBe(seen.response);
    expect((request.socket as WithMessage)._httpMessage).toBe(request);
    response.resume();
    await once(response, 'end');
    await new Promise((resolve) => setImmediate(resolve));
    // Between requests, neither does: a kept-alive connection is idle.
    expect(seen.socket?._httpMessage ?? null).toBeNull();
    agent.destroy();
  });
});
