// dist/app/server.js as a real child process: start, SIGTERM with a request in flight, exit status.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createMigratedDatabase, EVENTUALLY } from './harness.js';

const SERVER = fileURLToPath(new URL('../../dist/app/server.js', import.meta.url));

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  if (!existsSync(SERVER)) throw new Error(`${SERVER} is missing: run \`npm run build\` before these tests`);
  db = await createMigratedDatabase('app_server');
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await db?.drop();
});

interface Running {
  readonly child: ChildProcess;
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line that has this event. */
  logged(event: string): Promise<Record<string, unknown>>;
}

function run(env: Record<string, string>): Running {
  const child = spawn(process.execPath, [SERVER], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const logs: Record<string, unknown>[] = [];
  const waiting: { event: string; resolve: (line: Record<string, unknown>) => void }[] = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as Record<string, unknown>;
    logs.push(line);
    for (const waiter of waiting.filter((w) => w.event === line.event)) waiter.resolve(line);
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return {
    child,
    logs,
    exited,
    logged: (event) =>
      new Promise((resolve) => {
        const seen = logs.find((line) => line.event === event);
        if (seen) resolve(seen);
        else waiting.push({ event, resolve });
      }),
  };
}

describe('dist/app/server.js', () => {
  it('on SIGTERM stops accepting, finishes the request in flight, closes WebSockets with 1001 and exits 0', async () => {
    const app = run({ DATABASE_URL: db.url, PORT: '0', HOST: '127.0.0.1' });
    const { port } = (await app.logged('listening')) as { port: number };
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);

    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await once(ws, 'open');
    const wsClosed = once(ws, 'close') as Promise<[number, Buffer]>;

    // Keep a POST in flight: it waits for a table lock that this test holds.
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE messages IN ACCESS EXCLUSIVE MODE');
    const inFlight = fetch(`${base}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ author: 'Ada', body: 'in flight' }),
    });
    await vi.waitFor(async () => {
      const { rows } = await db.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'app' AND wait_event_type = 'Lock' AND datname = current_database()");
      expect(rows).toHaveLength(1);
    }, EVENTUALLY);

    app.child.kill('SIGTERM');
    await app.logged('shutdown');
    const [code, reason] = await wsClosed;
    expect(code).toBe(1001);
    expect(reason.toString()).toBe('Server shutting down');
    await vi.waitFor(async () => {
      await expect(fetch(`${base}/health`)).rejects.toThrow();
    }, EVENTUALLY);

    await locker.query('COMMIT');
    await locker.end();
    const response = await inFlight;
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ author: 'Ada', body: 'in flight' });
    expect(await app.exited).toEqual({ code: 0, signal: null });
    expect(app.logs.map((line) => line.event)).toContain('stopped');
    expect((await db.query('SELECT body FROM messages')).rows).toEqual([{ body: 'in flight' }]);
  });

  it('exits 78 with every configuration problem in one log line when the environment is invalid', async () => {
    const app = run({ PORT: 'eighty', LOG_LEVEL: 'loud' });
    expect(await app.exited).toEqual({ code: 78, signal: null });
    const line = app.logs.find((entry) => entry.event === 'config_invalid') as { problems: string[]; code: string };
    expect(line.code).toBe('APP_ERR_CONFIG_INVALID');
    expect(line.problems).toHaveLength(3);
    expect(line.problems.join('\n')).toMatch(/PORT[\s\S]*DATABASE_URL|DATABASE_URL[\s\S]*PORT/);
  });
});
