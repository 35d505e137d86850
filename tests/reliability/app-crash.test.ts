// The app crashes under load, once and then in a loop: the first is survived, the second ends the instance, never a restart storm.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { useSupervisorFixture } from '../helpers/supervisor-fixture.js';
import { eventually, isAlive } from '../helpers/supervisor-process.js';
import { recordFigure } from './figures.js';
import { exitWithin, logged, useScenario } from './harness.js';
import { startLoad, succeeded, type Outcome } from './load.js';

const fixture = useSupervisorFixture('rel_crash');
const scenario = useScenario('rel_crash');
const RESTART_LIMIT = 3;
const BACKOFF_MS = 100;

// The longest any request waited: requests held while the app restarted wait for it.
const longestWaitMs = (outcomes: readonly Outcome[]): number => Math.max(...outcomes.map((outcome) => outcome.endedAt - outcome.startedAt));

describe('the app crashing under load', () => {
  it('recovers from one crash, then gives up on a crash loop after APP_RESTART_LIMIT restarts with exit 1', async () => {
    const marker = path.join(await scenario.tempDir(), 'crash-from-now-on');
    const sup = await fixture.start({
      APP_RESTART_LIMIT: String(RESTART_LIMIT),
      APP_RESTART_BACKOFF_MS: String(BACKOFF_MS),
      FIXTURE_CRASH_MARKER: marker,
    });
    await sup.waitForPhase('ready');
    const load = startLoad({ port: sup.port, concurrency: 8, path: () => '/slow?ms=20' });
    await eventually(() => (load.outcomes.filter(succeeded).length >= 50 ? true : undefined), 20_000, 'steady load');

    // One crash, by a POST: not sent again to the new app, as a GET under way would be.
    const crashAt = performance.now();
    expect((await fetch(`${sup.url}/crash`, { method: 'POST' })).status).toBe(502);
    await sup.waitForLog((entry) => entry.event === 'app_ready' && logged(sup, 'app_restart').length === 1);
    const served = await eventually(() => {
      const after = load.outcomes.filter((outcome) => outcome.startedAt > crashAt);
      return after.filter(succeeded).length >= 50 ? after : undefined;
    }, 20_000, 'steady load after the restart');
    recordFigure('app crashes once under load', 'crash_longest_wait', longestWaitMs(served), 'ms');
    // Every request got the app's answer: those under way were sent again, those that came meanwhile waited.
    expect(served.filter((outcome) => !succeeded(outcome))).toEqual([]);
    expect(logged(sup, 'app_restart')).toHaveLength(1);

    // Now every start of the app crashes.
    await writeFile(marker, '');
    const loopAt = performance.now();
    await fetch(`${sup.url}/crash`, { method: 'POST' }).catch(() => {});
    const exit = await exitWithin(sup, 30_000);
    recordFigure('app crashes in a loop under load', 'crash_loop_to_exit', performance.now() - loopAt, 'ms');
    const outcomes = await load.stop();

    expect(exit.code).toBe(1);
    expect(logged(sup, 'failed')).toEqual([expect.objectContaining({ code: 'SUP_ERR_APP_CRASH_LOOP' })]);
    // Restarts: exactly the limit over both episodes, each one after twice the delay of the one before.
    const restarts = logged(sup, 'app_restart');
    recordFigure('app crashes in a loop under load', 'crash_loop_restarts', restarts.length, 'restarts');
    expect(restarts.map((entry) => entry.delayMs)).toEqual(Array.from({ length: RESTART_LIMIT }, (_, i) => BACKOFF_MS * 2 ** i));
    expect(logged(sup, 'app_spawn')).toHaveLength(RESTART_LIMIT + 1);
    // No app process outlives the supervisor.
    const pids = logged(sup, 'app_exit').map((entry) => Number(entry.childPid));
    await eventually(() => (pids.every((pid) => !isAlive(pid)) ? true : undefined), 10_000, 'every app process to be gone');
    // Clients never hung: held or answered 502/503 while it flapped, refused once it was gone.
    const inLoop = outcomes.filter((outcome) => outcome.startedAt > loopAt);
    expect(inLoop.filter((outcome) => outcome.timedOut)).toEqual([]);
    expect(inLoop.filter((outcome) => !succeeded(outcome) && outcome.status === undefined && outcome.error !== 'ECONNREFUSED' && outcome.error !== 'ECONNRESET')).toEqual([]);
  });
});
