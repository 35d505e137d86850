import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../supervisor/core/free-port.js';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const FIXTURE_APP = fileURLToPath(new URL('../fixtures/app.mjs', import.meta.url));
const CLI = fileURLToPath(new URL('../../supervisor/dist/cli.js', import.meta.url));
const BIN = fileURLToPath(new URL('../../supervisor/bin/health-gate.js', import.meta.url));

export interface SupervisorOptions {
  /** Extra environment; PORT, LOG_FORMAT and the fixture APP_COMMAND are set unless given. */
  readonly env?: Record<string, string | undefined>;
  /**
   * `npm` runs `npm start` exactly as a user or the platform does; `bin` runs the command's entry
   * (supervisor/bin/health-gate.js) as npm links it; `node` runs the compiled CLI.
   */
  readonly via?: 'node' | 'bin' | 'npm';
  /** Runs the compiled CLI with this limit on open files (`ulimit -n`, through sh). */
  readonly descriptorLimit?: number;
  /** Runs the compiled CLI behind this command, as its arguments: `['unshare', '--pid', '--fork', '--']`. */
  readonly prefix?: readonly string[];
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A supervisor running as a real process, with its output collected line by line. */
export interface SupervisorProcess {
  readonly port: number;
  readonly url: string;
  readonly process: ChildProcess;
  /** Every line written to stdout and stderr so far. */
  readonly lines: string[];
  /** The JSON log entries among `lines`. */
  entries(): Record<string, unknown>[];
  readonly exited: Promise<ExitStatus>;
  waitForLog(predicate: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  waitForPhase(phase: string, timeoutMs?: number): Promise<void>;
  /** SIGKILLs it if it still runs (test cleanup). */
  kill(): Promise<void>;
}

/** Polls until `check` returns a value other than undefined, or throws after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * What `promise` resolves to, or a failure if it has not settled within `timeoutMs`: the message is `what()`, built
 * at the deadline (a process's last lines), or `what` with the time added.
 */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string | (() => string)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(typeof what === 'string' ? `Timed out after ${timeoutMs} ms waiting for ${what}` : what())), timeoutMs);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the fixture app has recorded `request` ("GET /slow?ms=1500") in its FIXTURE_RECORD_FILE: the request is inside the app. */
export async function untilReceived(record: string, request: string, timeoutMs = 10_000): Promise<void> {
  await eventually(() => (existsSync(record) && readFileSync(record, 'utf8').split('\n').includes(request) ? true : undefined), timeoutMs, `${request} at the app`);
}

export async function healthOf(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

// The command that starts the supervisor the way `options` asks for.
function commandLine(options: SupervisorOptions): string[] {
  if (options.via === 'npm') return ['npm', 'start', '--silent'];
  if (options.via === 'bin') return [process.execPath, BIN];
  if (options.descriptorLimit !== undefined) return ['sh', '-c', `ulimit -n ${options.descriptorLimit} && exec "$0" "$@"`, process.execPath, CLI];
  return [...(options.prefix ?? []), process.execPath, CLI];
}

export async function startSupervisor(options: SupervisorOptions = {}): Promise<SupervisorProcess> {
  const port = Number(options.env?.PORT ?? (await freePort()));
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_FORMAT: 'json',
    APP_COMMAND: `node ${FIXTURE_APP}`,
    APP_RESTART_BACKOFF_MS: '100',
    ...options.env,
  };
  const [command, ...args] = commandLine(options);
  const child = spawn(command as string, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => lines.push(line));
  }
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }) as ExitStatus);

  const entries = (): Record<string, unknown>[] =>
    lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });

  const supervisor: SupervisorProcess = {
    port,
    url: `http://127.0.0.1:${port}`,
    process: child,
    lines,
    entries,
    exited,
    waitForLog: (predicate, timeoutMs = 30_000) =>
      eventually(() => entries().find(predicate), timeoutMs, `a log line; got:\n${lines.slice(-20).join('\n')}`),
    async waitForPhase(phase, timeoutMs = 30_000) {
      await eventually(
        async () => ((await healthOf(supervisor.url)).body.phase === phase ? true : undefined),
        timeoutMs,
        `phase ${phase}`,
      );
    },
    // The whole process group: SIGKILL to `npm start` alone would leave the supervisor under it running.
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(-(child.pid as number), 'SIGKILL');
        await exited;
      }
    },
  };
  return supervisor;
}

/** Whether a process with this pid still exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every process below `pid`, however deep. */
export function descendants(pid: number): number[] {
  let children: number[];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => child > 0);
  } catch {
    children = []; // ps exits 1 when there are none
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}
