// An in-process load generator: workers that each send one request after another, on keep-alive
// connections or on a new connection each time, and record how every request ended.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** How one request ended, as the client saw it. Times are `performance.now()` milliseconds. */
export interface Outcome {
  readonly path: string;
  readonly startedAt: number;
  readonly endedAt: number;
  /** The response status, when a response arrived. */
  readonly status?: number;
  readonly retryAfter?: string;
  /** The error code when the request failed or its response was cut short (ECONNREFUSED, ECONNRESET, ...). */
  readonly error?: string;
  /** Unanswered after the timeout: the request hung. */
  readonly timedOut: boolean;
}

export interface SendOptions {
  /** `false`: a new connection for this request alone. */
  readonly agent: http.Agent | false;
  /** @default 10000 */
  readonly timeoutMs?: number;
  readonly method?: string;
}

/** Sends one request and resolves (never rejects) once it ended one way or another. */
export function send(port: number, path: string, options: SendOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    let settled = false;
    const finish = (fields: Partial<Outcome>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ path, startedAt, endedAt: performance.now(), timedOut: false, ...fields });
    };
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', agent: options.agent });
    const timer = setTimeout(() => {
      finish({ timedOut: true });
      req.destroy();
    }, options.timeoutMs ?? 10_000);
    req.on('response', (res) => {
      const fields = { status: res.statusCode, retryAfter: res.headers['retry-after'] };
      res.resume();
      res.on('end', () => finish(fields));
      res.on('close', () => finish(res.complete ? fields : { ...fields, error: 'RESPONSE_CUT' }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => finish({ error: error.code ?? error.message }));
    req.end();
  });
}

export interface LoadOptions {
  readonly port: number;
  readonly concurrency: number;
  /** The path of the n-th request (n counts from 0 across all workers). */
  readonly path: (n: number) => string;
  /** @default true */
  readonly keepAlive?: boolean;
  /** @default 10000 */
  readonly timeoutMs?: number;
  /** A worker waits this long after a request that did not get a 2xx, so that it does not spin. @default 20 */
  readonly pauseAfterFailureMs?: number;
}

export interface Load {
  /** Every request that has ended so far, in the order they ended. */
  readonly outcomes: readonly Outcome[];
  /** Lets each worker finish its current request, then resolves with every outcome. */
  stop(): Promise<Outcome[]>;
}

export function startLoad(options: LoadOptions): Load {
  const agent = options.keepAlive === false ? false : new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const outcomes: Outcome[] = [];
  let stopped = false;
  let next = 0;

  async function worker(): Promise<void> {
    while (!stopped) {
      const outcome = await send(options.port, options.path(next++), { agent, timeoutMs: options.timeoutMs });
      outcomes.push(outcome);
      const ok = outcome.status !== undefined && outcome.status < 300 && outcome.error === undefined;
      if (!ok) await sleep(options.pauseAfterFailureMs ?? 20);
    }
  }
  const workers = Array.from({ length: options.concurrency }, () => worker());

  return {
    outcomes,
    async stop() {
      stopped = true;
      await Promise.all(workers);
      if (agent) agent.destroy();
      return outcomes;
    },
  };
}

/** True when the request got a complete 2xx answer. */
export function succeeded(outcome: Outcome): boolean {
  return outcome.status !== undefined && outcome.status < 300 && outcome.error === undefined && !outcome.timedOut;
}
