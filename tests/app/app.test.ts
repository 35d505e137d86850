import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../../app/middleware/json-body.js';
import { createMigratedDatabase, request, startApp, type RunningApp } from './harness.js';

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
let app: RunningApp;

beforeAll(async () => {
  db = await createMigratedDatabase('app_app');
  app = await startApp(db.url);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});
beforeEach(() => db.reset());

describe('error responses', () => {
  it.each([
    ['GET', '/nope'],
    ['GET', '/api'],
    ['POST', '/api/unknown'],
    ['PUT', '/api/messages'],
    ['GET', '/api/kanban/tasks'],
  ])('%s %s answers 404 APP_ERR_ROUTE_NOT_FOUND as JSON', async (method, path) => {
    const response = await app.api(method, path, method === 'GET' ? undefined : {});
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual({ error: { code: 'APP_ERR_ROUTE_NOT_FOUND', message: expect.stringContaining(path), details: [] } });
  });

  it.each(['{"author": "Ada",', 'not json', '{"author": "Ada" "body": "x"}'])('malformed JSON %j answers 400 APP_ERR_INVALID_JSON', async (text) => {
    const response = await app.api('POST', '/api/messages', text);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: { code: 'APP_ERR_INVALID_JSON', message: 'The request body is not valid JSON', details: [] } });
  });

  it('a missing body answers 400 APP_ERR_VALIDATION', async () => {
    const response = await app.api('POST', '/api/messages');
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('APP_ERR_VALIDATION');
  });

  it('a body that is not JSON answers 415', async () => {
    const response = await request(app.url, 'POST', '/api/messages', 'author=Ada&body=hi', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(response.status).toBe(415);
    expect(response.body.error.code).toBe('APP_ERR_UNSUPPORTED_MEDIA_TYPE');
  });

  it('a body over 1 MiB answers 413 and stores nothing; one just under is read', async () => {
    const tooBig = JSON.stringify({ author: 'Ada', body: 'x'.repeat(BODY_LIMIT_BYTES) });
    const response = await app.api('POST', '/api/messages', tooBig);
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('APP_ERR_PAYLOAD_TOO_LARGE');
    expect((await db.query('SELECT count(*)::int AS n FROM messages')).rows[0]).toEqual({ n: 0 });

    // Just under the limit (padded with whitespace): read and stored.
    const padding = ' '.repeat(BODY_LIMIT_BYTES - 100);
    const underLimit = await app.api('POST', '/api/messages', `{"author": "Ada",${padding}"body": "fits"}`);
    expect(underLimit.status).toBe(201);
  });

  it('a database error answers 500 without SQL or a stack trace, and the log has the details', async () => {
    await db.query('ALTER TABLE messages RENAME TO messages_gone');
    let response;
    try {
      response = await app.api('GET', '/api/messages');
    } finally {
      await db.query('ALTER TABLE messages_gone RENAME TO messages');
    }
    expect(response.status).toBe(500);
    expect(response.body).toEqual({ error: { code: 'APP_ERR_INTERNAL', message: 'Internal server error', details: [] } });
    expect(response.text).not.toMatch(/relation|messages|SELECT|at /);
    const logged = app.logs.find((line) => line.event === 'request_error' && line.code === 'APP_ERR_INTERNAL');
    expect(logged).toMatchObject({ level: 50, url: '/api/messages', err: { message: 'relation "messages" does not exist' } });
    expect(JSON.stringify(logged)).toContain('"stack"');
  });

  it('does not announce Express', async () => {
    const response = await app.api('GET', '/health');
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});

describe('the board page', () => {
  it('GET / serves the HTML page, and its script', async () => {
    const page = await app.api('GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toContain('<script');
    const script = await app.api('GET', '/app.js');
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    expect(script.text).toContain('/ws');
  });
});
