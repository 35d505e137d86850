// render.yaml run the way Render runs it: in a clean copy of the repository, the build command with the
// service's envVars and no reachable database, then the start command with PORT and a fresh database,
// the health check polled as Render polls it, traffic, and SIGTERM within maxShutdownDelaySeconds.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { cp, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../../supervisor/core/free-port.js';
import { descendants, eventually, isAlive } from '../helpers/supervisor-process.js';
import { PROJECT_ROOT, parseBlueprint, readBlueprintText, serviceEnv, webService, type Service } from './blueprint.js';

// Limits of this test, not of the platform: the build runs `npm ci`, which takes a while on a cold cache.
const BUILD_TIMEOUT_MS = 10 * 60_000;
// Render waits up to 15 minutes for a new deploy to turn healthy; a start that needs more than this
// on a test machine is broken anyway.
const HEALTHY_TIMEOUT_MS = 3 * 60_000;
// Render's health check: a request that takes longer than 5 s fails; 2xx and 3xx are healthy.
const HEALTH_CHECK_TIMEOUT_MS = 5_000;
const HEALTH_CHECK_INTERVAL_MS = 1_000;
// A secret the operator adds in the dashboard (render.yaml holds none): it opens the full detail of /health.
const METRICS_TOKEN = 'render-metrics-token-9d4b7e1a3c6f';

/** What reaches the commands from this machine: the shell's basics and how to reach the npm registry. */
const PASSED_THROUGH = /^(PATH|HOME|TMPDIR|LANG|NODE_EXTRA_CA_CERTS|https?_proxy|no_proxy|npm_config_(userconfig|cache|cafile|registry|.*proxy))$/i;

interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Command {
  readonly process: ChildProcess;
  readonly lines: string[];
  readonly exited: Promise<ExitStatus>;
  /** The last lines of output, for failure messages. */
  tail(count?: number): string;
}

/** Runs a Blueprint command in a shell, in its own process group, with exactly `env`. */
function runCommand(command: string, cwd: string, env: Record<string, string>): Command {
  const child = spawn('bash', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => lines.push(line));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }) as ExitStatus);
  return { process: child, lines, exited, tail: (count = 40) => lines.slice(-count).join('\n') };
}

function platformEnv(serviceVariables: Record<string, string>, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (PASSED_THROUGH.test(key) && value !== undefined) env[key] = value;
  // npm and npx put this project's node_modules/.bin first in PATH: the copy must use only its own.
  // The Node that runs the tests comes first (Render: the one NODE_VERSION picks).
  const dirs = (env.PATH ?? '').split(path.delimiter).filter((dir) => !dir.split(path.sep).includes('node_modules'));
  env.PATH = [path.dirname(process.execPath), ...dirs].join(path.delimiter);
  return { ...env, ...serviceVariables, ...extra };
}

