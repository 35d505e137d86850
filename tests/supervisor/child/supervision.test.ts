// Keeping the app running, against real app processes: the races between an exit, the restart that follows it, a
// reload (SIGHUP) and a stop. What a user sees: the phase, the app that answers, and how many app processes run.
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppSupervision } from '../../../supervisor/child/supervision.js';
import { type Config, loadConfig } from '../../../supervisor/core/config.js';
import { captureLogging } from '../../helpers/captured-logging.js';
import { createPhaseMachine, type PhaseMachine } from '../../../supervisor/core/phases.js';
import { eventually, FIXTURE_APP } from '../../helpers/supervisor-process.js';

// The compiled module, as the supervisor runs it: the guard that child-app.ts spawns exists only there.
const SUPERVISION_MODULE = new URL('../../../supervisor/dist/child/supervision.js', import.meta.url).href;
const { createAppSupervision } = (await import(SUPERVISION_MODULE)) as typeof import('../../../supervisor/child/supervision.js');

interface Supervised {
  readonly supervision: AppSupervision;
  readonly phases: PhaseMachine;
  /** The log entries with this event, in order. */
  events(event: string): Record<string, unknown>[];
  /** What onGiveUp was called with. */
  readonly gaveUp: unknown[];
  /** Stops it the way the teardown does: abort, then stop every app. */
  stop(): Promise<void>;
}

const running: Supervised[] = [];
afterEach(async () => {
  delete process.env.FIXTURE_START_DELAY_MS;
  await Promise.all(running.splice(0).map((supervised) => supervised.stop()));
});

// The app processes under this test process (the guards that run them left out), from one look at the process table.
function appProcesses(): number[] {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map(([, pid, ppid, args]) => ({ pid: Number(pid), ppid: Number(ppid), args: args ?? '' }));
  const below = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const row of table) if (below.has(row.ppid) && !below.has(row.pid)) grew = Boolean(below.add(row.pid));
  }
  return table.filter((row) => below.has(row.pid) && row.args.includes(FIXTURE_APP) && !row.args.includes('child-guard')).map((row) => row.pid);
}

// The next apps spawned take this long to listen (the fixture reads FIXTURE_START_DELAY_MS from the environment it inherits).
function nextAppsStartSlowly(ms: number): void {
  process.env.FIXTURE_START_DELAY_MS = String(ms);
}

async function health(port: number | undefined): Promise<number> {
  return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5_000) })).status;
}

async function crash(port: number | undefined): Promise<void> {
  await fetch(`http://127.0.0.1:${port}/crash`, { method: 'POST' }).catch(() => {});
}

const noDrain = (): Promise<void> => Promise.resolve();

// An app supervised as main.ts does it, started and `ready`.
async function supervise(env: Record<string, string> = {}): Promise<Supervised> {
  const { logging, events } = await captureLogging();
  const loaded = loadConfig({
    DATABASE_URL: 'postgres://app@127.0.0.1:5432/unused',
    APP_COMMAND: `node ${FIXTURE_APP}`,
    APP_RESTART_BACKOFF_MS: '100',
    APP_STOP_TIMEOUT_MS: '5000',
    ...env,
  });
  const config: Config = { ...loaded, databaseUrl: 'postgres://app@127.0.0.1:5432/unused' };
  const phases = createPhaseMachine(logging.logger);
  for (const phase of ['waiting_for_database', 'verifying_schema', 'starting_app'] as const) phases.transition(phase);
  const controller = new AbortController();
  const gaveUp: unknown[] = [];
  const supervision = createAppSupervision({ config, phases, logging, signal: controller.signal, onGiveUp: (error) => gaveUp.push(error) });
  const supervised: Supervised = {
    supervision,
    phases,
    gaveUp,
    events,
    async stop() {
      controller.abort();
      await supervision.stop();
    },
  };
  running.push(supervised);
  await supervision.start();
  phases.transition('ready');
  return supervised;
}

function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<true> {
  return eventually(() => (check() ? true : undefined), timeoutMs, what);
}

describe('app supervision: restarts', () => {
  it('restarts an app that exits and is ready again, with one app process', async () => {
    const { supervision, phases, events } = await supervise();
    const firstPid = supervision.childApp.pid;
    await crash(supervision.childApp.port);
    await until('the restart', () => events('app_restart').length === 1);
    await until('ready again', () => phases.phase === 'ready');
    expect(supervision.childApp.pid).not.toBe(firstPid);
    expect(await health(supervision.childApp.port)).toBe(200);
    expect(appProcesses()).toEqual([supervision.childApp.pid]);
  });

  it('gives up on an app that keeps exiting, with SUP_ERR_APP_CRASH_LOOP', async () => {
    const { supervision, phases, events, gaveUp } = await supervise({ APP_RESTART_LIMIT: '1' });
    await crash(supervision.childApp.port);
    await until('the restart', () => events('app_restart').length === 1);
    await until('ready again', () => phases.phase === 'ready');
    await crash(supervision.childApp.port);
    await until('the give-up', () => gaveUp.length === 1);
    expect(gaveUp[0]).toMatchObject({ code: 'SUP_ERR_APP_CRASH_LOOP' });
    expect(phases.phase).toBe('restarting_app');
    expect(appProcesses()).toEqual([]);
  });
});

