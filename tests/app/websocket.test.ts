import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createMigratedDatabase, startApp, type RunningApp } from './harness.js';

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
let app: RunningApp;
const clients: WebSocket[] = [];

beforeAll(async () => {
  db = await createMigratedDatabase('app_websocket');
  app = await startApp(db.url);
});
afterAll(async () => {
  for (const ws of clients) ws.terminate();
  await app?.close();
  await db?.drop();
});
beforeEach(() => db.reset());

interface Received {
  type: string;
  data: Record<string, unknown>;
  activity: Record<string, unknown>;
}

/** A connected client that collects every message; `next()` resolves with the next one. */
async function connect(url = app.wsUrl) {
  const ws = new WebSocket(url);
  clients.push(ws);
  const queue: Received[] = [];
  const waiting: ((message: Received) => void)[] = [];
  ws.on('message', (raw) => {
    const message = JSON.parse(raw.toString()) as Received;
    const waiter = waiting.shift();
    if (waiter) waiter(message);
    else queue.push(message);
  });
  await once(ws, 'open');
  return {
    ws,
    next: () => new Promise<Received>((resolve) => (queue.length > 0 ? resolve(queue.shift()!) : waiting.push(resolve))),
  };
}

describe('WebSocket /ws', () => {
  it('sends every connected client the committed change as {type, data}', async () => {
    const [first, second] = [await connect(), await connect()];
    const posted = await app.api('POST', '/api/messages', { author: 'Ada', body: 'live' });
    expect(posted.status).toBe(201);
    for (const client of [first, second]) {
      const message = await client.next();
      expect(message).toEqual({
        type: 'message.created',
        data: posted.body,
        activity: expect.objectContaining({ type: 'message.created', entityType: 'message', entityId: posted.body.id }),
      });
    }
  });

  it('broadcasts kanban changes with the changed row, including task.moved and task.deleted', async () => {
    const client = await connect();
    const todo = (await app.api('POST', '/api/kanban/columns', { title: 'Todo' })).body;
    const done = (await app.api('POST', '/api/kanban/columns', { title: 'Done' })).body;
    const task = (await app.api('POST', '/api/kanban/tasks', { columnId: todo.id, title: 'Move me' })).body;
    const moved = (await app.api('PATCH', `/api/kanban/tasks/${task.id}`, { columnId: done.id })).body;
    expect((await app.api('DELETE', `/api/kanban/tasks/${task.id}`)).status).toBe(204);

    const received = [await client.next(), await client.next(), await client.next(), await client.next(), await client.next()];
    expect(received.map((message) => message.type)).toEqual(['column.created', 'column.created', 'task.created', 'task.moved', 'task.deleted']);
    expect(received[0]!.data).toEqual(todo);
    expect(received[3]!.data).toEqual(moved);
    expect(received[4]!.data).toEqual(moved);
  });

  it('sends nothing for a change that failed', async () => {
    const client = await connect();
    expect((await app.api('POST', '/api/kanban/tasks', { columnId: 999, title: 'No column' })).status).toBe(422);
    expect((await app.api('POST', '/api/messages', { author: '', body: 'invalid' })).status).toBe(400);
    await app.api('POST', '/api/messages', { author: 'Ada', body: 'the first to arrive' });
    const message = await client.next();
    expect(message.type).toBe('message.created');
    expect(message.data.body).toBe('the first to arrive');
  });

  it('refuses upgrades on any other path', async () => {
    const ws = new WebSocket(app.wsUrl.replace('/ws', '/elsewhere'));
    ws.on('error', () => {});
    const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(404);
  });

  it.each(['http://x:99999/ws', 'http://[x]/ws', 'http:///ws', 'http://256.256.256.256/ws'])(
    'refuses an upgrade to the malformed target %s six times over, and keeps serving',
    async (target) => {
      const { port } = new URL(app.url);
      for (let i = 0; i < 6; i++) {
        const answer = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`);
        expect(answer).toMatch(/^HTTP\/1\.1 40[04] /);
      }
      expect((await app.api('GET', '/api/messages')).status).toBe(200);
      await connect();
    },
  );
});

/** Sends `request` on a raw connection and resolves with everything that came back before the server closed it. */
async function rawExchange(port: string, request: string): Promise<string> {
  const socket = net.connect(Number(port), '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(request);
  await once(socket, 'close');
  return Buffer.concat(chunks).toString('latin1');
}
