// The app as a child process: output in the log, restarts after a crash, giving up on a crash loop, no orphans.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChildApp } from '../../../supervisor/child/child-app.js';
import { captureLogging } from '../../helpers/captured-logging.js';
import { useSupervisorFixture } from '../../helpers/supervisor-fixture.js';
import { eventually, FIXTURE_APP, healthOf, isAlive, type SupervisorProcess } from '../../helpers/supervisor-process.js';

const fixture = useSupervisorFixture('child');
const supervisor = (env: Record<string, string> = {}): Promise<SupervisorProcess> => fixture.start(env);

const APP_EXITS_AT_START = fileURLToPath(new URL('../../fixtures/app-exits-at-start.mjs', import.meta.url));

// The compiled module, as the supervisor runs it: the guard it spawns (child-guard.js) exists only there.
const CHILD_APP_MODULE = new URL('../../../supervisor/dist/child/child-app.js', import.meta.url).href;
const { createChildApp } = (await import(CHILD_APP_MODULE)) as typeof import('../../../supervisor/child/child-app.js');

// A child app run inside the test process, its log entries collected; stopped after the test.
const started: ChildApp[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((app) => app.stop()));
});

async function childApp(signal: AbortSignal): Promise<{ app: ChildApp; events: (event: string) => Record<string, unknown>[] }> {
  const { logging, events } = await captureLogging();
  const app = createChildApp({
    command: `node ${FIXTURE_APP}`,
    healthPath: '/health',
    startTimeoutMs: 30_000,
    stopTimeoutMs: 5_000,
    env: {},
    signal,
    logging,
    logger: logging.logger.child({ module: 'child-app' }),
  });
  started.push(app);
  return { app, events };
}

async function appPid(sup: SupervisorProcess, nth = 1): Promise<number> {
  await eventually(() => (sup.entries().filter((entry) => entry.event === 'app_ready').length >= nth ? true : undefined));
  return Number(sup.entries().filter((entry) => entry.event === 'app_ready')[nth - 1]?.childPid);
}

