// Streams requests and WebSocket upgrades to the child on 127.0.0.1. A lean node:http pipe rather than a
// framework route: every request pays for this path, so it does no more than a proxy must.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { downstreamResponseHeaders, upstreamRequestHeaders, type ClientInfo } from './proxy-headers.js';
import { RETRY_AFTER_SECONDS, sendBadGateway } from './not-ready-page.js';

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
}

export interface Proxy {
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** Proxied requests under way (WebSocket tunnels are `openTunnels`). */
  readonly inFlight: number;
  readonly openTunnels: number;
  /** Resolves true once no proxied request is under way (at once when none is), false after `timeoutMs`. */
  drained(timeoutMs: number): Promise<boolean>;
  /** Ends every upstream connection, idle or not, and every tunnel still open. */
  close(): void;
}

function clientOf(req: IncomingMessage): ClientInfo {
  return { ip: req.socket.remoteAddress ?? '', encrypted: 'encrypted' in req.socket };
}

function rawResponseHead(statusCode: number, statusMessage: string, rawHeaders: readonly string[]): string {
  let head = `HTTP/1.1 ${statusCode} ${statusMessage}\r\n`;
  for (let i = 0; i < rawHeaders.length; i += 2) head += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return `${head}\r\n`;
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

/** Answers an upgrade request with a bodiless status and closes the connection. */
export function rejectUpgrade(socket: Socket, statusCode: number, statusMessage: string): void {
  if (!socket.writable) return void socket.destroy();
  socket.end(
    rawResponseHead(statusCode, statusMessage, [
      'Retry-After',
      String(RETRY_AFTER_SECONDS),
      'Content-Length',
      '0',
      'Connection',
      'close',
    ]),
  );
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
  const agent = new UpstreamAgent({ keepAlive: true, maxFreeSockets: 256, scheduling: 'lifo', timeout: UPSTREAM_IDLE_TIMEOUT_MS });
  const tunnels = new Set<Socket>();
  let inFlight = 0;
  const drainWaiters = new Set<() => void>();

  function handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const target = getTarget();
    if (!target) return options.sendUnavailable(req, res);

    inFlight++;
    const startedAt = onResponse ? performance.now() : 0;
    res.once('close', () => {
      inFlight--;
      if (inFlight === 0) for (const wake of drainWaiters) wake();
      if (!res.writableFinished) upstream.destroy();
      if (onResponse && res.headersSent) onResponse(res.statusCode, startedAt);
    });
    const { headers, hasBody } = upstreamRequestHeaders(req.rawHeaders, clientOf(req), false);
    const upstream = http.request({ host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers, agent });
    upstream.on('response', (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, downstreamResponseHeaders(upstreamRes.rawHeaders, options.isDraining()));
      upstreamRes.pipe(res);
      upstreamRes.once('error', () => res.destroy());
    });
    upstream.on('error', (error) => {
      if (req.socket.destroyed) return; // the client left first, and leaving ended this request too
      if (res.headersSent) return void res.destroy();
      logger.warn({ event: 'proxy_error', method: req.method, url: req.url, err: error }, `app did not answer: ${error.message}`);
      sendBadGateway(req, res);
    });
    req.once('error', () => upstream.destroy());
    if (hasBody) req.pipe(upstream);
    else upstream.end();
  }

  function handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const target = getTarget();
    if (!target || options.isDraining()) return rejectUpgrade(socket, 503, 'Service Unavailable');

    const upstream = http.request({
      host: '127.0.0.1',
      port: target.port,
      method: req.method,
      path: req.url,
      headers: upstreamRequestHeaders(req.rawHeaders, clientOf(req), true).headers,
    });
    upstream.on('upgrade', (upstreamRes, upstreamSocket, upstreamHead) => {
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
      const rawHeaders = withoutFraming(upstreamRes.rawHeaders);
      socket.write(rawResponseHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage ?? '', [...rawHeaders, 'Connection', 'close']));
      upstreamRes.pipe(socket);
    });
    upstream.on('error', (error) => {
      logger.warn({ event: 'proxy_error', url: req.url, upgrade: true, err: error }, `app did not accept the upgrade: ${error.message}`);
      rejectUpgrade(socket, 502, 'Bad Gateway');
    });
    socket.once('close', () => upstream.destroy());
    upstream.end();
  }

  return {
    handleRequest,
    handleUpgrade,
    get inFlight() {
      return inFlight;
    },
    get openTunnels() {
      return tunnels.size;
    },
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
      agent.destroy();
      for (const socket of tunnels) socket.destroy();
    },
  };
}
