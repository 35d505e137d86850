// The database goes away while the app is serving: /health says so in its database check, as a warning, and
// stays 200, so that one shared database's outage does not take every instance out of rotation at once.
import { describe, expect, it } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { applyMigrations } from '../helpers/migrate.js';
import { eventually, healthOf } from '../helpers/supervisor-process.js';
import { createDelayedForwarder } from '../helpers/tcp-forwarder.js';
import { errorsLogged, logged, useScenario } from './harness.js';

const scenario = useScenario('rel_dbaway');

function databaseCheck(body: Record<string, unknown>): Record<string, unknown> | undefined {
  return ((body.checks as Record<string, Record<string, unknown>[]>).database ?? [])[0];
}

describe('the database going away while ready', () => {
  it('turns the database check to warn with the error code, keeps /health 200, and clears it when the database is back', async () => {
    const db = await scenario.database();
    await applyMigrations(db.url);
    const real = new URL(db.url);
    const forwarder = createDelayedForwarder(await freePort(), { host: real.hostname, port: Number(real.port || 5432) });
    await forwarder.open();
    scenario.defer(() => forwarder.close());
    const viaForwarder = new URL(db.url);
    viaForwarder.port = String(forwarder.port);
    const token = 'database-away-token-6a1e9c3f7b2d';
    const sup = await scenario.supervisor({
      DATABASE_URL: viaForwarder.toString(),
      DB_CHECK_INTERVAL_MS: '200',
      DB_CONNECT_TIMEOUT_MS: '1000',
      METRICS_TOKEN: token,
    });
    await sup.waitForPhase('ready');
    expect((await healthOf(sup.url)).body.status).toBe('pass');

    await forwarder.close();
    const away = await eventually(async () => {
      const health = await healthOf(sup.url);
      return databaseCheck(health.body)?.status === 'warn' ? health : undefined;
    }, 15_000, 'the database check to warn');
    expect(away.status).toBe(200);
    expect(away.body).toMatchObject({ status: 'warn', phase: 'ready' });
    expect(databaseCheck(away.body)).toMatchObject({ status: 'warn', code: 'SUP_ERR_DB_UNAVAILABLE' });
    // The reason is for a request with the metrics token (see tests/edge/disclosure.test.ts).
    const detailed = await fetch(`${sup.url}/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(databaseCheck((await detailed.json()) as Record<string, unknown>)).toMatchObject({ status: 'warn', code: 'SUP_ERR_DB_UNAVAILABLE', output: 'ECONNREFUSED' });
    // The app keeps being served meanwhile: whatever it answers, the supervisor does not stand in its way.
    expect((await fetch(`${sup.url}/status/200`)).status).toBe(200);

    await forwarder.open();
    const back = await eventually(async () => {
      const health = await healthOf(sup.url);
      return databaseCheck(health.body)?.status === 'pass' ? health : undefined;
    }, 15_000, 'the database check to pass again');
    expect(back.body.status).toBe('pass');
    expect(logged(sup, 'database_unreachable')).toHaveLength(1);
    expect(logged(sup, 'database_reachable')).toHaveLength(1);
    expect(errorsLogged(sup)).toEqual([]);
  });
});
