// What an anonymous request sees of the supervisor's state, and what the metrics token adds: one view for /health,
// the status page and the not-ready answer.
import type { IncomingMessage } from 'node:http';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createPhaseMachine, type PhaseSnapshot } from '../../../supervisor/core/phases.js';
import { bearerTokenCheck } from '../../../supervisor/http/bearer-token.js';
import { statusView, viewFor } from '../../../supervisor/http/disclosure.js';
import { readinessReport } from '../../../supervisor/http/health-routes.js';

const silent = pino({ level: 'silent' });
const TOKEN = 'health-token-5c8e1f3a7b9d2e40';
// What only the full detail may show: a host, a port, a database name, raw error text, a file name, a pid, a commit.
const SECRETS = ['db.internal', '5432', 'secretdb_name', 'ECONNREFUSED', '0002_add_orders', 'pid 4242', 'abc123def'];

function request(authorization?: string): IncomingMessage {
  return { headers: authorization === undefined ? {} : { authorization }, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage;
}

// Every kind of detail at once (no real start is in all these states together): the database's address as the
// phase's detail, then a migration's file name, a connection error, the app's pid.
function busySnapshot(): PhaseSnapshot {
  const phases = createPhaseMachine(silent);
  phases.transition('waiting_for_database', 'db.internal/secretdb_name');
  phases.setCheck('database', {
    status: 'fail',
    output: 'attempt 3: ECONNREFUSED db.internal:5432',
    code: 'SUP_ERR_DB_UNAVAILABLE',
    observedValue: 3,
    observedUnit: 'attempts',
  });
  phases.recordError('SUP_ERR_DB_UNAVAILABLE');
  phases.setCheck('app', { status: 'pass', output: 'pid 4242', observedValue: 'secretdb_name' });
  phases.describe('applying migration 2 of 3: 0002_add_orders');
  return phases.snapshot();
}

describe('the public view', () => {
  it('keeps the phase, the statuses, codes and numbers, and drops the detail, the text and the release', () => {
    const view = statusView(busySnapshot(), 'public', 'abc123def');
    const { statusCode, body } = readinessReport(view);
    expect(statusCode).toBe(503);
    expect(body).toEqual({
      status: 'fail',
      phase: 'waiting_for_database',
      since: expect.any(String),
      output: 'SUP_ERR_DB_UNAVAILABLE',
      checks: {
        database: [{ componentType: 'datastore', status: 'fail', code: 'SUP_ERR_DB_UNAVAILABLE', observedValue: 3, observedUnit: 'attempts', time: expect.any(String) }],
        migrations: [{ componentType: 'component', status: 'warn', output: 'not checked yet' }],
        schema: [{ componentType: 'component', status: 'warn', output: 'not checked yet' }],
        // A string observed value could say anything: dropped with the text.
        app: [{ componentType: 'system', status: 'pass', time: expect.any(String) }],
      },
    });
    for (const secret of SECRETS) expect(JSON.stringify(body)).not.toContain(secret);
  });

  it('is the full snapshot with the release when asked for the full detail', () => {
    const { body } = readinessReport(statusView(busySnapshot(), 'full', 'abc123def'));
    expect(body).toMatchObject({
      output: 'applying migration 2 of 3: 0002_add_orders; SUP_ERR_DB_UNAVAILABLE',
      releaseId: 'abc123def',
      checks: {
        database: [{ status: 'fail', code: 'SUP_ERR_DB_UNAVAILABLE', output: 'attempt 3: ECONNREFUSED db.internal:5432' }],
        app: [{ status: 'pass', output: 'pid 4242' }],
      },
    });
  });

  it('names the code of a failed start once, in both views', () => {
    const phases = createPhaseMachine(silent);
    for (const next of ['waiting_for_database', 'verifying_schema', 'starting_app'] as const) phases.transition(next);
    phases.fail('SUP_ERR_APP_START_TIMEOUT');
    for (const disclosure of ['public', 'full'] as const) {
      const { body } = readinessReport(statusView(phases.snapshot(), disclosure));
      expect(body).toMatchObject({ phase: 'failed', output: 'SUP_ERR_APP_START_TIMEOUT', checks: { app: [{ status: 'fail', code: 'SUP_ERR_APP_START_TIMEOUT' }] } });
    }
  });
});

describe('the view for a request', () => {
  const carriesToken = bearerTokenCheck(TOKEN);

  it('is full only with the metrics token, in any case of `Bearer`', () => {
    for (const authorization of [`Bearer ${TOKEN}`, `bearer  ${TOKEN} `]) {
      expect(viewFor(request(authorization), busySnapshot(), { carriesToken, releaseId: 'abc123def' }).releaseId).toBe('abc123def');
    }
  });

  it('is public without it, with a wrong one, and from loopback too', () => {
    for (const authorization of [undefined, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, `Basic ${TOKEN}`]) {
      const view = viewFor(request(authorization), busySnapshot(), { carriesToken, releaseId: 'abc123def' });
      expect(view).toMatchObject({ detail: undefined, lastErrorCode: 'SUP_ERR_DB_UNAVAILABLE' });
      expect(view.releaseId).toBeUndefined();
      expect(view.checks.app?.output).toBeUndefined();
    }
  });

  it('is public for everyone when no METRICS_TOKEN is set', () => {
    const view = viewFor(request('Bearer anything-at-all-1234567'), busySnapshot(), { carriesToken: bearerTokenCheck(undefined), releaseId: 'abc123def' });
    expect(view.detail).toBeUndefined();
    expect(viewFor(request(), busySnapshot()).detail).toBeUndefined();
  });
});
