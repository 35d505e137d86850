// The 503 answer while the app cannot take requests: its message says what the supervisor is doing.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHASES, type Phase, type PhaseSnapshot } from '../../../supervisor/core/phases.js';
import { sendNotReady } from '../../../supervisor/http/not-ready-page.js';

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
  expect(body.error).toMatchObject({ code: 'NOT_READY', phase });
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
