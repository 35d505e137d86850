// The public HTTP server on node:http: the supervisor's own routes (health-routes.ts, the metrics), every other
// request to the proxy. Malformed requests get the answer of client-errors.ts (400, 408, 414, 431).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { HttpLimits } from '../core/config.js';
import { listen } from '../core/listen.js';
import type { DisclosureOptions } from './disclosure.js';
import { answerHealthRoute } from './health-routes.js';
import { METRICS_PATH, ownPathOf } from './own-paths.js';
import type { PhaseMachine } from '../core/phases.js';
import { rejectUpgrade, type Proxy } from './proxy.js';
import { parseRequestTarget } from './request-target.js';
import { sendGateError } from './not-ready-page.js';
import { watchStalls } from './stall-watch.js';
import { answerClientError } from './client-errors.js';
import { budgetConnections, defaultMaxConnections, type ClientConnections } from './connection-budget.js';

// Behind a platform load balancer: keep idle client connections open longer than it does.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
// Node looks for requests past the header and request timeouts only this often; its default of 30 s would let
// a slow client overstay them by as much.
const CONNECTIONS_CHECK_INTERVAL_MS = 1_000;
// Node's own default, made explicit: the app behind the proxy (on Node too) would refuse larger headers anyway.
// Larger request headers get 431.
const MAX_HEADER_BYTES = 16 * 1024;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface PublicServerOptions {
  readonly phases: PhaseMachine;
  readonly proxy: Proxy;
  readonly logger: Logger;
  readonly limits: HttpLimits;
  /** Who sees the full detail of /health, and the release it names (see disclosure.ts). */
  readonly disclosure?: DisclosureOptions;
  /** Answers `/metrics` (see metrics.ts); without it `/metrics` is proxied like any other path. */
  readonly metricsHandler?: Handler;
}

export interface PublicServer {
  readonly server: http.Server;
  /** Binds `host:port` (SUP_ERR_PORT_IN_USE when taken). */
  listen(port: number, host: string): Promise<void>;
  /** The client connections open now, and those shed or refused at the budget (for the metrics). */
  readonly connections: ClientConnections;
  close(): Promise<void>;
}

export function createPublicServer(options: PublicServerOptions): PublicServer {
  const { proxy, logger, limits, metricsHandler } = options;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const target = parseRequestTarget(req.url ?? '');
    if (!target.ok) return sendGateError(req, res, 400, target.reason);
    if (req.method === 'TRACE') return sendGateError(req, res, 405, 'TRACE is not served.');
    req.url = target.path;
    const ownPath = ownPathOf(target.path);
    if (ownPath === undefined || (ownPath === METRICS_PATH && !metricsHandler)) return proxy.handleRequest(req, res, target.authority);
    // Node's own answer to `Expect: 100-continue`, which the supervisor leaves to the app for proxied requests.
    if (req.headers.expect !== undefined && /100-continue/i.test(req.headers.expect)) res.writeContinue();
    if (ownPath === METRICS_PATH) return metricsHandler?.(req, res);
    answerHealthRoute(req, res, ownPath, options.phases, options.disclosure);
  }

  const server = http.createServer(
    {
      headersTimeout: limits.httpHeadersTimeoutMs,
      requestTimeout: limits.httpRequestTimeoutMs,
      connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    handle,
  );
  // An Expect header goes to the app, which answers 100 Continue (relayed), a final status, or 417 as it sees fit:
  // Node would otherwise answer 100 itself and have the client send a body that the app refuses.
  server.on('checkContinue', handle);
  server.on('checkExpectation', handle);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('clientError', answerClientError);
  // CONNECT would open a tunnel to wherever the client names; Node closes the connection without a word unless told.
  server.on('connect', (_req, socket: Socket) => {
    socket.on('error', () => socket.destroy());
    rejectUpgrade(socket, 405, 'CONNECT is not served.');
  });
  // Upgraded connections (tunnels, or opening one) are never idle in the connection budget's sense.
  const upgraded = new WeakSet<Socket>();
  const connections = budgetConnections({
    server,
    maxConnections: limits.httpMaxConnections ?? defaultMaxConnections(),
    isTunnel: (socket) => upgraded.has(socket),
    logger,
  });
  const stopWatchingStalls = watchStalls({
    connections,
    tunnels: proxy.tunnels,
    sendTimeoutMs: limits.httpSendTimeoutMs,
    webSocketIdleTimeoutMs: limits.httpWebSocketIdleTimeoutMs,
    logger: logger.child({ module: 'http' }),
  });

  // Upgraded sockets are outside the timeouts above, so their number is capped: each holds two sockets open.
  let webSockets = 0;
  let atLimit = false;
  server.on('upgrade', (req, socket: Socket, head: Buffer) => {
    upgraded.add(socket);
    // Node leaves an upgraded socket half-open once our side ends; a client must not keep it that way.
    socket.once('finish', () => socket.destroy());
    if (webSockets >= limits.httpMaxWebSockets) {
      if (!atLimit) logger.warn({ event: 'websocket_limit', limit: limits.httpMaxWebSockets }, 'WebSocket limit reached; refusing upgrades');
      atLimit = true;
      return rejectUpgrade(socket, 503, 'Too many WebSocket connections are open; retry shortly.');
    }
    atLimit = false;
    const target = parseRequestTarget(req.url ?? '');
    if (!target.ok) return rejectUpgrade(socket, 400, target.reason);
    req.url = target.path;
    const ownPath = ownPathOf(target.path);
    // No own path upgrades, and none may be passed to the app in this spelling either.
    if (ownPath !== undefined && (ownPath !== METRICS_PATH || metricsHandler)) return rejectUpgrade(socket, 400, 'This path does not take upgrades.');
    webSockets++;
    socket.once('close', () => webSockets--);
    proxy.handleUpgrade(req, socket, head, target.authority);
  });

  return {
    server,
    async listen(port, host) {
      await listen(server, port, host, 'PORT');
      logger.info({ event: 'listening', host, port }, `listening on ${host}:${port}`);
    },
    connections,
    close: () => {
      stopWatchingStalls();
      connections.stop();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
