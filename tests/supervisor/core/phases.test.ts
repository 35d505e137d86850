import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { canTransition, createPhaseMachine } from '../../../supervisor/core/phases.js';
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
    expect(canTransition('ready', 'failed')).toBe(false);
    expect(canTransition('draining', 'ready')).toBe(false);
    expect(canTransition('failed', 'draining')).toBe(false);
    const phases = createPhaseMachine(silent);
    expect(phases.transition('ready')).toBe(false);
    expect(phases.phase).toBe('starting');
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

describe('readiness report', () => {
  it('is 200 pass only when ready, 503 fail otherwise, with all four checks', () => {
    const phases = createPhaseMachine(silent);
    phases.transition('waiting_for_database');
    phases.setCheck('database', { status: 'fail', output: 'attempt 2: ECONNREFUSED' });
    const waiting = readinessReport(phases.snapshot(), 'abc123');
    expect(waiting.statusCode).toBe(503);
    expect(waiting.body).toMatchObject({
      status: 'fail',
      phase: 'waiting_for_database',
      releaseId: 'abc123',
      checks: { database: [{ status: 'fail', componentType: 'datastore' }], app: [{ status: 'warn', output: 'not checked yet' }] },
    });
    for (const next of ['verifying_schema', 'starting_app', 'ready'] as const) phases.transition(next);
    expect(readinessReport(phases.snapshot()).statusCode).toBe(200);
    phases.transition('draining');
    expect(readinessReport(phases.snapshot())).toMatchObject({ statusCode: 503, body: { status: 'fail', phase: 'draining' } });
  });
});
