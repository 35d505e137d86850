// No request dropped while the app restarts or reloads: under a steady load, `kill -9` of the app and SIGHUP leave
// every request answered by an app (held while it was away, or sent again when it died under them), a POST under
// way at the crash gets 502 and is never sent twice, a POST that arrives meanwhile is held and answered once, and
// the hold is bounded: past its count or its time, 503 with Retry-After, and held bodies are not buffered.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useSupervisorFixture } from '../helpers/supervisor-fixture.js';
import { MIGRATIONS_DIR } from '../helpers/migrate.js';
import { eventually, FIXTURE_APP, isAlive, untilReceived, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { recordFigure } from './figures.js';
import { logged, useScenario } from './harness.js';
import { startLoad, succeeded, type Outcome } from './load.js';

const fixture = useSupervisorFixture('rel_hold');
const CLI = fileURLToPath(new URL('../../supervisor/dist/cli.js', import.meta.url));
const scenario = useScenario('rel_hold');

const appPids = (sup: SupervisorProcess): number[] => logged(sup, 'app_ready').map((entry) => Number(entry.childPid));

async function readyAgain(sup: SupervisorProcess, times: number): Promise<void> {
  await eventually(() => (appPids(sup).length >= times ? true : undefined), 30_000, `the app ready ${times} times`);
  await sup.waitForPhase('ready');
}

/** Runs 4 request loops (~300 req/s on /slow?ms=10) around `disrupt`, and returns what every request got. */
async function underLoad(sup: SupervisorProcess, disrupt: () => Promise<void>): Promise<Outcome[]> {
  const load = startLoad({ port: sup.port, concurrency: 4, path: () => '/slow?ms=10' });
  await eventually(() => (load.outcomes.filter(succeeded).length >= 100 ? true : undefined), 20_000, 'steady load');
  await disrupt();
  const after = load.outcomes.length;
  await eventually(() => (load.outcomes.slice(after).filter(succeeded).length >= 100 ? true : undefined), 30_000, 'steady load again');
  return load.stop();
}

const longestMs = (outcomes: readonly Outcome[]): number => Math.max(...outcomes.map((outcome) => outcome.endedAt - outcome.startedAt));

describe('the app killed under load', () => {
  it.each([
    ['starts at once', {}],
    ['takes 2 s to start', { FIXTURE_START_DELAY_MS: '2000' }],
  ])('kill -9 while it %s: no request fails, the held ones wait for the new app', async (what, env: Record<string, string>) => {
    const sup = await fixture.start({ ...env, APP_START_TIMEOUT_MS: '20000' });
    await sup.waitForPhase('ready', 30_000);
    const outcomes = await underLoad(sup, async () => {
      process.kill(appPids(sup)[0] as number, 'SIGKILL');
      await readyAgain(sup, 2);
    });
    expect(outcomes.filter((outcome) => !succeeded(outcome))).toEqual([]);
    expect(logged(sup, 'app_restart')).toHaveLength(1);
    recordFigure(`kill -9 of an app that ${what}, under load`, 'hold_longest_wait', longestMs(outcomes), 'ms');
    recordFigure(`kill -9 of an app that ${what}, under load`, 'hold_requests', outcomes.length, 'requests');
  }, 90_000);
});

describe('SIGHUP under load', () => {
  it('reloads the app without a failed request: a new app answers, the old one is gone', async () => {
    const sup = await fixture.start();
    await sup.waitForPhase('ready');
    const [oldPid] = appPids(sup);
    const outcomes = await underLoad(sup, async () => {
      sup.process.kill('SIGHUP');
      await readyAgain(sup, 2);
    });
    expect(outcomes.filter((outcome) => !succeeded(outcome))).toEqual([]);
    const newPid = appPids(sup)[1];
    expect(newPid).not.toBe(oldPid);
    expect(isAlive(oldPid as number)).toBe(false);
    expect(logged(sup, 'app_reload')).toHaveLength(1);
    expect(logged(sup, 'app_restart')).toHaveLength(0);
    // The new app started beside the old one, which served until the switch: the phase never left ready.
    expect(logged(sup, 'phase').filter((entry) => entry.to === 'restarting_app')).toEqual([]);
    recordFigure('SIGHUP under load', 'reload_longest_wait', longestMs(outcomes), 'ms');
  }, 90_000);

  it('is what `health-gate reload` asks of the supervisor of a port; a port nobody serves is said so, exit 64', async () => {
    const sup = await fixture.start();
    await sup.waitForPhase('ready');
    const [oldPid] = appPids(sup);
    const reload = spawnSync(process.execPath, [CLI, 'reload', '--port', String(sup.port)], { encoding: 'utf8' });
    expect(reload.status).toBe(0);
    expect(reload.stdout).toContain(`port ${sup.port}`);
    await sup.waitForLog((entry) => entry.event === 'app_reloaded');
    expect(appPids(sup)[1]).not.toBe(oldPid);
    expect((await fetch(`${sup.url}/status/200`)).status).toBe(200);

    const nobody = spawnSync(process.execPath, [CLI, 'reload', '--port', '1'], { encoding: 'utf8' });
    expect(nobody.status).toBe(64);
    expect(nobody.stderr).toContain('No health-gate runs on port 1 here');
  }, 60_000);

  it('applies a migration added on disk before the new app starts', async () => {
    const db = await scenario.database();
    const migrations = path.join(await scenario.tempDir(), 'migrations');
    await cp(MIGRATIONS_DIR, migrations, { recursive: true });
    const sup = await scenario.supervisor({ DATABASE_URL: db.url, MIGRATIONS_DIR: migrations, APP_COMMAND: `node ${FIXTURE_APP}` });
    await sup.waitForPhase('ready');
    writeFileSync(path.join(migrations, '9999_added_before_reload.sql'), '-- migrate:up\nCREATE TABLE added_before_reload (id int);\n');
    sup.process.kill('SIGHUP');
    await sup.waitForLog((entry) => entry.event === 'app_reloaded');
    expect(await db.scalar("SELECT to_regclass('added_before_reload')::text")).toBe('added_before_reload');
    const migrated = logged(sup, 'migrated').map((entry) => entry.migration);
    expect(migrated.at(-1)).toBe('9999_added_before_reload');
    expect(migrated.filter((name) => name === '9999_added_before_reload')).toHaveLength(1);
  }, 60_000);

  it('keeps the running app serving when the new one does not get ready, with a warning in /health', async () => {
    const marker = path.join(await scenario.tempDir(), 'crash-from-now-on');
    const sup = await fixture.start({ FIXTURE_CRASH_MARKER: marker });
    await sup.waitForPhase('ready');
    const [runningPid] = appPids(sup);
    writeFileSync(marker, '');
    sup.process.kill('SIGHUP');
    await sup.waitForLog((entry) => entry.event === 'app_reload_failed');
    expect(isAlive(runningPid as number)).toBe(true);
    expect((await fetch(`${sup.url}/status/200`)).status).toBe(200);
    const health = await fetch(`${sup.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'warn', phase: 'ready', checks: { app: [{ status: 'warn' }] } });
  }, 60_000);
});

/** A POST whose body comes in two parts: the first now, the rest when `finish` is called. */
function slowPost(port: number, url: string): { finish: () => void; answered: Promise<{ status: number; body: string }> } {
  const req = http.request({ host: '127.0.0.1', port, path: url, method: 'POST', headers: { 'content-type': 'text/plain', 'content-length': 10 } });
  const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  req.write('first');
  return { finish: () => req.end('-rest'), answered };
}

describe('POSTs and a crash', () => {
  it('a POST under way at the crash gets 502 and reaches no app twice; one arriving during the restart is held and answered once', async () => {
    const record = path.join(await scenario.tempDir(), 'requests.log');
    const sup = await fixture.start({ FIXTURE_RECORD_FILE: record, FIXTURE_START_DELAY_MS: '1500', APP_START_TIMEOUT_MS: '20000' });
    await sup.waitForPhase('ready', 30_000);

    const underWay = slowPost(sup.port, '/upload?under-way');
    await untilReceived(record, 'POST /upload?under-way');
    process.kill(appPids(sup)[0] as number, 'SIGKILL');
    expect((await underWay.answered).status).toBe(502);

    await sup.waitForLog((entry) => entry.event === 'app_spawn' && logged(sup, 'app_spawn').length === 2);
    const during = slowPost(sup.port, '/echo?during-restart');
    during.finish();
    expect(await during.answered).toEqual({ status: 200, body: 'first-rest' });

    const requests = readFileSync(record, 'utf8').split('\n');
    expect(requests.filter((line) => line === 'POST /upload?under-way')).toHaveLength(1);
    expect(requests.filter((line) => line === 'POST /echo?during-restart')).toHaveLength(1);
  }, 60_000);
});

const METRICS_TOKEN = 'hold-and-retry-metrics-token';

// Requests held since the start, from /metrics.
async function heldCount(sup: SupervisorProcess): Promise<number> {
  const response = await fetch(`${sup.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` }, signal: AbortSignal.timeout(5_000) });
  return Number(/^supervisor_held_requests_total\{outcome="held"\} (\d+)$/m.exec(await response.text())?.[1] ?? 0);
}

describe('the hold is bounded', () => {
  it('answers 503 with Retry-After past APP_HOLD_MAX_REQUESTS at once, and past APP_HOLD_TIMEOUT_MS', async () => {
    const sup = await fixture.start({ APP_HOLD_MAX_REQUESTS: '2', APP_HOLD_TIMEOUT_MS: '1000', FIXTURE_START_DELAY_MS: '6000', APP_START_TIMEOUT_MS: '20000' });
    await sup.waitForPhase('ready', 30_000);
    process.kill(appPids(sup)[0] as number, 'SIGKILL');
    await sup.waitForLog((entry) => entry.event === 'app_spawn' && logged(sup, 'app_spawn').length === 2);
    const startedAt = performance.now();
    const answers = await Promise.all(
      [1, 2, 3, 4].map(async (i) => {
        const response = await fetch(`${sup.url}/status/200?n=${i}`);
        return { status: response.status, retryAfter: response.headers.get('retry-after'), afterMs: performance.now() - startedAt };
      }),
    );
    expect(answers.map((answer) => answer.status)).toEqual([503, 503, 503, 503]);
    expect(answers.every((answer) => answer.retryAfter === '5')).toBe(true);
    const [waited, refusedAtOnce] = [answers.filter((answer) => answer.afterMs >= 900), answers.filter((answer) => answer.afterMs < 900)];
    expect(waited).toHaveLength(2);
    expect(refusedAtOnce).toHaveLength(2);
    expect(logged(sup, 'hold_refused').map((entry) => entry.reason).sort()).toEqual(['full', 'full', 'timeout', 'timeout']);
  }, 60_000);

  it('holds 1,000 POSTs of 1 MB without buffering their bodies, then answers each from the new app', async () => {
    // The new app takes 6 s to start: time for a busy machine to open the 1,000 connections and send their heads.
    const sup = await fixture.start({ FIXTURE_START_DELAY_MS: '6000', APP_START_TIMEOUT_MS: '20000', APP_HOLD_TIMEOUT_MS: '60000', METRICS_TOKEN });
    await sup.waitForPhase('ready', 30_000);
    const supervisorPid = Number(sup.entries().find((entry) => entry.name === 'supervisor')?.pid);
    const rss = (): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${supervisorPid}/status`, 'utf8'))?.[1]) / 1024;
    process.kill(appPids(sup)[0] as number, 'SIGKILL');
    await sup.waitForLog((entry) => entry.event === 'app_spawn' && logged(sup, 'app_spawn').length === 2);
    const before = rss();
    const body = Buffer.alloc(1024 * 1024, 'b');
    const sockets = await Promise.all(
      Array.from({ length: 1_000 }, async (_, i) => {
        const socket = net.connect(sup.port, '127.0.0.1');
        socket.on('error', () => {});
        await once(socket, 'connect');
        socket.write(`POST /upload?n=${i} HTTP/1.1\r\nHost: example.com\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
        socket.write(body);
        return socket;
      }),
    );
    await eventually(async () => ((await heldCount(sup)) >= 1_000 ? true : undefined), 30_000, 'the 1,000 POSTs held');
    const held = rss() - before;
    recordFigure('1,000 POSTs of 1 MB held', 'hold_rss_growth', held, 'MB');
    // Far below the 1,000 MB of bodies: only what Node had read before the hold paused each socket.
    expect(held).toBeLessThan(250);
    const answers = await Promise.all(
      sockets.map(async (socket) => {
        const chunks: Buffer[] = [];
        socket.on('data', (chunk: Buffer) => chunks.push(chunk));
        await once(socket, 'close');
        return Buffer.concat(chunks).toString('latin1');
      }),
    );
    expect(answers.filter((answer) => answer.startsWith('HTTP/1.1 200') && answer.includes(`"bytes":${body.length}`))).toHaveLength(1_000);
  }, 180_000);
});