describe('app supervision: a stop during a restart', () => {
  it('while it backs off: no app is started afterwards', async () => {
    const supervised = await supervise({ APP_RESTART_BACKOFF_MS: '1500' });
    await crash(supervised.supervision.childApp.port);
    await until('the restart', () => supervised.events('app_restart').length === 1);
    await supervised.stop();
    // Past the back-off: the aborted wait must not go on to start the app.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(supervised.events('app_spawn')).toHaveLength(1);
    expect(appProcesses()).toEqual([]);
  });

  it('while the new app starts: it is stopped at once, and never becomes ready', async () => {
    const supervised = await supervise();
    nextAppsStartSlowly(10_000);
    await crash(supervised.supervision.childApp.port);
    await until('the new app spawned', () => supervised.events('app_spawn').length === 2 && appProcesses().length === 1);
    const startedAt = Date.now();
    await supervised.stop();
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(appProcesses()).toEqual([]);
    expect(supervised.events('app_ready')).toHaveLength(1);
    expect(supervised.phases.phase).not.toBe('ready');
  });
});

describe('app supervision: reloads', () => {
  it('replaces the app: the new one answers, the old one is gone', async () => {
    const { supervision } = await supervise();
    const oldPid = supervision.childApp.pid;
    await supervision.reload(noDrain);
    expect(supervision.childApp.pid).not.toBe(oldPid);
    expect(await health(supervision.childApp.port)).toBe(200);
    expect(appProcesses()).toEqual([supervision.childApp.pid]);
  });

  it('two reloads at once end with one app running, the one that takes the traffic', async () => {
    const { supervision, phases } = await supervise();
    const oldPid = supervision.childApp.pid;
    await Promise.all([supervision.reload(noDrain), supervision.reload(noDrain)]);
    expect(phases.phase).toBe('ready');
    expect(supervision.childApp.pid).not.toBe(oldPid);
    expect(await health(supervision.childApp.port)).toBe(200);
    expect(appProcesses()).toEqual([supervision.childApp.pid]);
  });

  it('a crash of the running app during a reload: the restart wins, the new app is stopped, one app runs', async () => {
    const { supervision, phases, events, gaveUp } = await supervise();
    const oldPort = supervision.childApp.port;
    nextAppsStartSlowly(1_500);
    const reloading = supervision.reload(noDrain);
    await until('the new app spawned', () => events('app_spawn').length === 2);
    await crash(oldPort);
    await until('the restart', () => events('app_restart').length === 1);
    await reloading;
    await until('ready again', () => phases.phase === 'ready' && !supervision.restarting);
    expect(gaveUp).toEqual([]);
    expect(await health(supervision.childApp.port)).toBe(200);
    expect(appProcesses()).toEqual([supervision.childApp.pid]);
  });

  it('a reload while the app restarts is skipped, and the restart ends with one app', async () => {
    const { supervision, phases, events } = await supervise();
    nextAppsStartSlowly(1_500);
    await crash(supervision.childApp.port);
    await until('the restart', () => events('app_restart').length === 1);
    await supervision.reload(noDrain);
    expect(events('app_reload_skipped')).toEqual([expect.objectContaining({ phase: 'restarting_app' })]);
    await until('ready again', () => phases.phase === 'ready');
    expect(events('app_spawn')).toHaveLength(2);
    expect(await health(supervision.childApp.port)).toBe(200);
    expect(appProcesses()).toEqual([supervision.childApp.pid]);
  });

  it('a stop while the replaced app drains stops it too', async () => {
    const supervised = await supervise();
    const oldPid = supervised.supervision.childApp.pid;
    // Its requests never finish: the old app stays until the stop.
    void supervised.supervision.reload(() => new Promise(() => {}));
    await until('the switch to the new app', () => supervised.supervision.childApp.pid !== oldPid && supervised.events('app_ready').length === 2);
    expect(appProcesses()).toHaveLength(2);
    await supervised.stop();
    expect(appProcesses()).toEqual([]);
  });

  it('a stop while the new app starts stops both apps', async () => {
    const supervised = await supervise();
    nextAppsStartSlowly(10_000);
    const reloading = supervised.supervision.reload(noDrain);
    await until('the new app spawned', () => supervised.events('app_spawn').length === 2 && appProcesses().length === 2);
    await supervised.stop();
    await reloading;
    expect(appProcesses()).toEqual([]);
  });
});
