// Runs the app as a child process on a private port: spawn, wait for its health check, stop, report exits.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { healthStatus } from './app-health.js';
import type { GuardMessage } from './child-guard.js';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import { freePort } from '../core/free-port.js';
import type { Logging } from '../core/logger.js';

const GUARD_PATH = fileURLToPath(new URL('./child-guard.js', import.meta.url));
const HEALTH_REQUEST_TIMEOUT_MS = 2_000;
// The health path is polled 50 ms after a failed attempt, then twice as long each time, at most 500 ms apart.
const HEALTH_POLL_MIN_DELAY_MS = 50;
const HEALTH_POLL_MAX_DELAY_MS = 500;
// Once the guard is asked to SIGKILL the app's process group: how long it has before it is SIGKILLed itself.
const GUARD_KILL_WAIT_MS = 1_000;

export interface ChildAppOptions {
  readonly command: string;
  readonly healthPath: string;
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
  /** Added to the supervisor's own environment (DATABASE_URL and the like); `undefined` removes a variable. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on shutdown: no process is spawned once it is (one already running is stopped with `stop`). */
  readonly signal: AbortSignal;
  readonly logging: Logging;
  readonly logger: Logger;
}

export interface ChildExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** One app process at a time; `start` again after an exit runs a new one on a new port. */
export interface ChildApp {
  /** The private port while a process runs. */
  readonly port: number | undefined;
  readonly pid: number | undefined;
  /**
   * Spawns the app and resolves once its health path answers 200; rejects with SUP_ERR_APP_*, or with the
   * signal's reason, spawning nothing, once `signal` is aborted.
   */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after `stopTimeoutMs`; resolves once it is gone (at once when none runs). */
  stop(): Promise<void>;
  /** Called when the app exits without being asked to. */
  onUnexpectedExit(listener: (exit: ChildExit) => void): void;
}

interface RunningApp {
  readonly subprocess: ResultPromise;
  readonly port: number;
  readonly exited: Promise<ChildExit>;
  pid: number | undefined;
  /** Set once it answered its health check: only then is an exit "unexpected" (before, start() reports it). */
  healthy: boolean;
  stopping: boolean;
  exit: ChildExit | undefined;
}

