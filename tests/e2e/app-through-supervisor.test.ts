// The whole product as a user runs it: `npm start` on a fresh database, the real app behind the supervisor.
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startSupervisor, type SupervisorProcess } from '../helpers/supervisor-process.js';

let db: TestDatabase;
let sup: SupervisorProcess;

beforeAll(async () => {
  db = await createTestDatabase('e2e');
  // No APP_COMMAND: the supervisor runs its default, the built Express app.
  sup = await startSupervisor({ via: 'npm', env: { DATABASE_URL: db.url, APP_COMMAND: undefined } });
  await sup.waitForPhase('ready', 60_000);
});
afterAll(async () => {
  await sup?.kill();
  await db?.drop();
});

// Response bodies are read loosely: these checks are about what a client sees, not about types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

async function api(path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${sup.url}${path}`, {
    method: init.method ?? 'GET',
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

describe('the app through the supervisor', () => {
  it('serves the API on a database the supervisor migrated', async () => {
    expect(await api('/api/messages')).toEqual({ status: 200, body: expect.any(Object) });

    const posted = await api('/api/messages', { method: 'POST', body: { author: 'ada', body: 'hello through the proxy' } });
    expect(posted).toMatchObject({ status: 201, body: { id: expect.any(Number), author: 'ada', body: 'hello through the proxy' } });
    expect(JSON.stringify((await api('/api/messages')).body)).toContain('hello through the proxy');

    const column = await api('/api/kanban/columns', { method: 'POST', body: { title: 'Todo' } });
    expect(column.status).toBe(201);
    const task = await api('/api/kanban/tasks', { method: 'POST', body: { columnId: column.body.id, title: 'Ship it' } });
    expect(task.status).toBe(201);
    const board = await api('/api/kanban/columns');
    expect(JSON.stringify(board.body)).toContain('Ship it');

    const activities = JSON.stringify((await api('/api/activities')).body);
    for (const type of ['message.created', 'column.created', 'task.created']) expect(activities).toContain(`"${type}"`);
    expect((await api('/api/kanban/tasks', { method: 'POST', body: { columnId: 999_999, title: 'x' } })).status).toBeGreaterThanOrEqual(400);
    expect((await api('/api/nowhere')).status).toBe(404);
  });

  it('broadcasts a change over the WebSocket tunnelled by the supervisor', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${sup.port}/ws`);
    await once(socket, 'open');
    const received = new Promise<{ type: string; data: { body: string } }>((resolve) => {
      socket.on('message', (data) => {
        const message = JSON.parse(String(data));
        if (message.type === 'message.created') resolve(message);
      });
    });
    expect((await api('/api/messages', { method: 'POST', body: { author: 'bob', body: 'live' } })).status).toBe(201);
    expect(await received).toMatchObject({ type: 'message.created', data: { body: 'live' } });
    socket.close();
  });

  it('keeps its own /health in front and exits 0 on SIGTERM', async () => {
    const health = await fetch(`${sup.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ phase: 'ready', checks: { app: [{ status: 'pass' }] } });
    sup.process.kill('SIGTERM');
    expect(await sup.exited).toEqual({ code: 0, signal: null });
  });
});
