// The 503 answer while the app cannot take requests: its message says what the supervisor is doing, and the
// status page shows a visitor no more than the public view of /health.
import { once } from 'node:events';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHASES, type Phase, type PhaseSnapshot } from '../../../supervisor/core/phases.js';
import { bearerTokenCheck } from '../../../supervisor/http/bearer-token.js';
import { sendNotReady } from '../../../supervisor/http/not-ready-page.js';

const TOKEN = 'status-token-2d7f9a4c6e1b3f58';

// A server that answers every request with sendNotReady for the phase named in the path, e.g. `/failed`.
let server: http.Server;
let base: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    const snapshot: PhaseSnapshot = { phase: req.url?.slice(1) as Phase, since: new Date(), detail: undefined, lastErrorCode: undefined, checks: {} };
    sendNotReady(req, res, snapshot);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function notReadyMessage(phase: Phase): Promise<string> {
  const response = await fetch(`${base}/${phase}`);
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('5');
  const body = (await response.json()) as { error: { code: string; message: string; phase: string } };
  expect(body.error).toMatchObject({ code: 'SUP_ERR_NOT_READY', phase });
  return body.error.message;
}

describe('the not-ready answer', () => {
  it('says what the supervisor is doing in each phase', async () => {
    expect(await notReadyMessage('waiting_for_database')).toMatch(/waiting for its database/);
    expect(await notReadyMessage('migrating')).toMatch(/applying database migrations/);
    expect(await notReadyMessage('verifying_schema')).toMatch(/checking its database schema/);
    expect(await notReadyMessage('restarting_app')).toMatch(/app stopped, or stopped answering/);
    expect(await notReadyMessage('draining')).toMatch(/shutting down/);
    expect(await notReadyMessage('failed')).toMatch(/failed to start/);
  });

  it('has a message of its own for every phase, and only `starting` says starting', async () => {
    const messages = await Promise.all(PHASES.map(notReadyMessage));
    expect(new Set(messages).size).toBe(PHASES.length);
    expect(messages.filter((message) => message.includes('is starting;'))).toEqual(['The service is starting; retry shortly.']);
  });
});

// The status page as sendNotReady writes it for `req`, without a server.
function statusPage(snapshot: PhaseSnapshot, authorization?: string): string {
  const req = { method: 'GET', headers: { accept: 'text/html', ...(authorization ? { authorization } : {}) } } as IncomingMessage;
  let body = '';
  const res = { writeHead: () => res, end: (chunk?: string) => void (body = chunk ?? '') } as unknown as ServerResponse;
  sendNotReady(req, res, snapshot, { carriesToken: bearerTokenCheck(TOKEN), releaseId: 'abc123def' });
  return body;
}

describe('the status page', () => {
  const waiting: PhaseSnapshot = {
    phase: 'waiting_for_database',
    since: new Date(Date.now() - 65_000),
    detail: 'db.internal/secretdb_name',
    lastErrorCode: 'SUP_ERR_DB_UNAVAILABLE',
    checks: { database: { status: 'fail', output: 'attempt 7: ECONNREFUSED', code: 'SUP_ERR_DB_UNAVAILABLE', observedValue: 7, time: new Date().toISOString() } },
  };

  it('shows a visitor the phase, the steps with their codes and the time, and no detail', () => {
    const page = statusPage(waiting);
    expect(page).toContain('<h1>Waiting for the database…</h1>');
    expect(page).toContain('Last error: <code>SUP_ERR_DB_UNAVAILABLE</code>');
    expect(page).toMatch(/<li data-status="fail">.*Database <small>SUP_ERR_DB_UNAVAILABLE<\/small><\/li>/);
    expect(page).toContain('<li data-status="pending"><span aria-hidden="true">○</span> Migrations</li>');
    expect(page).toContain('for 1 min 5 s');
    for (const secret of ['db.internal', 'secretdb_name', 'ECONNREFUSED', 'attempt 7', 'abc123def']) expect(page).not.toContain(secret);
  });

  it('shows the detail to a request with the metrics token', () => {
    const page = statusPage(waiting, `Bearer ${TOKEN}`);
    expect(page).toContain('<p class="detail">db.internal/secretdb_name</p>');
    expect(page).toContain('Database <small>attempt 7: ECONNREFUSED</small>');
  });
});