/** The files git tracks, as they are in the working tree: what a push would deploy. */
async function copyTrackedFiles(from: string, to: string): Promise<void> {
  const files = execFileSync('git', ['ls-files', '-z'], { cwd: from, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of files) {
    const stat = await lstat(path.join(from, file)).catch(() => undefined);
    if (!stat || stat.isDirectory()) continue; // deleted in the working tree, or a submodule
    await cp(path.join(from, file), path.join(to, file), { verbatimSymlinks: true });
  }
}

/** Files in the working tree that git does not track: a push would not deploy them. */
function untrackedFiles(root: string): string {
  const files = execFileSync('git', ['ls-files', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' }).trim();
  return files === '' ? '' : `\nNot in the copy, because git does not track them:\n${files.split('\n').slice(0, 20).join('\n')}`;
}

/** One health check as Render makes it: the status, or undefined when there was no answer in time. */
async function healthCheck(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(HEALTH_CHECK_TIMEOUT_MS) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

const isHealthy = (status: number | undefined): boolean => status !== undefined && status >= 200 && status < 400;

/** Render's loop: check until healthy; a start command that exits first has failed the deploy. */
async function waitUntilHealthy(url: string, command: Command): Promise<void> {
  const deadline = Date.now() + HEALTHY_TIMEOUT_MS;
  while (!isHealthy(await healthCheck(url))) {
    const { exitCode, signalCode } = command.process;
    if (exitCode !== null || signalCode !== null) {
      throw new Error(`The start command exited (${exitCode ?? signalCode}) before it was healthy:\n${command.tail()}`);
    }
    if (Date.now() > deadline) throw new Error(`Not healthy after ${HEALTHY_TIMEOUT_MS} ms:\n${command.tail()}`);
    await sleep(HEALTH_CHECK_INTERVAL_MS);
  }
}

function jsonEntries(lines: readonly string[]): Record<string, unknown>[] {
  return lines.flatMap((line) => {
    try {
      const value: unknown = JSON.parse(line);
      return typeof value === 'object' && value !== null ? [value as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

describe('the Blueprint, run the way Render runs it', () => {
  let checkout: string;
  let service: Service;
  let database: TestDatabase | undefined;
  let start: Command | undefined;
  let built = false;
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();

  beforeAll(async () => {
    checkout = await mkdtemp(path.join(os.tmpdir(), 'render-deploy-'));
    await copyTrackedFiles(PROJECT_ROOT, checkout);
    // Render reads the Blueprint from the repository, not from this working tree's state.
    service = webService(parseBlueprint(readBlueprintText(checkout)));
  });

  afterAll(async () => {
    if (start && start.process.exitCode === null && start.process.signalCode === null) {
      process.kill(-(start.process.pid as number), 'SIGKILL');
      await start.exited;
    }
    await database?.drop();
    if (checkout) await rm(checkout, { recursive: true, force: true });
  });

  it(
    'builds with the service envVars while the database cannot be reached',
    async () => {
      // Render's build has no private network: DATABASE_URL is set, but nothing answers there.
      const closedPort = await freePort();
      const env = platformEnv(serviceEnv(service, { databaseUrl: `postgres://render:build@127.0.0.1:${closedPort}/app` }), {});
      expect(env.NODE_ENV).toBe('production');

      const build = runCommand(service.buildCommand ?? '', checkout, env);
      const status = await Promise.race([
        build.exited,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`build still running:\n${build.tail()}`)), BUILD_TIMEOUT_MS).unref()),
      ]).finally(() => {
        if (build.process.exitCode === null) process.kill(-(build.process.pid as number), 'SIGKILL');
      });
      expect(status, `build failed:\n${build.tail()}${untrackedFiles(PROJECT_ROOT)}`).toEqual({ code: 0, signal: null });
      expect(existsSync(path.join(checkout, 'supervisor/dist/cli.js'))).toBe(true);
      expect(existsSync(path.join(checkout, 'dist/app/server.js'))).toBe(true);
      built = true;
    },
    BUILD_TIMEOUT_MS + 30_000,
  );

  it(
    'starts, turns healthy, serves the app, and exits 0 on SIGTERM within maxShutdownDelaySeconds',
    async () => {
      expect(built, 'the build step failed').toBe(true);
      database = await createTestDatabase('render');
      const port = await freePort();
      const env = platformEnv(serviceEnv(service, { databaseUrl: database.url }), {
        PORT: String(port),
        RENDER: 'true',
        RENDER_GIT_COMMIT: commit,
        METRICS_TOKEN,
      });
      const base = `http://127.0.0.1:${port}`;
      const command = runCommand(service.startCommand ?? '', checkout, env);
      start = command;

      const healthPath = service.healthCheckPath ?? '/';
      await waitUntilHealthy(`${base}${healthPath}`, command);

      // The supervisor answers the health check itself, and only once everything is ready.
      const health = await fetch(`${base}${healthPath}`);
      expect(health.headers.get('content-type')).toMatch(/^application\/health\+json/);
      const anonymous = (await health.json()) as Record<string, unknown>;
      expect(anonymous).toMatchObject({ status: 'pass', phase: 'ready' });
      // The deployed commit is for whoever holds the metrics token, not for every visitor.
      expect(anonymous).not.toHaveProperty('releaseId');
      const detailed = await fetch(`${base}${healthPath}`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(await detailed.json()).toMatchObject({ status: 'pass', phase: 'ready', releaseId: commit });

      // The fresh database got every migration at start, and the app behind the proxy uses it.
      const migrations = (await readdir(path.join(checkout, 'migrations'))).filter((file) => file.endsWith('.sql'));
      expect(Number(await database.scalar('SELECT count(*) FROM schema_migrations'))).toBe(migrations.length);
      const message = { author: 'render', body: `deployed ${commit.slice(0, 7)}` };
      const created = await fetch(`${base}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(message),
      });
      expect(created.status).toBe(201);
      const listed = await fetch(`${base}/api/messages`);
      expect(listed.status).toBe(200);
      expect(await listed.text()).toContain(message.body);

      // What the deploy log shows: JSON entries that walk through the phases to ready.
      const phases = jsonEntries(command.lines).filter((entry) => entry.event === 'phase').map((entry) => entry.to);
      expect(phases).toEqual(expect.arrayContaining(['waiting_for_database', 'migrating', 'verifying_schema', 'starting_app', 'ready']));

      // Render: SIGTERM to the start command, SIGKILL after maxShutdownDelaySeconds.
      const tree = descendants(command.process.pid as number);
      const deadlineMs = (service.maxShutdownDelaySeconds ?? 30) * 1000;
      command.process.kill('SIGTERM');
      const status = await Promise.race([
        command.exited,
        new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), deadlineMs).unref()),
      ]);
      expect(status, `output:\n${command.tail()}`).toEqual({ code: 0, signal: null });
      await eventually(() => (tree.every((pid) => !isAlive(pid)) ? true : undefined), 5_000, 'every process of the service to exit');
      await expect(fetch(`${base}${healthPath}`)).rejects.toThrow();
    },
    HEALTHY_TIMEOUT_MS + 120_000,
  );
});
