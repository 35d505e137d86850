// The HTTP server around the Express app, with WebSockets, and a close that lets in-flight requests finish.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Logger } from 'pino';
import type { EventHub } from './events.js';
import { attachWebSockets, type WebSockets } from './websocket.js';

export interface HttpServer {
  readonly server: http.Server;
  readonly webSockets: WebSockets;
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * Stops accepting connections, closes WebSockets with 1001 and waits for in-flight requests.
   * After `timeoutMs` the remaining connections are cut; `forced` then says so.
   */
  close(timeoutMs: number): Promise<{ forced: boolean }>;
}

export function createHttpServer(options: { readonly app: Express; readonly events: EventHub; readonly logger: Logger }): HttpServer {
  const server = http.createServer(options.app);
  const webSockets = attachWebSockets(server, { events: options.events, logger: options.logger });
  const inFlight = new Set<http.ServerResponse>();
  let closing = false;

  server.on('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
    if (closing) res.setHeader('connection', 'close');
    inFlight.add(res);
    res.on('close', () => {
      inFlight.delete(res);
      // A keep-alive connection that just became idle would otherwise hold the close up.
      if (closing) setImmediate(() => server.closeIdleConnections());
    });
  });

  return {
    server,
    webSockets,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return server.address() as AddressInfo;
    },
    async close(timeoutMs) {
      closing = true;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const res of inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        server.closeAllConnections();
      }, timeoutMs);
      await Promise.all([webSockets.close(), serverClosed]);
      clearTimeout(timer);
      return { forced };
    },
  };
}
