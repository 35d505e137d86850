import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../../../supervisor/core/errors.js';
import { canTransition, createPhaseMachine } from '../../../supervisor/core/phases.js';
import { statusView } from '../../../supervisor/http/disclosure.js';
import { readinessReport } from '../../../supervisor/http/health-routes.js';

const silent = pino({ level: 'silent' });

describe('phase machine', () => {
  it('walks the startup path in order', () => {
    const phases = createPhaseMachine(silent);
    for (const next of ['waiting_for_database', 'migrating', 'verifying_schema', 'starting_app', 'ready'] as const) {
      expect(phases.transition(next)).toBe(true);
    }
    expect(phases.phase).toBe('ready');
  });

  it('refuses moves the design does not allow', () => {
    expect(canTransition('starting', 'ready')).toBe(false);
    expect(canTransition('ready', 'migrating')).toBe(false);
    expect(canTransition('draining', 'ready')).toBe(false);
    expect(canTransition('failed', 'draining')).toBe(false);
    const phases = createPhaseMachine(silent);
    expect(phases.transition('ready')).toBe(false);
    expect(phases.phase).toBe('starting');
  });

  it('fails from ready too (the own routes or the metrics port failing), showing failed', () => {
    const phases = createPhaseMachine(silent);
    for (const phase of ['waiting_for_database', 'verifying_schema', 'starting_app', 'ready'] as const) phases.transition(phase);
    expect(phases.fail('SUP_ERR_UNEXPECTED')).toBe(true);
    expect(phases.phase).toBe('failed');
  });

  it('allows draining and failing from every startup phase', () => {
    for (const phase of ['starting', 'waiting_for_database', 'migrating', 'verifying_schema', 'starting_app'] as const) {
      expect(canTransition(phase, 'draining')).toBe(true);
      expect(canTransition(phase, 'failed')).toBe(true);
    }
  });

  it('goes ready ⇄ restarting_app', () => {
    expect(canTransition('ready', 'restarting_app')).toBe(true);
    expect(canTransition('restarting_app', 'ready')).toBe(true);
    expect(canTransition('restarting_app', 'failed')).toBe(true);
  });
});

describe('the last error', () => {
  it('is one of the codes of core/errors.ts, checked by the compiler', () => {
    const phases = createPhaseMachine(silent);
    phases.transition('waiting_for_database');
    // @ts-expect-error: not a code of core/errors.ts (`npx tsc` fails if this line compiles)
    phases.recordError('SUP_ERR_NO_SUCH_CODE');
    phases.recordError('SUP_ERR_DB_UNAVAILABLE');
    const lastErrorCode: ErrorCode | undefined = phases.snapshot().lastErrorCode;
    expect(lastErrorCode).toBe('SUP_ERR_DB_UNAVAILABLE');
  });
});

describe('readiness report', () => {
  it('is 200 pass only when ready, 503 fail otherwise, with all four checks', () => {
    const phases = createPhaseMachine(silent);
    phases.transition('waiting_for_database');
    phases.setCheck('database', { status: 'fail', output: 'attempt 2: ECONNREFUSED' });
    const waiting = readinessReport(statusView(phases.snapshot(), 'full', 'abc123'));
    expect(waiting.statusCode).toBe(503);
    expect(waiting.body).toMatchObject({
      status: 'fail',
      phase: 'waiting_for_database',
      releaseId: 'abc123',
      checks: { database: [{ status: 'fail', componentType: 'datastore' }], app: [{ status: 'warn', output: 'not checked yet' }] },
    });
    for (const next of ['verifying_schema', 'starting_app', 'ready'] as const) phases.transition(next);
    expect(readinessReport(statusView(phases.snapshot(), 'public')).statusCode).toBe(200);
    phases.transition('draining');
    expect(readinessReport(statusView(phases.snapshot(), 'public'))).toMatchObject({ statusCode: 503, body: { status: 'fail', phase: 'draining' } });
  });
});

describe('a failed start', () => {
  it('shows the check of the phase that failed as fail with the reason, not as "not checked yet"', () => {
    const phases = createPhaseMachine(silent);
    for (const next of ['waiting_for_database', 'verifying_schema'] as const) phases.transition(next);
    phases.setCheck('database', { status: 'pass' });
    phases.setCheck('migrations', { status: 'fail', output: '0 applied, 1 pending' });
    expect(phases.fail('SUP_ERR_SCHEMA_INVALID', 'The schema is not what the app needs: missing tables messages')).toBe(true);

    const { statusCode, body } = readinessReport(statusView(phases.snapshot(), 'full'));
    expect(statusCode).toBe(503);
    expect(body).toMatchObject({
      status: 'fail',
      phase: 'failed',
      // Once: it is the last error, and the phase has no detail of its own.
      output: 'SUP_ERR_SCHEMA_INVALID',
      checks: {
        migrations: [{ status: 'fail', output: '0 applied, 1 pending' }],
        schema: [{ status: 'fail', code: 'SUP_ERR_SCHEMA_INVALID', output: 'The schema is not what the app needs: missing tables messages' }],
        app: [{ status: 'warn', output: 'not checked yet' }],
      },
    });
  });

  it('keeps the reason a check failed with, and names the code when there is no other', () => {
    const phases = createPhaseMachine(silent);
    phases.transition('waiting_for_database');
    phases.setCheck('database', { status: 'fail', output: 'attempt 3: ECONNREFUSED' });
    phases.fail('SUP_ERR_DB_AUTH_FAILED');
    expect(phases.snapshot().checks.database).toMatchObject({ status: 'fail', output: 'attempt 3: ECONNREFUSED', code: 'SUP_ERR_DB_AUTH_FAILED' });

    const starting = createPhaseMachine(silent);
    for (const next of ['waiting_for_database', 'verifying_schema', 'starting_app'] as const) starting.transition(next);
    starting.fail('SUP_ERR_APP_START_TIMEOUT');
    expect(starting.snapshot()).toMatchObject({ lastErrorCode: 'SUP_ERR_APP_START_TIMEOUT', checks: { app: { status: 'fail', output: 'SUP_ERR_APP_START_TIMEOUT', code: 'SUP_ERR_APP_START_TIMEOUT' } } });
  });
});
