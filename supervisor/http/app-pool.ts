// The pooled client toward the app (undici's Pool, as fastify's reply-from uses): one HTTP parser in WebAssembly
// and a plain handler per request, where node:http builds a ClientRequest, an IncomingMessage and their streams and
// listeners. Requests with an Expect header stay on node:http (proxy.ts): undici refuses to send one, and drops
// the connection on a 100 Continue.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Dispatcher, Pool } from 'undici';
import type { UpstreamRequestHeaders } from './proxy-headers.js';
import { relayInterim, writeResponseHead } from './response-head.js';

export interface AppPoolOptions {
  /** How long the app may take to send a response's head; 0: no limit (APP_RESPONSE_TIMEOUT_MS). */
  readonly responseTimeoutMs: number;
  /** How long an idle connection to the app stays open (shorter when the app's Keep-Alive header says so). */
  readonly idleTimeoutMs: number;
  readonly isDraining: () => boolean;
  /** The app gave no response to the request (refused, dropped, timed out: see isHeadTimeout). */
  readonly failed: (res: ServerResponse, authority: string | undefined, hasBody: boolean, error: Error) => void;
}

/** A request under way at the app; `destroy()` aborts it (its client went away). */
export interface PooledRequest {
  destroy(): void;
}

export interface AppPool {
  /** Sends `req` (with its body, if any) to the app on `port` with the headers of `request`, and relays the answer to `res`. */
  send(port: number, req: IncomingMessage, res: ServerResponse, request: UpstreamRequestHeaders, authority: string | undefined): PooledRequest;
  /** True while a request is under way (or waits for a connection) at the app on `port`. */
  busy(port: number): boolean;
  /** Ends every connection to the app, idle or not. */
  close(): void;
}

/** True for the error of a request whose response head did not come within the response timeout. */
export function isHeadTimeout(error: Error): boolean {
  return (error as NodeJS.ErrnoException).code === 'UND_ERR_HEADERS_TIMEOUT';
}

const CLIENT_GONE = new Error('the client went away');

// One request's relay, as undici's dispatch handler: one object, no closures.
class PooledExchange implements Dispatcher.DispatchHandler, PooledRequest {
  private abort: ((error?: Error) => void) | undefined;
  private resume: (() => void) | undefined;
  private bodyStarted = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly authority: string | undefined,
    private readonly hasBody: boolean,
    private readonly options: AppPoolOptions,
  ) {}

  onConnect(abort: (error?: Error) => void): void {
    this.abort = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    const headers = rawHeaders.map(latin1);
    if (statusCode < 200) relayInterim(this.res, statusCode, statusText, headers);
    // A streamed response's head goes on once the bytes that came with it are parsed: with its first body bytes
    // when they came together (one write to the client, not two), else alone.
    else if (writeResponseHead(this.res, statusCode, statusText, headers, this.options.isDraining())) process.nextTick(PooledExchange.flushHead, this);
    this.resume = resume;
    return true;
  }

  private static flushHead(exchange: PooledExchange): void {
    if (!exchange.bodyStarted && !exchange.res.writableEnded && !exchange.res.destroyed) exchange.res.flushHeaders();
  }

  onData(chunk: Buffer): boolean {
    this.bodyStarted = true;
    if (this.res.write(chunk)) return true;
    if (this.resume) this.res.once('drain', this.resume);
    return false;
  }

  onComplete(): void {
    this.res.end();
    // Answered before the app read all of the body: the client's rest is read and dropped, as nginx does, and its
    // connection stays usable. A 'data' listener rather than resume(), which the body's iterator holds off: the
    // rest flows once undici lets go of the body.
    if (!this.res.req.complete) this.res.req.on('data', dropChunk);
  }

  onError(error: Error): void {
    if (this.res.destroyed) return; // the client left first, and leaving aborted this request
    if (this.res.headersSent) return void this.res.destroy(); // cut off mid-response: so is the client's
    this.options.failed(this.res, this.authority, this.hasBody, error);
  }

  destroy(): void {
    this.abort?.(CLIENT_GONE);
  }
}

function dropChunk(): void {}

function latin1(buffer: Buffer): string {
  return buffer.toString('latin1');
}

function withoutTransferEncoding(headers: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (name.length !== 17 || name.toLowerCase() !== 'transfer-encoding') result.push(name, headers[i + 1] as string);
  }
  return result;
}

/**
 * Loads undici's Pool (its module alone: the package's index loads fetch, WebSocket and the rest too) off the
 * start's path: the first proxied request loads it.
 */
export async function loadAppPool(options: AppPoolOptions): Promise<AppPool> {
  const { default: PoolClass } = (await import('undici/lib/dispatcher/pool.js')) as { default: typeof Pool };
  // The pool of the app's current port, and those of earlier ports (an app restarted or reloaded on another) that
  // finish their requests under way before they close.
  let current: { readonly port: number; readonly pool: Pool } | undefined;
  const retiring = new Map<number, Pool>();

  function poolFor(port: number): Pool {
    if (current?.port === port) return current.pool;
    if (current) retire(current.port, current.pool);
    const pool = new PoolClass(`http://127.0.0.1:${port}`, {
      pipelining: 1,
      keepAliveTimeout: options.idleTimeoutMs,
      keepAliveMaxTimeout: options.idleTimeoutMs,
      headersTimeout: options.responseTimeoutMs,
      // Responses under way are not timed (Server-Sent Events, long polls); stalled clients are stall-watch.ts's.
      bodyTimeout: 0,
    });
    current = { port, pool };
    return pool;
  }

  function retire(port: number, pool: Pool): void {
    retiring.set(port, pool);
    void pool.close().finally(() => retiring.delete(port));
  }

  const busy = (pool: Pool | undefined): boolean => pool !== undefined && pool.stats.running + pool.stats.pending > 0;

  return {
    send(port, req, res, request, authority) {
      const { hasBody } = request;
      const exchange = new PooledExchange(res, authority, hasBody, options);
      // undici frames the body itself (chunked when it has no length), and never ends the client's request: were
      // it to destroy an unfinished one, Node would close the client's connection under an early answer.
      // (An async iterable, which undici takes though its types name only streams.)
      const body = hasBody ? (req.iterator({ destroyOnReturn: false }) as unknown as Readable) : null;
      const headers = request.chunked ? withoutTransferEncoding(request.headers) : request.headers;
      poolFor(port).dispatch({ method: req.method ?? 'GET', path: req.url ?? '/', headers, body }, exchange);
      return exchange;
    },
    busy: (port) => busy(current?.port === port ? current.pool : retiring.get(port)),
    close() {
      if (current) void current.pool.destroy();
      for (const pool of retiring.values()) void pool.destroy();
      current = undefined;
      retiring.clear();
    },
  };
}
