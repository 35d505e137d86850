// The database refuses connections for the first seconds of a start (a platform database still booting), then appears.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { eventually, healthOf } from '../helpers/supervisor-process.js';
import { createDelayedForwarder } from '../helpers/tcp-forwarder.js';
import { recordFigure } from './figures.js';
import { errorsLogged, logged, useScenario } from './harness.js';

const scenario = useScenario('rel_dbwait');
// Refused attempts to see before the database appears: with the 250 ms doubling backoff, about 2 s of outage.
const REFUSED_ATTEMPTS = 4;

describe('a database that refuses connections at first', () => {
  it('reports waiting_for_database throughout, stays live, then becomes ready once the database is up', async () => {
    const db = await scenario.database();
    const real = new URL(db.url);
    const forwarder = createDelayedForwarder(await freePort(), { host: real.hostname, port: Number(real.port || 5432) });
    scenario.defer(() => forwarder.close());
    const viaForwarder = new URL(db.url);
    viaForwarder.port = String(forwarder.port);
    const sup = await scenario.supervisor({ DATABASE_URL: viaForwarder.toString() });

    const readiness: { status: number; phase: unknown }[] = [];
    const liveness: number[] = [];
    const proxied: { status: number; retryAfter: string | null }[] = [];
    await eventually(() => healthOf(sup.url), 10_000, 'the port');
    while (logged(sup, 'database_unavailable').length < REFUSED_ATTEMPTS) {
      const health = await healthOf(sup.url);
      readiness.push({ status: health.status, phase: health.body.phase });
      liveness.push((await fetch(`${sup.url}/health/live`)).status);
      const response = await fetch(`${sup.url}/api/messages`);
      proxied.push({ status: response.status, retryAfter: response.headers.get('retry-after') });
      await response.body?.cancel();
      await sleep(100);
    }
    expect(logged(sup, 'database_unavailable').every((entry) => entry.reason === 'ECONNREFUSED')).toBe(true);
    expect(readiness.length).toBeGreaterThan(0);
    expect(readiness.filter((health) => health.status !== 503 || !['starting', 'waiting_for_database'].includes(String(health.phase)))).toEqual([]);
    expect(readiness.at(-1)).toEqual({ status: 503, phase: 'waiting_for_database' });
    expect(liveness.every((status) => status === 200)).toBe(true);
    expect(proxied.every((answer) => answer.status === 503 && answer.retryAfter === '5')).toBe(true);

    await forwarder.open();
    const upAt = performance.now();
    const upAtEpoch = Date.now();
    await eventually(async () => ((await healthOf(sup.url)).status === 200 ? true : undefined), 30_000, 'ready');
    recordFigure('database refuses connections at first', 'database_up_to_ready', performance.now() - upAt, 'ms');
    // The part of it spent waiting for the next attempt (the backoff), from the log's own clock.
    const connected = logged(sup, 'phase').find((entry) => entry.from === 'waiting_for_database');
    recordFigure('database refuses connections at first', 'database_up_to_connected', Number(connected?.time) - upAtEpoch, 'ms');

    expect((await healthOf(sup.url)).body).toMatchObject({ status: 'pass', phase: 'ready', checks: { database: [{ status: 'pass' }] } });
    expect((await fetch(`${sup.url}/status/200`)).status).toBe(200);
    const phases = logged(sup, 'phase').map((entry) => entry.to);
    expect(phases).toEqual(['waiting_for_database', 'migrating', 'verifying_schema', 'starting_app', 'ready']);
    expect(errorsLogged(sup)).toEqual([]);
    expect(await db.scalar('SELECT count(*)::int FROM schema_migrations')).toBe(3);
  });
});
