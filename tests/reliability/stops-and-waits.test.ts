// No stop and no wait can be wedged, black-box through the built supervisor: a stop mid-migration cancels the
// migration on the server before the lock goes; a database that accepts the connection and never answers cannot
// hold the start past DB_WAIT_TIMEOUT_MS; a failed start exits with a slow client attached; an upgrade the app never
// answers is timed out; `npm start` without `exec` losing npm drains; Ctrl-C's two SIGINTs are one stop.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { MIGRATIONS_DIR } from '../helpers/migrate.js';
import { startSilentPostgres } from '../helpers/silent-postgres.js';
import { useSupervisorFixture } from '../helpers/supervisor-fixture.js';
import { eventually, FIXTURE_APP, isAlive, startSupervisor, untilReceived } from '../helpers/supervisor-process.js';
import { exitWithin, logged, useScenario } from './harness.js';

const scenario = useScenario('stops');
const fixture = useSupervisorFixture('stops_app');
const CLI = fileURLToPath(new URL('../../supervisor/dist/cli.js', import.meta.url));
const APP_NEVER_ANSWERS = fileURLToPath(new URL('../fixtures/edge/app-never-answers.mjs', import.meta.url));

async function migrationsFolder(files: Record<string, string>): Promise<string> {
  const dir = path.join(await scenario.tempDir(), 'migrations');
  await mkdir(dir);
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return dir;
}

describe('a stop while a migration runs', () => {
  it('cancels the migration on the server and rolls it back before the lock goes; the next start applies it once', async () => {
    const db = await scenario.database();
    const dir = await migrationsFolder({
      '0001_slow.sql': '-- migrate:up\nSELECT pg_sleep(12);\nCREATE TABLE slow_made (id int);\n-- migrate:down\nDROP TABLE slow_made;\n',
    });
    const env = { DATABASE_URL: db.url, MIGRATIONS_DIR: dir, APP_COMMAND: `node ${FIXTURE_APP}` };
    const first = await scenario.supervisor(env);
    await first.waitForLog((entry) => entry.event === 'phase' && entry.to === 'migrating');
    await eventually(async () => ((await db.scalar<number>("SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(12)%'")) === 1 ? true : undefined));
    const stoppedAt = performance.now();
    first.process.kill('SIGTERM');

    const status = await exitWithin(first, 15_000);
    // Well before the 12 s sleep would have ended: the statement was cancelled, not waited for.
    expect(performance.now() - stoppedAt).toBeLessThan(8_000);
    expect(status.code).toBe(75);
    expect(await db.scalar<number>("SELECT count(*)::int FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(12)%' AND state = 'active'")).toBe(0);
    expect(await db.advisoryLocks()).toBe(0);
    expect(await db.scalar("SELECT to_regclass('slow_made')::text")).toBeNull();
    expect(await db.scalar<number>("SELECT count(*)::int FROM schema_migrations WHERE name = '0001_slow'")).toBe(0);
    expect(logged(first, 'migration_interrupted')).toEqual([expect.objectContaining({ migration: '0001_slow' })]);

    const second = await scenario.supervisor(env);
    await second.waitForPhase('ready', 40_000);
    expect(await db.scalar<number>("SELECT count(*)::int FROM schema_migrations WHERE name = '0001_slow'")).toBe(1);
    expect(logged(second, 'migrated').map((entry) => entry.migration)).toEqual(['0001_slow']);
  }, 90_000);
});

describe('a database that accepts the connection and never answers', () => {
  it('fails the start with SUP_ERR_DB_UNAVAILABLE once DB_WAIT_TIMEOUT_MS has passed', async () => {
    const silent = await startSilentPostgres();
    scenario.defer(() => silent.close());
    const sup = await scenario.supervisor({ DATABASE_URL: silent.url, DB_WAIT_TIMEOUT_MS: '3000', DB_CONNECT_TIMEOUT_MS: '500', APP_COMMAND: `node ${FIXTURE_APP}` });
    const status = await exitWithin(sup, 20_000);
    expect(status.code).toBe(1);
    expect(silent.queries).toContain('SELECT 1');
    expect(logged(sup, 'failed')).toEqual([expect.objectContaining({ code: 'SUP_ERR_DB_UNAVAILABLE' })]);
  }, 30_000);
});

describe('a failed start with a slow client attached', () => {
  it('exits within DRAIN_TIMEOUT_MS + 5 s of the failure', async () => {
    const db = await scenario.database();
    const dir = await migrationsFolder({ '0001_broken.sql': '-- migrate:up\nSELECT pg_sleep(2);\nSELECT no_such_function();\n' });
    const sup = await scenario.supervisor({ DATABASE_URL: db.url, MIGRATIONS_DIR: dir, DRAIN_TIMEOUT_MS: '2000', APP_COMMAND: `node ${FIXTURE_APP}` });
    await sup.waitForLog((entry) => entry.event === 'phase' && entry.to === 'migrating');
    // Half a request, and nothing more.
    const slow = net.connect(sup.port, '127.0.0.1');
    slow.on('error', () => {});
    await once(slow, 'connect');
    slow.write('POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1000\r\n\r\nhalf');
    await sup.waitForLog((entry) => entry.event === 'failed');
    const failedAt = performance.now();
    const status = await exitWithin(sup, 2_000 + 5_000 + 3_000);
    expect(performance.now() - failedAt).toBeLessThan(2_000 + 5_000);
    expect(status.code).toBe(1);
    slow.destroy();
  }, 60_000);
});

