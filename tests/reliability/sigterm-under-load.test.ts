// SIGTERM while clients keep sending requests (a deploy replacing a busy instance): nothing accepted is lost, nothing hangs.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { useSupervisorFixture } from '../helpers/supervisor-fixture.js';
import { eventually } from '../helpers/supervisor-process.js';
import { recordFigure } from './figures.js';
import { exitWithin, logged, useScenario } from './harness.js';
import { send, startLoad, succeeded, type Outcome } from './load.js';

const fixture = useSupervisorFixture('rel_sigterm');
const scenario = useScenario('rel_sigterm');
const DRAIN_TIMEOUT_MS = 8_000;
const APP_STOP_TIMEOUT_MS = 3_000;
const REQUEST_MS = 150;

function idOf(path: string): string | undefined {
  return /[?&]id=([^&]+)/.exec(path)?.[1];
}

describe('SIGTERM under steady load', () => {
  it('completes every request accepted before the signal, refuses new connections, exits 0 within the deadline', async () => {
    const record = path.join(await scenario.tempDir(), 'received');
    const sup = await fixture.start({
      FIXTURE_RECORD_FILE: record,
      DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      APP_STOP_TIMEOUT_MS: String(APP_STOP_TIMEOUT_MS),
    });
    await sup.waitForPhase('ready');
    const load = startLoad({ port: sup.port, concurrency: 32, path: (n) => `/slow?ms=${REQUEST_MS}&id=load-${n}` });
    await eventually(() => (load.outcomes.filter(succeeded).length >= 100 ? true : undefined), 30_000, 'steady load');

    // New connections, one after another, until the supervisor has exited.
    const probes: Outcome[] = [];
    let probing = true;
    const prober = (async () => {
      for (let n = 0; probing; n++) {
        probes.push(await send(sup.port, `/status/200?id=probe-${n}`, { agent: false }));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const signalAt = performance.now();
    sup.process.kill('SIGTERM');
    const shutdownLogged = await sup.waitForLog((entry) => entry.event === 'shutdown');
    const drainingAt = performance.now();
    const exit = await exitWithin(sup, DRAIN_TIMEOUT_MS + APP_STOP_TIMEOUT_MS + 15_000);
    const exitedAt = performance.now();
    probing = false;
    await prober;
    const outcomes = await load.stop();

    const received = new Set((await readFile(record, 'utf8')).split('\n').map(idOf).filter(Boolean));
    // Accepted = the app received it. Each of those must have been answered in full with its 200.
    const lost = [...outcomes, ...probes].filter((outcome) => received.has(idOf(outcome.path)) && !succeeded(outcome));
    const inFlightAtSignal = outcomes.filter((outcome) => outcome.startedAt < signalAt && outcome.endedAt > signalAt && succeeded(outcome));
    const unanswered = outcomes.filter((outcome) => !received.has(idOf(outcome.path)) && outcome.status === undefined);
    // Sent on a keep-alive connection in the instant the supervisor closed it as idle: never read, so not accepted.
    const unreadBeforeSignal = unanswered.filter((outcome) => outcome.startedAt < signalAt);
    recordFigure('SIGTERM under steady load', 'sigterm_requests_lost', lost.length, 'requests');
    recordFigure('SIGTERM under steady load', 'sigterm_in_flight_completed', inFlightAtSignal.length, 'requests');
    recordFigure('SIGTERM under steady load', 'sigterm_unread_sent_before_signal', unreadBeforeSignal.length, 'requests');
    recordFigure('SIGTERM under steady load', 'sigterm_to_exit', exitedAt - signalAt, 'ms');

    expect(exit).toEqual({ code: 0, signal: null });
    expect(lost).toEqual([]);
    expect(inFlightAtSignal.length).toBeGreaterThan(0); // the drain had work to do
    expect([...outcomes, ...probes].filter((outcome) => outcome.timedOut)).toEqual([]);
    // Not read means refused at the connection: the client may retry elsewhere; nothing half-done.
    expect(unanswered.filter((outcome) => !['ECONNRESET', 'ECONNREFUSED', 'EPIPE'].includes(String(outcome.error)))).toEqual([]);
    // Every other answer after the signal: the app's 200 for a request read just before, or 503.
    const answeredAfter = outcomes.filter((outcome) => outcome.startedAt > signalAt && outcome.status !== undefined);
    expect(answeredAfter.filter((outcome) => outcome.status !== 200 && outcome.status !== 503)).toEqual([]);
    // New connections once draining: refused or 503, never accepted and left waiting.
    const probesWhileDraining = probes.filter((probe) => probe.startedAt > drainingAt);
    expect(probesWhileDraining.length).toBeGreaterThan(0);
    expect(probesWhileDraining.filter((probe) => probe.error !== 'ECONNREFUSED' && probe.status !== 503)).toEqual([]);
    expect(logged(sup, 'drain_timeout')).toEqual([]);
    expect(shutdownLogged).toMatchObject({ signal: 'SIGTERM' });
    expect(logged(sup, 'shutdown_complete')).toHaveLength(1);
  });
});
