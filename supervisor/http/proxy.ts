// Streams requests and WebSocket upgrades to the child on 127.0.0.1. A lean node:http pipe rather than a
// framework route: every request pays for this path, so it does no more than a proxy must.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import pRetry from 'p-retry';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { TrustProxy } from '../core/config.js';
import { ErrorCodes } from '../core/errors.js';
import { upstreamRequestHeaders, type ClientInfo } from './proxy-headers.js';
import { gateErrorBody, sendGateError } from './not-ready-page.js';
import { trustedProxyCheck } from './trusted-proxies.js';
import { createHoldQueue } from './hold-queue.js';
import { loadAppPool, isHeadTimeout, type AppPool, type PooledRequest } from './app-pool.js';
import { rawResponseHead, relayInterim, writeResponseHead } from './response-head.js';

/** Where the child listens right now, or undefined while it cannot take traffic. */
export type TargetLookup = () => { readonly port: number } | undefined;

export interface ProxyOptions {
  readonly getTarget: TargetLookup;
  /** Answers a request that cannot be proxied now (503 with Retry-After). */
  readonly sendUnavailable: (req: IncomingMessage, res: ServerResponse) => void;
  /** True once shutdown began: responses then close their connection. */
  readonly isDraining: () => boolean;
  readonly logger: Logger;
  /** Called once per proxied request that got a response status (the metrics); `startedAt` is `performance.now()` on arrival. */
  readonly onResponse?: (statusCode: number, startedAt: number) => void;
  /**
   * Time from the last bytes of a request (its body included) sent to the app until the app's response headers
   * arrive; past it the request to the app is aborted and the client gets 504; the same for an upgrade's handshake.
   * Responses under way and open tunnels are not timed. 0 disables (APP_RESPONSE_TIMEOUT_MS). @default 0
   */
  readonly responseTimeoutMs?: number;
  /** Whose forwarding headers (X-Forwarded-For and the like) are kept (TRUST_PROXY). @default false */
  readonly trustProxy?: TrustProxy;
  /**
   * Whether a request that cannot be sent now is held for the app's return (see hold-queue.ts) rather than
   * answered 503: true while the app, ready once, restarts. @default never
   */
  readonly canHold?: () => boolean;
  /** How long a held request may wait (APP_HOLD_TIMEOUT_MS). @default 10000 */
  readonly holdTimeoutMs?: number;
  /** How many requests may be held at once (APP_HOLD_MAX_REQUESTS). @default 1000 */
  readonly holdMaxRequests?: number;
}

export interface Proxy {
  /**
   * Sends the request to the app once the connection's earlier requests are answered; `req.url` is origin-form,
   * `authority` an absolute-form target's (see request-target.ts).
   */
  handleRequest(req: IncomingMessage, res: ServerResponse, authority?: string): void;
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, authority?: string): void;
  /** Proxied requests under way or waiting their turn (WebSocket tunnels are `openTunnels`). */
  readonly inFlight: number;
  readonly openTunnels: number;
  /** Resolves true once no proxied request is under way (at once when none is), false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean>;
  /** The tunnels open now (for the idle timeout of stall-watch.ts). */
  tunnels(): Iterable<Socket>;
  /** Resolves true once no request is under way at the app on `port`, false after `timeoutMs`. */
  portIdle(port: number, timeoutMs: number): Promise<boolean>;
  /** Sends the held requests on (the app answers again), or refuses them (it will not: a stop, a failure). */
  resumeHeld(): void;
  refuseHeld(): void;
  /** Requests held, retried on the new app, and refused from the hold, since the start (the metrics). */
  readonly holdCounts: { readonly held: number; readonly retried: number; readonly refused: number };
  /** Ends every upstream connection, idle or not, and every tunnel still open. */
  close(): void;
}

function clientOf(req: IncomingMessage): ClientInfo {
  return { ip: req.socket.remoteAddress ?? '', encrypted: 'encrypted' in req.socket };
}

function withoutFraming(rawHeaders: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (['transfer-encoding', 'connection', 'keep-alive'].includes(name.toLowerCase())) continue;
    result.push(name, rawHeaders[i + 1] as string);
  }
  return result;
}

