// The public HTTP server: the supervisor's own routes on Fastify, every other request to the proxy.
import http from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerHealthRoutes } from './health.js';
import type { PhaseMachine } from './phases.js';
import type { Proxy } from './proxy.js';

/** Paths the supervisor answers itself; they are never proxied. */
export const OWN_PATHS: ReadonlySet<string> = new Set(['/health', '/health/live']);

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

export interface PublicServerOptions {
  readonly phases: PhaseMachine;
  readonly proxy: Proxy;
  readonly logger: Logger;
  readonly releaseId?: string;
}

function pathOf(url: string | undefined): string {
  const path = url ?? '/';
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

/** Builds the server without listening; `listen` binds it. */
export function createPublicServer(options: PublicServerOptions): FastifyInstance {
  const { proxy } = options;
  const app = Fastify({
    loggerInstance: options.logger.child({ module: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    serverFactory: (fastifyHandler) => {
      const server = http.createServer((req, res) => {
        if (OWN_PATHS.has(pathOf(req.url))) fastifyHandler(req, res);
        else proxy.handleRequest(req, res);
      });
      // Behind a platform load balancer: keep idle client connections open longer than it does.
      server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
      server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
      server.on('upgrade', (req, socket: Socket, head: Buffer) => proxy.handleUpgrade(req, socket, head));
      return server;
    },
  });
  registerHealthRoutes(app, options.phases, options.releaseId);
  return app;
}
