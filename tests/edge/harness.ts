// The edge suite's plumbing: a fixture app of tests/fixtures/edge behind a real supervisor, the same app served
// directly for comparison, and a raw HTTP/1.x client (node:net) that shows the bytes as they came.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { useSupervisorFixture } from '../helpers/supervisor-fixture.js';
import { eventually, startSupervisor, type SupervisorOptions, type SupervisorProcess } from '../helpers/supervisor-process.js';

/** A script of tests/fixtures/edge, or `app`: tests/fixtures/app.mjs, the stand-in app with WebSockets and /slow. */
export type EdgeFixture =
  | 'app'
  | 'echo-app'
  | 'app-answers-early'
  | 'app-answers-early-and-closes'
  | 'app-refuses-expect'
  | 'app-never-answers'
  | 'app-server-sent-events'
  | 'app-early-hints'
  | 'app-health-stalls'
  | 'app-freezes'
  | 'app-prints-its-password'
  | 'app-counts-concurrency'
  | 'app-big-download'
  | 'express4-app'
  | 'express5-app';

export function fixturePath(name: EdgeFixture): string {
  return fileURLToPath(new URL(name === 'app' ? '../fixtures/app.mjs' : `../fixtures/edge/${name}.mjs`, import.meta.url));
}

export interface Edge {
  /** A supervisor in front of `app`, ready; killed after the test. */
  supervise(app: EdgeFixture, env?: Record<string, string>): Promise<SupervisorProcess>;
  /** The same, for the whole file (start it in beforeAll); killed after the file. */
  superviseForFile(app: EdgeFixture, env?: Record<string, string>, options?: Pick<SupervisorOptions, 'descriptorLimit'>): Promise<SupervisorProcess>;
  /** The same app served directly on a port of its own (the reference); stopped after the file. */
  direct(app: EdgeFixture): Promise<number>;
}

export function useEdge(prefix: string): Edge {
  const fixture = useSupervisorFixture(prefix);
  const apps: (() => void)[] = [];
  const forFile: SupervisorProcess[] = [];
  afterAll(async () => {
    for (const stop of apps.splice(0)) stop();
    await Promise.all(forFile.map((sup) => sup.kill()));
  });
  return {
    async supervise(app, env = {}) {
      const sup = await fixture.start({ APP_COMMAND: `node ${fixturePath(app)}`, ...env });
      await sup.waitForPhase('ready');
      return sup;
    },
    async superviseForFile(app, env = {}, options = {}) {
      const sup = await startSupervisor({ ...options, env: { DATABASE_URL: fixture.db().url, APP_COMMAND: `node ${fixturePath(app)}`, ...env } });
      forFile.push(sup);
      await sup.waitForPhase('ready');
      return sup;
    },
    async direct(app) {
      const port = await freePort();
      const child = spawn(process.execPath, [fixturePath(app)], { env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' }, stdio: 'ignore' });
      apps.push(() => child.kill('SIGKILL'));
      await eventually(async () => {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => {});
        const [connected] = await Promise.race([once(socket, 'connect').then(() => [true]), once(socket, 'error').then(() => [undefined])]);
        socket.destroy();
        return connected as true | undefined;
      }, 10_000, `${app} listening directly`);
      return port;
    },
  };
}

/** What came back on a raw connection, split up; `body` is de-chunked when the response was chunked. */
export interface RawResponse {
  /** Every byte received, as latin1. */
  readonly raw: string;
  /** Interim (1xx) responses' heads, in order. */
  readonly interim: readonly string[];
  readonly statusLine: string;
  readonly status: number;
  /** Header lines of the final response, names lower-cased. */
  readonly headers: readonly (readonly [string, string])[];
  header(name: string): string | undefined;
  readonly chunked: boolean;
  readonly body: Buffer;
  /** Whether the server closed the connection. */
  readonly closed: boolean;
  /** Milliseconds from the request's first byte to the final response's head, and to the end. */
  readonly headAfterMs: number;
  readonly endAfterMs: number;
}

function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = Number.parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

// Splits `data` into 1xx heads and the final response.
function parse(data: Buffer, closed: boolean, headAfterMs: number, endAfterMs: number): RawResponse {
  const interim: string[] = [];
  let at = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end === -1) {
      // No (complete) answer: status 0, everything that came in `raw`.
      const raw = data.toString('latin1');
      return { raw, interim, statusLine: '', status: 0, headers: [], header: () => undefined, chunked: false, body: Buffer.alloc(0), closed, headAfterMs, endAfterMs };
    }
    const head = data.subarray(at, end).toString('latin1');
    at = end + 4;
    if (/^HTTP\/1\.[01] 1\d\d/.test(head) && !/^HTTP\/1\.[01] 101/.test(head)) {
      interim.push(head);
      continue;
    }
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers = lines.map((line) => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()] as const;
    });
    const chunked = headers.some(([name, value]) => name === 'transfer-encoding' && /chunked/i.test(value));
    const rest = data.subarray(at);
    return {
      raw: data.toString('latin1'),
      interim,
      statusLine,
      status: Number(statusLine.split(' ')[1]),
      headers,
      header: (name) => headers.find(([key]) => key === name)?.[1],
      chunked,
      body: chunked ? dechunk(rest) : rest,
      closed,
      headAfterMs,
      endAfterMs,
    };
  }
}

export interface RawOptions {
  /** Resolve once this much has arrived instead of waiting for the close (e.g. a stream's head). */
  readonly until?: (received: string) => boolean;
  /** Give up (and parse what came) after this long. @default 10000 */
  readonly timeoutMs?: number;
  /** Written after the request, once `afterHead` is seen in what came back (e.g. a body after 100 Continue). */
  readonly then?: { readonly afterSeeing: string; readonly write: string | Buffer };
}

/** Sends `request` as it is and collects the answer until the server closes the connection (or `until`). */
export async function rawRequest(port: number, request: string | Buffer, options: RawOptions = {}): Promise<RawResponse> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const startedAt = performance.now();
  const chunks: Buffer[] = [];
  let headAt = Number.NaN;
  let thenWritten = false;
  socket.on('error', () => {});
  return new Promise((resolve) => {
    let settled = false;
    const finish = (closed: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks), closed, headAt - startedAt, performance.now() - startedAt));
    };
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 10_000);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      if (Number.isNaN(headAt) && /HTTP\/1\.[01] [2-5]\d\d[^]*?\r\n\r\n/.test(text)) headAt = performance.now();
      if (options.then && !thenWritten && text.includes(options.then.afterSeeing)) {
        thenWritten = true;
        socket.write(options.then.write);
      }
      if (options.until?.(text)) finish(false);
    });
    socket.once('close', () => finish(true));
    socket.write(request);
  });
}

/** The echo app's account of the request it received. */
export interface Echo {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly rawHeaders: readonly string[];
  readonly body: string;
}

export function echoOf(response: RawResponse): Echo {
  const echo = JSON.parse(response.body.toString('utf8')) as Echo;
  return { ...echo, body: Buffer.from(echo.body, 'base64').toString('latin1') };
}

/** The values of header `name` (any case) in the echo, in order. */
export function echoed(echo: Echo, name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < echo.rawHeaders.length; i += 2) {
    if ((echo.rawHeaders[i] as string).toLowerCase() === name.toLowerCase()) values.push(echo.rawHeaders[i + 1] as string);
  }
  return values;
}
