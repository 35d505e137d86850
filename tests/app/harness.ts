// Starts the app from app/app.ts on a real socket against a migrated test database, for HTTP and WebSocket tests.
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createApp } from '../../app/app.js';
import { createDatabase, type Database } from '../../app/db.js';
import { createEventHub } from '../../app/events.js';
import { createHttpServer, type HttpServer } from '../../app/http-server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { applyMigrations } from '../helpers/migrate.js';

/** For vi.waitFor: a slow CI machine may take a while, and waiting is never a failure by itself. */
export const EVENTUALLY = { timeout: 30_000, interval: 25 } as const;

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever JSON came back
  readonly body: any;
  readonly text: string;
}

export interface RunningApp {
  readonly url: string;
  readonly wsUrl: string;
  readonly database: Database;
  readonly http: HttpServer;
  /** Every log line the app wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  api(method: string, path: string, body?: unknown): Promise<ApiResponse>;
  close(): Promise<void>;
}

/** A migrated database of its own; `reset` empties every table between tests. */
export async function createMigratedDatabase(prefix: string): Promise<TestDatabase & { reset(): Promise<void> }> {
  const db = await createTestDatabase(prefix);
  await applyMigrations(db.url);
  return Object.assign(db, {
    async reset() {
      await db.query('TRUNCATE messages, activities, kanban_tasks, kanban_columns RESTART IDENTITY');
    },
  });
}

/** Sends a request; `body` is sent as JSON unless it is already a string. */
export async function request(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'content-type': 'application/json', ...headers };
  }
  const response = await fetch(`${baseUrl}${path}`, init);
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** createApp + createHttpServer on 127.0.0.1 and a free port, logging into `logs`. */
export async function startApp(databaseUrl: string): Promise<RunningApp> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const database = createDatabase(databaseUrl, logger);
  const events = createEventHub();
  const http = createHttpServer({ app: createApp({ db: database, events, logger }), events, logger });
  const address: AddressInfo = await http.listen(0, '127.0.0.1');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    wsUrl: `ws://127.0.0.1:${address.port}/ws`,
    database,
    http,
    logs,
    api: (method, path, body) => request(url, method, path, body),
    async close() {
      await http.close(5_000);
      await database.end();
    },
  };
}