// The request body goes to the app a turn of the event loop after it arrives (setImmediate runs after the I/O
// callbacks of the same turn): an app that answers before reading the body and closes the connection makes the
// next write fail (EPIPE), and Node then discards its answer unread. Written right away, the write lost that race
// about half the time; written after the turn's I/O, the answer has nearly always been read first.
function writeLater(req: IncomingMessage, upstream: http.ClientRequest, chunk: Buffer | null): void {
  if (upstream.destroyed) return void req.resume(); // nothing more goes to the app: the rest is read and dropped
  if (chunk === null) return void upstream.end();
  if (!upstream.write(chunk) && !req.isPaused()) {
    req.pause();
    upstream.once('drain', () => req.resume());
  }
}

function relayBody(req: IncomingMessage, upstream: http.ClientRequest): void {
  req.on('data', (chunk: Buffer) => setImmediate(writeLater, req, upstream, chunk));
  req.once('end', () => setImmediate(writeLater, req, upstream, null));
}

// The client's response (and through it, its request), on the request to the app: the 1xx relay below is one
// shared function rather than a closure per request.
const kClientResponse = Symbol('the client response');
// When the request was sent to the app, for the response timeout; 0 while not sent or once answered.
const kSentAt = Symbol('sent at');
type UpstreamRequest = http.ClientRequest & { [kClientResponse]?: ServerResponse; [kSentAt]?: number };

function relayInformation(this: UpstreamRequest, info: http.InformationEvent): void {
  const res = this[kClientResponse];
  if (res) relayInterim(res, info.statusCode, info.statusMessage, info.rawHeaders);
}

// The reason an upstream request is destroyed when the app is past APP_RESPONSE_TIMEOUT_MS: one instance, told
// apart from every other error by identity.
const RESPONSE_TIMEOUT = Object.assign(new Error('the app sent no response headers in time'), { code: ErrorCodes.APP_RESPONSE_TIMEOUT });

// A client connection's requests to the app, one at a time (HTTP/1.1 answers pipelined requests in order): the
// one under way, and those that arrived behind it waiting their turn, so that a client connection never holds
// more than one connection to the app however many requests it pipelines. All of them are counted out when it
// closes, whether or not each response reports its own end (a pipelined request's does not on Node 20).
interface ClientConnection {
  /** Requests under way or waiting, as the drain counts them. */
  inFlight: number;
  busy: boolean;
  readonly waiting: (readonly [IncomingMessage, ServerResponse, string | undefined])[];
}
const kConnection = Symbol('client connection');
type ClientSocket = Socket & { [kConnection]?: ClientConnection };

// On the client's response: its client connection, when it arrived (for the metrics), the request to the app that
// serves it now, and how often the app failed it already.
const kClientConnection = Symbol('client connection of the response');
const kStartedAt = Symbol('started at');
const kUpstream = Symbol('request to the app');
const kFailures = Symbol('failed sends');
type ClientResponse = ServerResponse & {
  [kClientConnection]?: ClientConnection;
  [kStartedAt]?: number;
  [kUpstream]?: UpstreamRequest | PooledRequest;
  [kFailures]?: number;
};

// After a retry failed too, the request waits this long for the supervisor to see the app exit (and then for the
// new app); an app still running then dropped it on purpose, and it is sent a last time.
const RETRY_GRACE_MS = 1_000;
// Sends of one request that failed before the last one's failure is the client's 502.
const MAX_FAILED_SENDS = 3;

// Safe to send again when the app died under it, having answered nothing (RFC 9110, 9.2.2).
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
function mayRetry(req: IncomingMessage, hasBody: boolean): boolean {
  return !hasBody && (IDEMPOTENT.has(req.method ?? '') || req.headers['idempotency-key'] !== undefined);
}

/** Answers an upgrade request on the raw socket (see gateErrorBody) and closes the connection. */
export function rejectUpgrade(socket: Socket, statusCode: Parameters<typeof gateErrorBody>[0], message?: string): void {
  if (!socket.writable) return void socket.destroy();
  const { statusMessage, headers, body } = gateErrorBody(statusCode, message);
  socket.end(rawResponseHead(statusCode, statusMessage, [...headers, 'Content-Length', String(Buffer.byteLength(body)), 'Connection', 'close']) + body);
}

// Idle upstream sockets close before a default Node server's 5 s keep-alive would drop them under us
// (sooner when the app's Keep-Alive header says so).
const UPSTREAM_IDLE_TIMEOUT_MS = 4_000;

