// SIGTERM as the platform sends it (to the `npm start` process) and whenever it comes (in the middle of an app
// restart): in-flight requests finish, no app is spawned after it, nothing is left behind.
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { useSupervisorFixture } from '../helpers/supervisor-fixture.js';
import { descendants, eventually, isAlive, startSupervisor, untilReceived, type SupervisorProcess } from '../helpers/supervisor-process.js';

const fixture = useSupervisorFixture('shutdown');
const APP_EXITS_AT_START = fileURLToPath(new URL('../fixtures/app-exits-at-start.mjs', import.meta.url));
const APP_CRASHES_THEN_STARTS_SLOWLY = fileURLToPath(new URL('../fixtures/app-crashes-then-starts-slowly.mjs', import.meta.url));

async function supervisor(env: Record<string, string> = {}): Promise<SupervisorProcess> {
  const sup = await fixture.start(env, 'npm');
  await sup.waitForPhase('ready');
  return sup;
}

// Processes whose environment holds `name=value`, wherever they were reparented: a supervisor's app outlives
// the supervisor's process tree once the supervisor has exited.
function processesWithEnv(name: string, value: string): number[] {
  const wanted = `${name}=${value}`;
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(wanted);
      } catch {
        return false; // gone, or not ours
      }
    })
    .map(Number);
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// A supervisor on the direct path (no npm) whose processes, itself, the app's and the embedded database's,
// carry a mark of their own; whatever of them is left after the test is killed.
async function markedSupervisor(env: Record<string, string | undefined>): Promise<{ sup: SupervisorProcess; processes: () => number[] }> {
  const mark = randomUUID();
  const processes = (): number[] => processesWithEnv('SHUTDOWN_TEST_MARK', mark);
  cleanups.push(async () => {
    for (const pid of processes()) process.kill(pid, 'SIGKILL');
  });
  const sup = await startSupervisor({ env: { DATABASE_URL: fixture.db().url, ...env, SHUTDOWN_TEST_MARK: mark } });
  cleanups.push(() => sup.kill());
  return { sup, processes };
}

// A file in a folder removed after the test, where the fixture app records each request it receives (FIXTURE_RECORD_FILE).
async function recordFile(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shutdown-requests-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'requests.log');
}

// A folder for an embedded development database, removed after the test.
async function embeddedRoot(): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'shutdown-embedded-'));
  await chmod(root, 0o755); // as root the server runs as `postgres`, which must reach its data directory
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  return root;
}

function spawnsAfterShutdown(sup: SupervisorProcess): Record<string, unknown>[] {
  const entries = sup.entries();
  const shutdownAt = entries.findIndex((entry) => entry.event === 'shutdown');
  expect(shutdownAt).toBeGreaterThanOrEqual(0);
  return entries.slice(shutdownAt).filter((entry) => entry.event === 'app_spawn');
}

describe('shutdown', () => {
  it('lets an in-flight request finish on SIGTERM to npm start, then exits 0 with nothing left', async () => {
    const record = await recordFile();
    const sup = await supervisor({ FIXTURE_RECORD_FILE: record });
    const tree = descendants(sup.process.pid as number);
    expect(tree.length).toBeGreaterThanOrEqual(3); // supervisor, guard, app (and npm's shell, if any)

    const slow = fetch(`${sup.url}/slow?ms=1500`).then(async (response) => ({ status: response.status, body: await response.text() }));
    await untilReceived(record, 'GET /slow?ms=1500');
    sup.process.kill('SIGTERM');

    await sup.waitForLog((entry) => entry.event === 'shutdown');
    await expect(fetch(`${sup.url}/health`)).rejects.toThrow(); // no new connections once draining
    expect(await slow).toEqual({ status: 200, body: 'slept 1500' });
    expect(await sup.exited).toEqual({ code: 0, signal: null });
    expect(sup.entries().find((entry) => entry.event === 'app_exit')).toMatchObject({ code: 0, expected: true });
    await eventually(() => (tree.every((pid) => !isAlive(pid)) ? true : undefined), 10_000, 'every process to exit');
  });

  it('kills an app that ignores SIGTERM after APP_STOP_TIMEOUT_MS and still exits 0', async () => {
    const sup = await supervisor({ FIXTURE_IGNORE_SIGTERM: '1', APP_STOP_TIMEOUT_MS: '1000' });
    const tree = descendants(sup.process.pid as number);
    sup.process.kill('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    expect(sup.entries().find((entry) => entry.event === 'app_kill')).toBeDefined();
    await eventually(() => (tree.every((pid) => !isAlive(pid)) ? true : undefined), 10_000, 'every process to exit');
  });

  it('exits at once on a second signal that comes more than a second after the first', async () => {
    const record = await recordFile();
    const sup = await supervisor({ FIXTURE_RECORD_FILE: record });
    const slow = fetch(`${sup.url}/slow?ms=20000`).catch(() => 'cut');
    await untilReceived(record, 'GET /slow?ms=20000');
    sup.process.kill('SIGTERM');
    await sup.waitForLog((entry) => entry.event === 'shutdown');
    // The point of the wait: a repeat within about a second is the same signal; this one comes later.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    sup.process.kill('SIGTERM');
    const status = await sup.exited;
    expect(status.code).toBe(143);
    expect(await slow).toBe('cut');
  });

  it('spawns no app once SIGTERM arrives during the restart backoff, while the embedded database stops', { timeout: 180_000 }, async () => {
    // The embedded development database stops after the app and before the exit: the time a late spawn needs.
    const { sup, processes } = await markedSupervisor({
      DATABASE_URL: undefined,
      NODE_ENV: 'development',
      EMBEDDED_DB_DIR: path.join(await embeddedRoot(), 'postgres'),
      APP_COMMAND: `node ${APP_EXITS_AT_START}`,
      APP_RESTART_BACKOFF_MS: '3000',
    });
    await sup.waitForLog((entry) => entry.event === 'app_restart', 120_000); // the database is created first
    sup.process.kill('SIGTERM');

    expect(await sup.exited).toEqual({ code: 0, signal: null });
    expect(spawnsAfterShutdown(sup)).toEqual([]);
    await eventually(() => (processes().length === 0 ? true : undefined), 10_000, 'every process of the supervisor to exit');
  });

  it('stops the restarted app when SIGTERM arrives while it is being started, and spawns none after', async () => {
    const { sup, processes } = await markedSupervisor({ APP_COMMAND: `node ${APP_CRASHES_THEN_STARTS_SLOWLY}`, APP_RESTART_BACKOFF_MS: '100' });
    // The first app answered, crashed, and its successor is spawned; it listens only after 3 s.
    await sup.waitForLog((entry) => entry.event === 'app_restart');
    await eventually(() => (sup.entries().filter((entry) => entry.event === 'app_spawn').length === 2 ? true : undefined));
    sup.process.kill('SIGTERM');

    expect(await sup.exited).toEqual({ code: 0, signal: null });
    expect(spawnsAfterShutdown(sup)).toEqual([]);
    expect(sup.entries().filter((entry) => entry.event === 'app_exit').at(-1)).toMatchObject({ expected: true });
    await eventually(() => (processes().length === 0 ? true : undefined), 10_000, 'every process of the supervisor to exit');
  });
});