/** How the app ended, to follow "the app": "exited with code 1", "was killed by SIGKILL". */
export function describeExit(exit: ChildExit): string {
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

export function createChildApp(options: ChildAppOptions): ChildApp {
  const { logger } = options;
  const appOutput = options.logging.logger.child({ module: 'app' });
  const exitListeners: ((exit: ChildExit) => void)[] = [];
  let current: RunningApp | undefined;

  function forwardLines(stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (!stream) return;
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      if (line.startsWith('{') && isJsonObject(line)) return options.logging.writeJsonLine(line);
      const fields = { childPid: current?.pid, stream: name };
      if (name === 'stderr') appOutput.warn(fields, line);
      else appOutput.info(fields, line);
    });
  }

  function exitedBeforeHealthy(exit: ChildExit): SupervisorError {
    if (exit.code === 127) {
      return new SupervisorError(ErrorCodes.APP_SPAWN_FAILED, `The app's command could not be run (exit 127: not found)`, {
        hint: 'Check APP_COMMAND and that the app is built (npm run build).',
      });
    }
    return new SupervisorError(ErrorCodes.APP_EXITED, `The app ${describeExit(exit)} before it answered on ${options.healthPath}`, {
      hint: 'Read the app output above this line; check APP_COMMAND.',
    });
  }

  // Polls the health path until it answers 200, for at most `startTimeoutMs`; the app's exit ends the wait at once.
  async function waitUntilHealthy(port: number, exited: Promise<ChildExit>): Promise<void> {
    const appGone = new AbortController();
    let exit: ChildExit | undefined;
    void exited.then((value) => {
      exit = value;
      appGone.abort();
    });
    let lastStatus: number | undefined;
    try {
      await pRetry(
        async () => {
          let status: number;
          try {
            status = await healthStatus(port, options.healthPath, HEALTH_REQUEST_TIMEOUT_MS);
          } catch (error) {
            // Retried like any other failure: p-retry would give up at once on a TypeError.
            const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
            throw new Error(`nothing answered on 127.0.0.1:${port}, the PORT it was given (${reason})`, { cause: error });
          }
          // A 404 says the app runs but has no such path: said at once, not after APP_START_TIMEOUT_MS.
          if (status === 404 && lastStatus !== 404) {
            logger.warn(
              { event: 'app_health_path_not_found', path: options.healthPath },
              `the app answers 404 on ${options.healthPath}: set APP_HEALTH_PATH to a path of it that answers 200 once it can serve`,
            );
          }
          lastStatus = status;
          if (status !== 200) throw new Error(`it answered ${status}`);
        },
        {
          retries: Number.POSITIVE_INFINITY,
          factor: 2,
          minTimeout: HEALTH_POLL_MIN_DELAY_MS,
          maxTimeout: HEALTH_POLL_MAX_DELAY_MS,
          maxRetryTime: options.startTimeoutMs,
          signal: appGone.signal,
        },
      );
    } catch (error) {
      if (exit) throw exitedBeforeHealthy(exit);
      throw new SupervisorError(
        ErrorCodes.APP_START_TIMEOUT,
        `The app did not answer 200 on ${options.healthPath} within ${options.startTimeoutMs} ms (last: ${(error as Error).message})`,
        {
          hint:
            lastStatus === 404
              ? `Set APP_HEALTH_PATH (--app-health-path) to a path of the app that answers 200; ${options.healthPath} answers 404.`
              : lastStatus === undefined
                ? 'Check that the app listens on $PORT and $HOST (the supervisor sets both), or raise APP_START_TIMEOUT_MS.'
                : 'Check the app\'s own log above, or raise APP_START_TIMEOUT_MS.',
        },
      );
    }
  }

  async function start(): Promise<void> {
    const port = await freePort();
    // Nothing is awaited between this check and the spawn, so a stop() after the abort finds every process.
    options.signal.throwIfAborted();
    const subprocess = execa(process.execPath, [GUARD_PATH, execWhenSimple(options.command)], {
      env: { ...options.env, PORT: String(port), HOST: '127.0.0.1' },
      ipc: true,
      // Its own process group: a terminal's Ctrl-C reaches the supervisor, which stops the app in order.
      detached: true,
      stdin: 'ignore',
      buffer: false,
      reject: false,
      forceKillAfterDelay: false,
    });
    const exited = subprocess.then((result) => ({ code: result.exitCode ?? null, signal: result.signal ?? null }));
    const child: RunningApp = { subprocess, port, pid: undefined, exited, healthy: false, stopping: false, exit: undefined };
    current = child;
    forwardLines(subprocess.stdout, 'stdout');
    forwardLines(subprocess.stderr, 'stderr');

    let reportedExit: ChildExit | undefined;
    void (async () => {
      for await (const message of subprocess.getEachMessage()) {
        const event = message as GuardMessage;
        if (event.type === 'spawned') child.pid = event.pid;
        if (event.type === 'exited') reportedExit = { code: event.code, signal: event.signal };
        if (event.type === 'spawn-failed') logger.error({ event: 'app_spawn_failed', reason: event.message }, 'could not run APP_COMMAND');
      }
    })().catch(() => {});

    void exited.then((guardExit) => {
      const exit = reportedExit ?? guardExit;
      child.exit = exit;
      if (current === child) current = undefined;
      logger.info({ event: 'app_exit', childPid: child.pid, ...exit, expected: child.stopping }, `app ${describeExit(exit)}`);
      if (child.healthy && !child.stopping) for (const listener of exitListeners) listener(exit);
    });

    logger.info({ event: 'app_spawn', port, command: options.command }, 'starting the app');
    try {
      await waitUntilHealthy(port, exited);
    } catch (error) {
      child.stopping = true;
      await stopProcess(child);
      throw error;
    }
    child.healthy = true;
    if (child.exit) {
      throw new SupervisorError(ErrorCodes.APP_EXITED, `The app ${describeExit(child.exit)} right after it answered`, {
        hint: 'Read the app output above this line.',
      });
    }
    logger.info({ event: 'app_ready', childPid: child.pid, port }, 'app answers its health check');
  }

  // True once the process has exited, false after `ms`; the timer ends with the wait either way.
  async function exitsWithin(child: RunningApp, ms: number): Promise<boolean> {
    const deadline = new AbortController();
    try {
      return await Promise.race([child.exited.then(() => true), sleep(ms, false, { signal: deadline.signal })]);
    } finally {
      deadline.abort();
    }
  }

  // SIGTERM to the guard, which passes it to the app's process group; after `stopTimeoutMs` the guard SIGKILLs
  // the group, and is SIGKILLed itself if it has not exited a moment later.
  async function stopProcess(child: RunningApp): Promise<void> {
    child.stopping = true;
    child.subprocess.kill('SIGTERM');
    if (!(await exitsWithin(child, options.stopTimeoutMs))) {
      logger.warn({ event: 'app_kill', childPid: child.pid, afterMs: options.stopTimeoutMs }, 'app ignored SIGTERM; killing it');
      await child.subprocess.sendMessage?.({ type: 'kill' }).catch(() => {});
      if (!(await exitsWithin(child, GUARD_KILL_WAIT_MS))) child.subprocess.kill('SIGKILL');
    }
    await child.exited;
  }

  return {
    get port() {
      return current?.port;
    },
    get pid() {
      return current?.pid;
    },
    start,
    async stop() {
      if (current) await stopProcess(current);
    },
    onUnexpectedExit(listener) {
      exitListeners.push(listener);
    },
  };
}

// `exec` makes a simple command replace the shell, so the app gets signals itself and its pid is the one logged.
function execWhenSimple(command: string): string {
  return /^[^;&|<>()`\n=]+$/.test(command) && !/^\s*exec\s/.test(command) ? `exec ${command}` : command;
}

function isJsonObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}
