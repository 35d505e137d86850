import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMigratedDatabase, startApp, type RunningApp } from '../harness.js';

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
let app: RunningApp;

beforeAll(async () => {
  db = await createMigratedDatabase('app_activities');
  app = await startApp(db.url);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});
beforeEach(() => db.reset());

async function ok(method: string, path: string, body?: unknown) {
  const response = await app.api(method, path, body);
  expect(response.status).toBeLessThan(300);
  return response.body;
}

describe('GET /api/activities', () => {
  it('lists one activity per change, newest first, each naming its entity', async () => {
    const message = await ok('POST', '/api/messages', { author: 'Ada', body: 'hi' });
    const todo = await ok('POST', '/api/kanban/columns', { title: 'Todo' });
    const done = await ok('POST', '/api/kanban/columns', { title: 'Done' });
    const task = await ok('POST', '/api/kanban/tasks', { columnId: todo.id, title: 'Task' });
    await ok('PATCH', `/api/kanban/tasks/${task.id}`, { title: 'Task!' });
    await ok('PATCH', `/api/kanban/tasks/${task.id}`, { columnId: done.id });
    await ok('DELETE', `/api/kanban/tasks/${task.id}`);
    await ok('PATCH', `/api/kanban/columns/${done.id}`, { title: 'Finished' });
    await ok('DELETE', `/api/kanban/columns/${done.id}`);

    const response = await app.api('GET', '/api/activities');
    expect(response.status).toBe(200);
    expect(response.body.map((activity: { type: string; entityType: string; entityId: number }) => [activity.type, activity.entityType, activity.entityId])).toEqual([
      ['column.deleted', 'column', done.id],
      ['column.updated', 'column', done.id],
      ['task.deleted', 'task', task.id],
      ['task.moved', 'task', task.id],
      ['task.updated', 'task', task.id],
      ['task.created', 'task', task.id],
      ['column.created', 'column', done.id],
      ['column.created', 'column', todo.id],
      ['message.created', 'message', message.id],
    ]);
    expect(response.body.at(-1)).toEqual({
      id: expect.any(Number),
      type: 'message.created',
      entityType: 'message',
      entityId: message.id,
      payload: { author: 'Ada' },
      createdAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
    });
  });

  it('honours limit and before', async () => {
    for (let i = 0; i < 5; i++) await ok('POST', '/api/messages', { author: 'Ada', body: `m${i}` });
    const first = await app.api('GET', '/api/activities?limit=3');
    expect(first.body).toHaveLength(3);
    const rest = await app.api('GET', `/api/activities?before=${first.body[2].id}`);
    expect(rest.body.map((activity: { id: number }) => activity.id)).toEqual([first.body[2].id - 1, first.body[2].id - 2]);
  });

  it('answers 400 for a bad limit and 404 for an unknown before', async () => {
    expect((await app.api('GET', '/api/activities?limit=1000')).status).toBe(400);
    expect((await app.api('GET', '/api/activities?before=12345')).status).toBe(404);
  });

  it('has no activity for a change that failed: the activity is written in the same transaction', async () => {
    const todo = await ok('POST', '/api/kanban/columns', { title: 'Todo' });
    // The message insert succeeds, then the activity insert fails: the message must not stay behind.
    await db.query("ALTER TABLE activities ADD CONSTRAINT no_messages CHECK (type <> 'message.created')");
    try {
      const response = await app.api('POST', '/api/messages', { author: 'Ada', body: 'lost' });
      expect(response.status).toBe(400);
    } finally {
      await db.query('ALTER TABLE activities DROP CONSTRAINT no_messages');
    }
    expect((await db.query('SELECT * FROM messages')).rows).toEqual([]);
    expect((await app.api('GET', '/api/activities')).body.map((activity: { entityId: number }) => activity.entityId)).toEqual([todo.id]);
  });
});
