// Readiness after start: the app's health path is polled while it runs. An app that stops answering is taken out
// of rotation (/health 503) and back in when it answers again; one that stays unanswering is restarted (SIGTERM,
// then SIGKILL), which counts like a crash; the log and /health say which happened.
import { describe, expect, it } from 'vitest';
import { recordFigure } from '../reliability/figures.js';
import { exitWithin, logged } from '../reliability/harness.js';
import { eventually, healthOf, isAlive, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { useEdge } from './harness.js';

const edge = useEdge('edge_ready');
const FAST = { APP_HEALTH_INTERVAL_MS: '200', APP_HEALTH_FAILURE_THRESHOLD: '3' };

async function status(sup: SupervisorProcess): Promise<number> {
  return (await healthOf(sup.url)).status;
}

// Milliseconds until /health answers `expected`, polled every 50 ms.
async function msUntilHealth(sup: SupervisorProcess, expected: number, timeoutMs: number): Promise<number> {
  const from = performance.now();
  await eventually(async () => ((await status(sup)) === expected ? true : undefined), timeoutMs, `/health ${expected}`);
  return performance.now() - from;
}

function appPids(sup: SupervisorProcess): number[] {
  return logged(sup, 'app_ready').map((entry) => Number(entry.childPid));
}

describe('readiness while running', () => {
  it('takes an app whose health path stops answering out of rotation, and back without a restart when it answers again', async () => {
    const token = 'readiness-token-3f9c2a7e5d1b8c64';
    const sup = await edge.supervise('app-health-stalls', { ...FAST, APP_HEALTH_RESTART_THRESHOLD: '0', METRICS_TOKEN: token });
    expect((await fetch(`${sup.url}/stall-health?ms=3000`, { method: 'POST' })).status).toBe(200);
    await msUntilHealth(sup, 503, 10_000);
    const out = await healthOf(sup.url);
    expect(out.body).toMatchObject({ status: 'fail', phase: 'restarting_app', checks: { app: [{ status: 'fail' }] } });
    // Why, for a request with the metrics token (see disclosure.test.ts).
    const why = await fetch(`${sup.url}/health`, { headers: { authorization: `Bearer ${token}` } });
    expect(JSON.stringify(((await why.json()) as { checks: unknown }).checks)).toMatch(/no 200 on \/health 3 times in a row/);
    // Out of rotation: the app's paths get the supervisor's 503 meanwhile.
    const meanwhile = await fetch(`${sup.url}/anything`);
    expect(meanwhile.status).toBe(503);
    expect(meanwhile.headers.get('retry-after')).toBe('5');

    await msUntilHealth(sup, 200, 10_000);
    expect(logged(sup, 'app_health_recovered')).toHaveLength(1);
    expect(logged(sup, 'app_restart')).toEqual([]);
    expect(appPids(sup)).toHaveLength(1);
    expect((await fetch(`${sup.url}/anything`)).status).toBe(200);
  });

  it('restarts an app that stays unanswering (frozen: SIGTERM cannot reach it, SIGKILL does), counted like a crash', async () => {
    const sup = await edge.supervise('app-freezes', { ...FAST, APP_HEALTH_RESTART_THRESHOLD: '5', APP_STOP_TIMEOUT_MS: '1000' });
    const [firstPid] = appPids(sup);
    await fetch(`${sup.url}/freeze`, { method: 'POST' });
    await msUntilHealth(sup, 503, 10_000);
    await sup.waitForLog((entry) => entry.event === 'app_unresponsive', 15_000);
    await sup.waitForLog((entry) => entry.event === 'app_kill', 15_000);
    await msUntilHealth(sup, 200, 20_000);
    expect(isAlive(firstPid as number)).toBe(false);
    expect(appPids(sup)).toHaveLength(2);
    expect(logged(sup, 'app_restart')).toHaveLength(1);
    expect(logged(sup, 'app_exit')[0]).toMatchObject({ signal: 'SIGKILL', expected: true });
    expect(String(logged(sup, 'app_unresponsive')[0]?.msg)).toMatch(/stopped answering; restarting it/);
    expect((await fetch(`${sup.url}/after`)).status).toBe(200);
  });

  it('gives up when restarts for not answering pass APP_RESTART_LIMIT, as for crashes', async () => {
    const sup = await edge.supervise('app-freezes', { ...FAST, APP_HEALTH_RESTART_THRESHOLD: '3', APP_STOP_TIMEOUT_MS: '500', APP_RESTART_LIMIT: '1' });
    for (let n = 1; n <= 2; n++) {
      await eventually(async () => ((await status(sup)) === 200 ? true : undefined), 20_000, `ready ${n}`);
      await fetch(`${sup.url}/freeze`, { method: 'POST' });
      await sup.waitForLog(() => logged(sup, 'app_unresponsive').length >= n, 15_000);
    }
    const exit = await exitWithin(sup, 20_000);
    expect(exit.code).toBe(1);
    expect(logged(sup, 'failed')[0]).toMatchObject({ code: 'SUP_ERR_APP_CRASH_LOOP' });
  });

  it('with the default settings, /health turns 503 within 30 s of the app freezing', { timeout: 90_000 }, async () => {
    const sup = await edge.supervise('app-freezes', { APP_STOP_TIMEOUT_MS: '1000' });
    await fetch(`${sup.url}/freeze`, { method: 'POST' });
    const ms = await msUntilHealth(sup, 503, 35_000);
    expect(ms).toBeLessThan(30_000);
    recordFigure('readiness while running', 'app_freezes_to_health_503_defaults', ms, 'ms');
    // Restarted after APP_HEALTH_RESTART_THRESHOLD (6) polls: ready again.
    const back = await msUntilHealth(sup, 200, 45_000);
    recordFigure('readiness while running', 'app_freezes_to_ready_again_defaults', ms + back, 'ms');
  });
});