describe('the child app', () => {
  it('keeps the app\'s JSON log lines as they are and wraps plain lines with its pid', async () => {
    const sup = await supervisor();
    await sup.waitForPhase('ready');
    const pid = await appPid(sup);
    const jsonLine = sup.lines.find((line) => line.includes('"fixture listening"'));
    expect(jsonLine).toBeDefined();
    expect(JSON.parse(jsonLine as string)).toMatchObject({ level: 30, pid, msg: 'fixture listening' });
    expect(jsonLine).not.toContain('"supervisor"');
    const plain = sup.entries().find((entry) => String(entry.msg).startsWith('fixture plain line'));
    expect(plain).toMatchObject({ module: 'app', childPid: pid, stream: 'stdout', msg: `fixture plain line pid=${pid}` });
  });

  it('restarts the app after a crash and becomes ready again', async () => {
    const sup = await supervisor();
    await sup.waitForPhase('ready');
    const firstPid = await appPid(sup);

    await fetch(`${sup.url}/crash`, { method: 'POST' }).catch(() => {});
    await sup.waitForLog((entry) => entry.event === 'app_restart');
    await sup.waitForPhase('ready');
    const secondPid = await appPid(sup, 2);
    expect(secondPid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    expect((await fetch(`${sup.url}/status/200`)).status).toBe(200);
    expect(sup.entries().map((entry) => entry.to).filter(Boolean)).toContain('restarting_app');
  });

  it('gives up with exit 1 when the app keeps crashing', async () => {
    // 1.5 s after it listens: long enough to be found healthy first, even on a busy machine, so that each crash
    // comes while ready (with 300 ms a slow health poll saw some starts crash before ready).
    const sup = await supervisor({ FIXTURE_EXIT_AFTER_MS: '1500', APP_RESTART_LIMIT: '2' });
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({ code: 'SUP_ERR_APP_CRASH_LOOP' });
    expect(sup.entries().filter((entry) => entry.event === 'app_restart')).toHaveLength(2);
    // The last crash came while ready: the supervisor still ends in `failed` (so /health/live says 503).
    expect(sup.entries().filter((entry) => entry.event === 'phase').slice(-3)).toMatchObject([
      { from: 'restarting_app', to: 'ready' },
      { from: 'ready', to: 'restarting_app' },
      { from: 'restarting_app', to: 'failed' },
    ]);
  });

  it('gives up when the app exits before it ever answers', async () => {
    const sup = await supervisor({ FIXTURE_EXIT_AT_START: '3', APP_RESTART_LIMIT: '1' });
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({
      code: 'SUP_ERR_APP_CRASH_LOOP',
      msg: expect.stringContaining('exited with code 3'),
    });
    expect(sup.entries().find((entry) => entry.msg === 'fixture: exiting at start as asked')).toMatchObject({ stream: 'stderr' });
  });

  it('fails at once when the app command does not exist', async () => {
    const sup = await supervisor({ APP_COMMAND: 'no-such-command-anywhere --flag' });
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({ code: 'SUP_ERR_APP_SPAWN_FAILED' });
    expect(sup.entries().some((entry) => entry.event === 'app_restart')).toBe(false);
  });

  it('fails when the app never answers its health check in time', async () => {
    const sup = await supervisor({ FIXTURE_UNHEALTHY: '1', APP_START_TIMEOUT_MS: '1500' });
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({
      code: 'SUP_ERR_APP_START_TIMEOUT',
      msg: expect.stringContaining('answered 503'),
    });
  });

  it('says at once that the health path answers 404, and the fix: APP_HEALTH_PATH', async () => {
    const sup = await supervisor({ APP_HEALTH_PATH: '/no-such-path', APP_START_TIMEOUT_MS: '30000' });
    const told = await sup.waitForLog((entry) => entry.event === 'app_health_path_not_found', 10_000);
    expect(told).toMatchObject({ path: '/no-such-path', msg: expect.stringContaining('set APP_HEALTH_PATH') });
    // Long before the start timeout.
    expect(sup.entries().some((entry) => entry.event === 'failed')).toBe(false);
  });

  it('names the port it gave an app that never listens', async () => {
    const sup = await supervisor({ APP_COMMAND: `node -e "setInterval(() => {}, 1000)"`, APP_START_TIMEOUT_MS: '1500' });
    expect((await sup.exited).code).toBe(1);
    const failed = sup.entries().find((entry) => entry.event === 'failed');
    expect(failed).toMatchObject({ code: 'SUP_ERR_APP_START_TIMEOUT', msg: expect.stringMatching(/nothing answered on 127\.0\.0\.1:\d+, the PORT it was given \(ECONNREFUSED\)/) });
    expect(String(failed?.hint)).toContain('$PORT');
  });

  it('leaves no app behind when the supervisor itself is killed', async () => {
    const sup = await supervisor();
    await sup.waitForPhase('ready');
    const pid = await appPid(sup);
    expect(isAlive(pid)).toBe(true);
    sup.process.kill('SIGKILL');
    await sup.exited;
    await eventually(() => (isAlive(pid) ? undefined : true), 15_000, `app ${pid} to exit`);
  });

  it('reports the app as down on /health while it restarts, while its paths wait for it', async () => {
    const sup = await supervisor({ APP_RESTART_BACKOFF_MS: '2000' });
    await sup.waitForPhase('ready');
    await fetch(`${sup.url}/crash`, { method: 'POST' }).catch(() => {});
    await sup.waitForPhase('restarting_app');
    const health = await healthOf(sup.url);
    expect(health.status).toBe(503);
    expect(health.body.checks).toMatchObject({ app: [{ status: 'fail', code: 'SUP_ERR_APP_EXITED' }] });
    // Held until the new app answers (see hold-queue.ts), not refused.
    const response = await fetch(`${sup.url}/status/200`);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-fixture')).toBe('yes');
    expect(sup.entries().filter((entry) => entry.event === 'app_ready')).toHaveLength(2);
  });
});

describe('the child app in process', () => {
  it('spawns nothing once its signal is aborted, even while start() is choosing a port', async () => {
    const shutdown = new AbortController();
    const { app, events } = await childApp(shutdown.signal);
    const starting = app.start();
    shutdown.abort(); // start() is past its first await: the port is being chosen
    await expect(starting).rejects.toMatchObject({ name: 'AbortError' });
    expect(events('app_spawn')).toEqual([]);
    expect(app.pid).toBeUndefined();
  });

  // A Node process that runs one app and stops it (or sees it fail to start), then has nothing left to do: it
  // exits as soon as nothing keeps it alive, which a stop timer left running would (APP_STOP_TIMEOUT_MS).
  async function exitDelayAfterStop(command: string): Promise<number> {
    const script = `
      const { createChildApp } = await import(${JSON.stringify(CHILD_APP_MODULE)});
      const { createLogging } = await import(${JSON.stringify(new URL('../../../supervisor/dist/core/logger.js', import.meta.url).href)});
      const logging = await createLogging({ level: 'silent', format: 'json', isProduction: false, secrets: [] });
      const app = createChildApp({
        command: ${JSON.stringify(command)}, healthPath: '/health', startTimeoutMs: 30000, stopTimeoutMs: 10000,
        env: {}, signal: new AbortController().signal, logging, logger: logging.logger,
      });
      await app.start().catch((error) => console.log('start failed', error.code));
      await app.stop();
      console.log('stopped');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stoppedAt: number | undefined;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'stopped') stoppedAt = performance.now();
    });
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stoppedAt).toBeDefined();
    return performance.now() - (stoppedAt as number);
  }

  it('leaves no timer running once the app is stopped', async () => {
    expect(await exitDelayAfterStop(`node ${FIXTURE_APP}`)).toBeLessThan(5_000);
  });

  it('leaves no timer running after an app that exits before it answers', async () => {
    expect(await exitDelayAfterStop(`node ${APP_EXITS_AT_START}`)).toBeLessThan(5_000);
  });
});
