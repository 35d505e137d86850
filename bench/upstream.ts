// The benchmark's upstream: a minimal Express app, as the supervised app is Express too. The same process
// is measured directly, through the supervisor and through a reference proxy. Listens on $HOST:$PORT.
import http from 'node:http';
import express from 'express';
import { WebSocketServer } from 'ws';
import { listenSettings } from './config.js';

const SMALL_BODY = JSON.stringify({ ok: true, items: Array.from({ length: 8 }, (_, i) => ({ id: i, name: `item-${i}` })) });
const LARGE_BODY = Buffer.alloc(64 * 1024, 'x');

const app = express();
app.disable('x-powered-by');
app.disable('etag');
app.get(['/small', '/health'], (_req, res) => {
  res.type('application/json').send(SMALL_BODY);
});
app.get('/large', (_req, res) => {
  res.type('application/octet-stream').send(LARGE_BODY);
});
app.post('/echo', (req, res) => {
  res.type(req.headers['content-type'] ?? 'application/octet-stream');
  req.pipe(res);
});

const server = http.createServer(app);
const sockets = new WebSocketServer({ server, path: '/ws' });
sockets.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));

const { port, host } = listenSettings();
server.listen(port, host);
process.on('SIGTERM', () => {
  for (const client of sockets.clients) client.close(1001);
  server.close(() => process.exit(0));
});
