// The benchmark's upstream: the same tiny app is measured directly, through the supervisor and through a
// reference proxy. Listens on $HOST:$PORT like any supervised app.
import http from 'node:http';
import { WebSocketServer } from 'ws';

export const SMALL_BODY = JSON.stringify({ ok: true, items: Array.from({ length: 8 }, (_, i) => ({ id: i, name: `item-${i}` })) });
export const LARGE_BODY = Buffer.alloc(64 * 1024, 'x');

const server = http.createServer((req, res) => {
  if (req.url === '/small' || req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(SMALL_BODY) });
    return res.end(SMALL_BODY);
  }
  if (req.url === '/large') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': LARGE_BODY.length });
    return res.end(LARGE_BODY);
  }
  if (req.url === '/echo' && req.method === 'POST') {
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' });
    return req.pipe(res);
  }
  res.writeHead(404).end();
});
const sockets = new WebSocketServer({ server, path: '/ws' });
sockets.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));

server.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  for (const client of sockets.clients) client.close(1001);
  server.close(() => process.exit(0));
});