// The idle timeout is for sockets waiting in the pool: a reused socket carries no timer while it relays a
// request (a timer is refreshed on every chunk, which costs more CPU than the rest of a large response's
// relay). A new socket keeps it through its first request, which is harmless: the agent ends only idle
// sockets when it fires.
class UpstreamAgent extends http.Agent {
  override reuseSocket(socket: Duplex, request: http.ClientRequest): void {
    (socket as Socket).setTimeout(0);
    super.reuseSocket(socket, request);
  }
}

export function createProxy(options: ProxyOptions): Proxy {
  const { getTarget, logger, onResponse } = options;
  const responseTimeoutMs = options.responseTimeoutMs ?? 0;
  const isTrustedProxy = trustedProxyCheck(options.trustProxy ?? false);
  const agent = new UpstreamAgent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo', timeout: UPSTREAM_IDLE_TIMEOUT_MS });
  const tunnels = new Set<Socket>();
  const holdCounts = { held: 0, retried: 0, refused: 0 };
  const held = createHoldQueue({
    timeoutMs: options.holdTimeoutMs ?? 10_000,
    maxRequests: options.holdMaxRequests ?? 1_000,
    onRefused: (reason) => {
      holdCounts.refused++;
      logger.warn({ event: 'hold_refused', reason }, reason === 'full' ? 'too many requests held; answering 503' : 'a held request waited too long; answering 503');
    },
  });
  let inFlight = 0;
  const drainWaiters = new Set<() => void>();
  // Requests go to the app through the pool (see app-pool.ts), but for those with an Expect header, which go through
  // node:http; the first request loads the pool (undefined until then; null should it fail to load: node:http then).
  let pool: AppPool | null | undefined;
  let poolLoad: Promise<unknown> | undefined;
  let closed = false;

  function loadPool(): Promise<unknown> {
    poolLoad ??= loadAppPool({
      responseTimeoutMs,
      idleTimeoutMs: UPSTREAM_IDLE_TIMEOUT_MS,
      isDraining: options.isDraining,
      failed: (res, authority, hasBody, error) => failed(res.req, res, authority, hasBody, error),
    }).then(
      (loaded) => {
        if (closed) loaded.close();
        pool = loaded;
      },
      (error: unknown) => {
        pool = null;
        logger.warn({ event: 'app_pool_unavailable', err: error }, 'the pooled client toward the app did not load; requests go through node:http');
      },
    );
    return poolLoad;
  }

  function connectionOf(socket: ClientSocket): ClientConnection {
    let connection = socket[kConnection];
    if (connection === undefined) {
      connection = socket[kConnection] = { inFlight: 0, busy: false, waiting: [] };
      socket.once('close', connectionClosed);
    }
    return connection;
  }

  function countOut(connection: ClientConnection, count = 1): void {
    const out = Math.min(count, connection.inFlight);
    if (out === 0) return;
    connection.inFlight -= out;
    inFlight -= out;
    if (inFlight === 0) for (const wake of drainWaiters) wake();
  }

  function connectionClosed(this: ClientSocket): void {
    const connection = this[kConnection] as ClientConnection;
    connection.waiting.length = 0;
    countOut(connection, Number.POSITIVE_INFINITY);
  }

  // The connection's request under way is answered: the next one that waits (and whose client is still there) goes,
  // a turn of the event loop later: the pool reuses its connection to the app only then (it first sees whether the
  // app closed it), and a request sent sooner would open another one.
  function nextRequest(connection: ClientConnection): void {
    if (connection.waiting.length === 0) connection.busy = false;
    else setImmediate(sendWaiting, connection);
  }

  function sendWaiting(connection: ClientConnection): void {
    connection.busy = false;
    for (let next = connection.waiting.shift(); next; next = connection.waiting.shift()) {
      const [req, res, authority] = next;
      if (!res.destroyed) return send(connection, req, res, authority);
    }
  }

  // The response timeout: each request to the app carries the time it was sent (0 once its response came), and one
  // sweep over the agent's busy connections, a fraction of the timeout apart, aborts the overdue ones. No timer and
  // no collection entry per request (a Map keyed by request cost about a sixth of the proxy's CPU per request), and
  // no clock read either: the time is the sweep's, so a request is aborted between one and two sweeps past it.
  const sweepEveryMs = Math.min(1_000, Math.max(10, Math.floor(responseTimeoutMs / 20)));
  let sweeper: NodeJS.Timeout | undefined;
  let clock = 0;

  function sweep(): void {
    clock = performance.now();
    for (const name in agent.sockets) {
      for (const socket of agent.sockets[name] ?? []) {
        const request = (socket as { _httpMessage?: UpstreamRequest })._httpMessage;
        const sentAt = request?.[kSentAt];
        if (request && sentAt && clock - sentAt >= responseTimeoutMs + sweepEveryMs) {
          request[kSentAt] = 0;
          request.destroy(RESPONSE_TIMEOUT);
        }
      }
    }
  }

  function awaitResponse(upstream: UpstreamRequest): void {
    if (sweeper === undefined) {
      sweeper = setInterval(sweep, sweepEveryMs).unref();
      clock = performance.now();
    }
    upstream[kSentAt] = clock;
  }

  // 'finish' of a request with a body: all of it is sent, and the wait for its response begins (unless the app
  // answered already, before reading all of the body).
  function sentToApp(this: UpstreamRequest): void {
    if (!this.destroyed && !(this as { res?: unknown }).res) awaitResponse(this);
  }

  function handleRequest(req: IncomingMessage, res: ServerResponse, authority?: string): void {
    const connection = connectionOf(req.socket as ClientSocket);
    connection.inFlight++;
    inFlight++;
    if (connection.busy) return void connection.waiting.push([req, res, authority]);
    send(connection, req, res, authority);
  }

  function send(connection: ClientConnection, req: IncomingMessage, res: ClientResponse, authority: string | undefined): void {
    connection.busy = true;
    res[kClientConnection] = connection;
    if (onResponse) res[kStartedAt] = performance.now();
    res.once('close', responseClosed);
    dispatch(req, res, authority);
  }

  function responseClosed(this: ClientResponse): void {
    const connection = this[kClientConnection] as ClientConnection;
    countOut(connection);
    held.forget(this);
    if (!this.writableFinished) this[kUpstream]?.destroy();
    if (onResponse && this.headersSent) onResponse(this.statusCode, this[kStartedAt] ?? 0);
    nextRequest(connection);
  }

  // Holds a request that cannot go to the app now, when the app is on its way back; else answers 503. While it
  // waits, its client's socket is not read: the body stays with TCP's back-pressure, not in the supervisor's memory.
  function holdOrRefuse(req: IncomingMessage, res: ClientResponse, authority: string | undefined): void {
    const resume = (): void => {
      req.socket.resume();
      dispatch(req, res, authority);
    };
    const refuse = (): void => {
      req.socket.resume();
      options.sendUnavailable(req, res);
    };
    if (options.canHold?.() && held.hold(res, { resume, refuse })) {
      holdCounts.held++;
      req.socket.pause();
      return;
    }
    options.sendUnavailable(req, res);
  }

  // A request the app failed without an answer. Nobody listening on its port (it died, or is restarting): nothing
  // reached it and the body is unread (it is read only once connected), so the request waits for the app as one
  // arriving now would. The app dropping a request it had not answered: one that is safe to repeat goes again at
  // once, and, should that fail too, waits for the app's restart (or, the app still running after
  // RETRY_GRACE_MS, goes a last time). Returns false for the client's 502.
  function retryOrHold(req: IncomingMessage, res: ClientResponse, authority: string | undefined, hasBody: boolean, error: Error): boolean {
    const failures = (res[kFailures] = (res[kFailures] ?? 0) + 1);
    const refused = (error as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    if (failures >= MAX_FAILED_SENDS || !(refused || mayRetry(req, hasBody))) return false;
    const canHold = options.canHold?.() ?? false;
    if (refused) {
      if (canHold) holdOrRefuse(req, res, authority);
      return canHold;
    }
    // The idle connections to an app that died are dead too: the next send must not take one of them.
    for (const sockets of Object.values(agent.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
    holdCounts.retried++;
    logger.info({ event: 'proxy_retry', method: req.method, url: req.url, reason: (error as NodeJS.ErrnoException).code ?? error.message }, 'the app dropped a request it had not answered; sending it again');
    if (failures === 1) {
      dispatch(req, res, authority);
      return true;
    }
    if (!canHold) return false;
    holdOrRefuse(req, res, authority);
    setTimeout(() => {
      if (getTarget()) held.resume(res);
    }, RETRY_GRACE_MS).unref();
    return true;
  }

  // Sends the request to the app as it is now (again, after a hold or a retry).
  function dispatch(req: IncomingMessage, res: ClientResponse, authority: string | undefined): void {
    if (res.destroyed) return;
    const target = getTarget();
    if (!target) return holdOrRefuse(req, res, authority);
    const request = upstreamRequestHeaders(req.rawHeaders, clientOf(req), false, isTrustedProxy(req.socket.remoteAddress), authority);
    if (pool === undefined && !request.hasExpect) return void loadPool().then(() => dispatch(req, res, authority));
    if (request.duplicateHost) return sendGateError(req, res, 400, 'The request has more than one Host header.');
    // The app's own address when the client sent no Host (HTTP/1.0), as nginx sends by default.
    if (request.missingHost) request.headers.push('Host', `127.0.0.1:${target.port}`);
    if (pool && !request.hasExpect) return void (res[kUpstream] = pool.send(target.port, req, res, request, authority));
    const upstream: UpstreamRequest = http.request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: request.headers, agent });
    res[kUpstream] = upstream;
    relay(req, res, upstream, request.hasBody, authority);
  }

  function relay(req: IncomingMessage, res: ClientResponse, upstream: UpstreamRequest, hasBody: boolean, authority: string | undefined): void {
    upstream[kClientResponse] = res;
    upstream.on('information', relayInformation);
    // The response is relayed as the app sends it, whether or not the app read the request's body: an early
    // answer (401 to an upload) reaches the client as it is.
    upstream.on('response', (upstreamRes) => {
      upstream[kSentAt] = 0;
      if (writeResponseHead(res, upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, upstreamRes.rawHeaders, options.isDraining())) res.flushHeaders();
      upstreamRes.pipe(res);
      upstreamRes.once('close', () => {
        if (!upstreamRes.complete) return void res.destroy();
        // Answered before the app read all of the body: the rest is not sent (Node's request to the app would never
        // report 'drain' again once its response is complete), so the connection to the app cannot be reused; the
        // client's rest is read and dropped, as nginx does.
        if (!upstream.writableFinished) {
          upstream.destroy();
          req.resume();
        }
      });
    });
    upstream.on('error', (error) => {
      if (req.socket.destroyed) return; // the client left first, and leaving ended this request too
      if (res.headersSent) {
        // The request side failed after the app answered (it stopped reading an upload it refused): the response
        // relays its own end, and what is left of the client's body is read and dropped.
        req.resume();
        return;
      }
      failed(req, res, authority, hasBody, error);
    });
    req.once('error', () => upstream.destroy());
    if (hasBody) {
      // The body is read only once the app's connection is open: refused, the request can still wait for the app whole.
      upstream.once('socket', (socket: Socket) => {
        if (socket.connecting) socket.once('connect', () => relayBody(req, upstream));
        else relayBody(req, upstream);
      });
      if (responseTimeoutMs > 0) upstream.on('finish', sentToApp);
    } else {
      upstream.end();
      if (responseTimeoutMs > 0) awaitResponse(upstream);
    }
  }

  // The app gave no response to the request: 504 past the response timeout, else sent again or held (retryOrHold), else 502.
  function failed(req: IncomingMessage, res: ClientResponse, authority: string | undefined, hasBody: boolean, error: Error): void {
    if (error === RESPONSE_TIMEOUT || isHeadTimeout(error)) {
      logger.warn({ event: 'app_response_timeout', method: req.method, url: req.url, afterMs: responseTimeoutMs }, `app sent no response in ${responseTimeoutMs} ms`);
      return sendGateError(req, res, 504);
    }
    if (retryOrHold(req, res, authority, hasBody, error)) return;
    logger.warn({ event: 'proxy_error', method: req.method, url: req.url, err: error }, `app did not answer: ${error.message}`);
    sendGateError(req, res, 502);
  }

  function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, authority?: string): void {
    if (socket.listenerCount('error') === 0) socket.on('error', () => socket.destroy());
    const target = getTarget();
    if (!target || options.isDraining()) return holdOrRejectUpgrade(req, socket, head, authority);
    const trusted = isTrustedProxy(socket.remoteAddress);
    const { headers, duplicateHost, missingHost } = upstreamRequestHeaders(req.rawHeaders, clientOf(req), true, trusted, authority);
    if (duplicateHost) return rejectUpgrade(socket, 400, 'The request has more than one Host header.');
    if (missingHost) headers.push('Host', `127.0.0.1:${target.port}`);

    // A connection of its own, never pooled: an upgrade request's body (if it announces one) never reaches the app,
    // so the app may still be waiting for it when it answers with a plain response.
    const upstream = http.request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers, agent: false });
    // The handshake is bounded like any response's head: the connection to the app is idle until it answers.
    if (responseTimeoutMs > 0) upstream.setTimeout(responseTimeoutMs, () => upstream.destroy(RESPONSE_TIMEOUT));
    upstream.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
      upstreamSocket.setTimeout(0);
      upstreamSocket.on('error', () => socket.destroy());
      socket.on('close', () => upstreamSocket.destroy());
      upstreamSocket.on('close', () => socket.destroy());
      tunnels.add(socket);
      socket.once('close', () => tunnels.delete(socket));
      socket.setNoDelay(true);
      upstreamSocket.setNoDelay(true);
      socket.write(rawResponseHead(101, upstreamRes.statusMessage ?? 'Switching Protocols', upstreamRes.rawHeaders));
      if (upstreamHead.length > 0) socket.write(upstreamHead);
      if (head.length > 0) upstreamSocket.write(head);
      upstreamSocket.pipe(socket);
      socket.pipe(upstreamSocket);
    });
    // The app answered the upgrade request with a plain response (e.g. 401 or 404): pass it on as it is.
    // The body arrives decoded, so it goes out unframed and the connection's end marks its end.
    upstream.on('response', (upstreamRes) => {
      upstream.setTimeout(0);
      const rawHeaders = withoutFraming(upstreamRes.rawHeaders);
      socket.write(rawResponseHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage ?? '', [...rawHeaders, 'Connection', 'close']));
      upstreamRes.pipe(socket);
    });
    upstream.on('error', (error) => {
      if (error === RESPONSE_TIMEOUT) {
        logger.warn({ event: 'app_response_timeout', url: req.url, upgrade: true, afterMs: responseTimeoutMs }, `app sent no answer to an upgrade in ${responseTimeoutMs} ms`);
        return rejectUpgrade(socket, 504);
      }
      logger.warn({ event: 'proxy_error', url: req.url, upgrade: true, err: error }, `app did not accept the upgrade: ${error.message}`);
      rejectUpgrade(socket, 502);
    });
    socket.once('close', () => upstream.destroy());
    upstream.end();
  }

  function holdOrRejectUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, authority: string | undefined): void {
    const resume = (): void => {
      socket.removeListener('close', forget);
      socket.resume();
      handleUpgrade(req, socket, head, authority);
    };
    const forget = (): void => held.forget(socket);
    if (!options.isDraining() && options.canHold?.() && held.hold(socket, { resume, refuse: () => rejectUpgrade(socket, 503) })) {
      holdCounts.held++;
      socket.pause();
      socket.once('close', forget);
      return;
    }
    rejectUpgrade(socket, 503);
  }

  return {
    handleRequest,
    handleUpgrade,
    portIdle: (port, timeoutMs) =>
      pRetry(
        () => {
          if ((agent.sockets[agent.getName({ host: '127.0.0.1', port })]?.length ?? 0) > 0 || pool?.busy(port)) throw new Error('requests under way at the app');
        },
        { retries: Number.POSITIVE_INFINITY, factor: 1, minTimeout: 50, maxRetryTime: timeoutMs },
      ).then(
        () => true,
        () => false,
      ),
    resumeHeld: () => held.resumeAll(),
    refuseHeld: () => held.refuseAll(),
    holdCounts,
    get inFlight() {
      return inFlight;
    },
    get openTunnels() {
      return tunnels.size;
    },
    tunnels: () => tunnels,
    drained(timeoutMs) {
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const settle = (drained: boolean): void => {
          clearTimeout(timer);
          drainWaiters.delete(wake);
          resolve(drained);
        };
        const wake = (): void => settle(true);
        const timer = setTimeout(() => settle(false), timeoutMs);
        drainWaiters.add(wake);
      });
    },
    close() {
      closed = true;
      clearInterval(sweeper);
      agent.destroy();
      pool?.close();
      for (const socket of tunnels) socket.destroy();
    },
  };
}