describe('an upgrade the app never answers', () => {
  it('gets 504 after APP_RESPONSE_TIMEOUT_MS and gives back its WebSocket slot', async () => {
    const sup = await fixture.start({ APP_COMMAND: `node ${APP_NEVER_ANSWERS}`, APP_RESPONSE_TIMEOUT_MS: '1000', HTTP_MAX_WEBSOCKETS: '1' });
    await sup.waitForPhase('ready');
    for (let i = 0; i < 2; i++) {
      const socket = net.connect(sup.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write('GET /ws HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      const [answer] = (await once(socket, 'data')) as [Buffer];
      expect(answer.toString('latin1')).toMatch(/^HTTP\/1\.1 504 [^]*"code":"SUP_ERR_APP_RESPONSE_TIMEOUT"/);
      socket.destroy();
    }
    expect(logged(sup, 'app_response_timeout').filter((entry) => entry.upgrade === true)).toHaveLength(2);
  }, 60_000);
});

/** `npm start` in a project of its own whose start script runs the supervisor without `exec`, as many write it. */
async function npmStartWithoutExec(env: Record<string, string>): Promise<{ npm: ReturnType<typeof spawn>; lines: string[]; port: number }> {
  const project = await scenario.tempDir();
  const start = `node ${CLI} -- node ${FIXTURE_APP}`;
  await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'no-exec', private: true, scripts: { start } }));
  const port = await freePort();
  const npm = spawn('npm', ['start', '--silent'], {
    cwd: project,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_FORMAT: 'json', MIGRATIONS_DIR, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  scenario.defer(() => {
    try {
      process.kill(-(npm.pid as number), 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const lines: string[] = [];
  for (const stream of [npm.stdout, npm.stderr]) if (stream) createInterface({ input: stream }).on('line', (line) => lines.push(line));
  return { npm, lines, port };
}

const entriesOf = (lines: readonly string[]): Record<string, unknown>[] =>
  lines.flatMap((line) => {
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

describe('signals as platforms and terminals send them', () => {
  it('drains and exits when npm start without exec loses npm to SIGTERM, instead of staying behind', async () => {
    const record = path.join(await scenario.tempDir(), 'requests.log');
    const { npm, lines, port } = await npmStartWithoutExec({ DATABASE_URL: fixture.db().url, FIXTURE_RECORD_FILE: record });
    await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined))?.status === 200 ? true : undefined), 30_000, 'ready');
    const supervisorPid = Number(entriesOf(lines).find((entry) => entry.name === 'supervisor')?.pid);
    expect(supervisorPid).toBeGreaterThan(0);
    const slow = fetch(`http://127.0.0.1:${port}/slow?ms=1500`).then((response) => response.status);
    await untilReceived(record, 'GET /slow?ms=1500');

    npm.kill('SIGTERM');
    await once(npm, 'exit');
    await eventually(() => (isAlive(supervisorPid) ? undefined : true), 20_000, 'the supervisor to exit');
    expect(await slow).toBe(200);
    const entries = entriesOf(lines);
    expect(entries.find((entry) => entry.event === 'shutdown')).toMatchObject({ cause: 'parent_lost' });
    expect(entries.find((entry) => entry.event === 'shutdown_complete')).toMatchObject({ exitCode: 0 });
  }, 60_000);

  it('takes Ctrl-C (SIGINT to the whole process group, so twice) as one stop: the request under way finishes, exit 0', async () => {
    const record = path.join(await scenario.tempDir(), 'requests.log');
    const sup = await startSupervisor({ via: 'npm', env: { DATABASE_URL: fixture.db().url, FIXTURE_RECORD_FILE: record } });
    scenario.defer(() => sup.kill());
    await sup.waitForPhase('ready');
    const supervisorPid = Number(sup.entries().find((entry) => entry.name === 'supervisor')?.pid);
    const slow = fetch(`${sup.url}/slow?ms=1500`).then((response) => response.status);
    await untilReceived(record, 'GET /slow?ms=1500');
    // The terminal's SIGINT to the group, and the one npm (or a shell) passes on to its child a moment later.
    process.kill(-(sup.process.pid as number), 'SIGINT');
    // The point of the wait: the second SIGINT comes a moment after the first, well within the second that makes it the same signal.
    await new Promise((resolve) => setTimeout(resolve, 100));
    process.kill(supervisorPid, 'SIGINT');
    // npm may leave first: the supervisor's own end is what counts.
    await eventually(() => (isAlive(supervisorPid) ? undefined : true), 20_000, 'the supervisor to exit');
    expect(await slow).toBe(200);
    expect(logged(sup, 'shutdown_forced')).toEqual([]);
    expect(logged(sup, 'shutdown_complete')).toEqual([expect.objectContaining({ exitCode: 0 })]);
  }, 60_000);
});
