import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMigratedDatabase, startApp, type RunningApp } from '../harness.js';

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
let app: RunningApp;

beforeAll(async () => {
  db = await createMigratedDatabase('app_messages');
  app = await startApp(db.url);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});
beforeEach(() => db.reset());

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

async function post(author: string, body: string) {
  const response = await app.api('POST', '/api/messages', { author, body });
  expect(response.status).toBe(201);
  return response.body as { id: number; author: string; body: string; createdAt: string };
}

describe('POST /api/messages', () => {
  it('stores the message and answers 201 with the row: an integer id and an ISO 8601 timestamp', async () => {
    const response = await app.api('POST', '/api/messages', { author: 'Ada', body: 'Hello, board' });
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ id: 1, author: 'Ada', body: 'Hello, board', createdAt: expect.stringMatching(ISO_8601) });
    const { rows } = await db.query('SELECT author, body FROM messages');
    expect(rows).toEqual([{ author: 'Ada', body: 'Hello, board' }]);
  });

  it('trims the author and the body', async () => {
    expect(await post('  Ada ', ' hi \n')).toMatchObject({ author: 'Ada', body: 'hi' });
  });

  it('writes a message.created activity', async () => {
    const message = await post('Ada', 'hi');
    const { rows } = await db.query('SELECT type, entity_type, entity_id FROM activities');
    expect(rows).toEqual([{ type: 'message.created', entity_type: 'message', entity_id: message.id }]);
  });

  it.each([
    ['a missing body field', { author: 'Ada' }, 'body'],
    ['an empty author', { author: '   ', body: 'hi' }, 'author'],
    ['an author over 100 characters', { author: 'x'.repeat(101), body: 'hi' }, 'author'],
    ['a body over 10000 characters', { author: 'Ada', body: 'x'.repeat(10_001) }, 'body'],
    ['a number for the body', { author: 'Ada', body: 42 }, 'body'],
    ['a NUL character', { author: 'Ada', body: 'a\u0000b' }, 'body'],
    ['an unknown field', { author: 'Ada', body: 'hi', pinned: true }, ''],
  ])('answers 400 APP_ERR_VALIDATION for %s, naming the field, and stores nothing', async (_case, body, path) => {
    const response = await app.api('POST', '/api/messages', body);
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'APP_ERR_VALIDATION', message: expect.any(String) });
    expect(response.body.error.details).toContainEqual({ path, message: expect.any(String) });
    const { rows } = await db.query('SELECT count(*)::int AS n FROM messages');
    expect(rows[0]).toEqual({ n: 0 });
  });

  it('answers 400 when the body is a JSON array instead of an object', async () => {
    const response = await app.api('POST', '/api/messages', [{ author: 'Ada', body: 'hi' }]);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('APP_ERR_VALIDATION');
  });
});

describe('GET /api/messages', () => {
  it('lists messages newest first', async () => {
    for (const body of ['one', 'two', 'three']) await post('Ada', body);
    const response = await app.api('GET', '/api/messages');
    expect(response.status).toBe(200);
    expect(response.body.map((message: { body: string }) => message.body)).toEqual(['three', 'two', 'one']);
  });

  it('answers an empty list when there are no messages', async () => {
    const response = await app.api('GET', '/api/messages');
    expect(response.status).toBe(200);
    expect(response.body).toEqual([]);
  });

  it('pages with limit and before=<id of the last message seen>', async () => {
    for (let i = 1; i <= 5; i++) await post('Ada', `m${i}`);
    const first = await app.api('GET', '/api/messages?limit=2');
    expect(first.body.map((m: { body: string }) => m.body)).toEqual(['m5', 'm4']);
    const second = await app.api('GET', `/api/messages?limit=2&before=${first.body[1].id}`);
    expect(second.body.map((m: { body: string }) => m.body)).toEqual(['m3', 'm2']);
    const third = await app.api('GET', `/api/messages?limit=2&before=${second.body[1].id}`);
    expect(third.body.map((m: { body: string }) => m.body)).toEqual(['m1']);
  });

  it('defaults to 50 messages per page', async () => {
    await db.query("INSERT INTO messages (author, body) SELECT 'bot', 'n' || g FROM generate_series(1, 60) AS g");
    const response = await app.api('GET', '/api/messages');
    expect(response.body).toHaveLength(50);
  });

  it('answers 404 when before names no message', async () => {
    const response = await app.api('GET', '/api/messages?before=999');
    expect(response.status).toBe(404);
    expect(response.body.error.code).toBe('APP_ERR_NOT_FOUND');
  });

  it.each(['limit=0', 'limit=201', 'limit=abc', 'limit=-1', 'limit=1.5', 'before=0', 'before=x', 'before=99999999999'])(
    'answers 400 for %s',
    async (query) => {
      const response = await app.api('GET', `/api/messages?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('APP_ERR_VALIDATION');
      expect(response.body.error.details[0].path).toBe(query.split('=')[0]);
    },
  );
});
