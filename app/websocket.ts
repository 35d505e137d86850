// WebSocket endpoint at /ws: sends every committed change to every connected client.
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { EventHub } from './events.js';

const HEARTBEAT_INTERVAL_MS = 30_000;
const CLOSE_GRACE_MS = 2_000;

/** 1001 "going away": the server is shutting down. */
export const CLOSE_GOING_AWAY = 1001;

export interface WebSockets {
  readonly clientCount: number;
  /** Closes every client with 1001 and stops accepting new ones; resolves once they are gone. */
  close(): Promise<void>;
}

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

export function attachWebSockets(
  server: http.Server,
  options: { readonly events: EventHub; readonly logger: Logger; readonly path?: string },
): WebSockets {
  const path = options.path ?? '/ws';
  const logger = options.logger.child({ module: 'websocket' });
  // Clients only listen; they have nothing big to send.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const alive = new WeakSet<WebSocket>();
  let closing = false;

  server.on('upgrade', (req, socket, head) => {
    // A target that does not parse is the client's mistake: it must not take the server down.
    const url = URL.parse(req.url ?? '/', 'http://localhost');
    if (url === null) return refuse(socket, '400 Bad Request');
    if (url.pathname !== path) return refuse(socket, '404 Not Found');
    if (closing) return refuse(socket, '503 Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws) => {
    alive.add(ws);
    ws.on('pong', () => alive.add(ws));
    ws.on('error', (error) => logger.debug({ event: 'ws_error', err: error }, 'WebSocket client error'));
    logger.debug({ event: 'ws_connected', clients: wss.clients.size }, 'WebSocket client connected');
  });

  const unsubscribe = options.events.subscribe((event) => {
    const message = JSON.stringify(event);
    for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(message);
  });

  // Drops clients whose connection died without a close frame (a laptop lid, a lost network).
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.has(ws)) {
        ws.terminate();
        continue;
      }
      alive.delete(ws);
      ws.ping();
    }
  }, HEARTBEAT_INTERVAL_MS);
  heartbeat.unref();

  return {
    get clientCount() {
      return wss.clients.size;
    },
    async close() {
      closing = true;
      unsubscribe();
      clearInterval(heartbeat);
      const clients = [...wss.clients];
      const closed = clients.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
      for (const ws of clients) ws.close(CLOSE_GOING_AWAY, 'Server shutting down');
      const timer = setTimeout(() => clients.forEach((ws) => ws.terminate()), CLOSE_GRACE_MS);
      await Promise.all(closed);
      clearTimeout(timer);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
