// The reference point: about the least a node:http proxy can do (keep-alive agent, pipe both ways).
import http from 'node:http';
import { listenSettings } from './config.js';

const { port, targetPort: target } = listenSettings();
const agent = new http.Agent({ keepAlive: true, maxFreeSockets: 256 });

http
  .createServer((req, res) => {
    const upstream = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers, agent }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
      upstreamRes.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  })
  .listen(port, '127.0.0.1');
