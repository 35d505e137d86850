// Every way of stopping goes through one teardown, with a deadline: a signal, a failed start, the parent process
// going away. Stop accepting, drain what is under way (up to DRAIN_TIMEOUT_MS), close the connections left, stop
// the app, let the database work end (a migration under way is cancelled on the server and rolls back before the
// migration lock goes), close the rest, exit. A watchdog exits if anything still holds the process past it all.
import type { Server } from 'node:http';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ExitCodes } from './core/errors.js';
import type { PhaseMachine } from './core/phases.js';
import type { Proxy } from './http/proxy.js';

/** What started the teardown. */
export type StopCause =
  | { readonly kind: 'signal'; readonly signal: NodeJS.Signals }
  | { readonly kind: 'parent_lost' }
  | { readonly kind: 'failed' };

export interface TeardownOptions {
  readonly phases: PhaseMachine;
  readonly server: Server;
  readonly proxy: Proxy;
  /** Stops the app (SIGTERM, then SIGKILL after its own deadline). */
  readonly stopApp: () => Promise<void>;
  /** Settles once the startup's database work has ended (a cancelled migration rolled back, the lock released). */
  readonly databaseReleased: () => Promise<unknown>;
  /** Closes what else is open (the public server, the metrics port). */
  readonly closeResources: () => Promise<void>;
  readonly drainTimeoutMs: number;
  /** The app's stop deadline (APP_STOP_TIMEOUT_MS), for the watchdog. */
  readonly appStopTimeoutMs: number;
  readonly logger: Logger;
  /** Aborted when the teardown begins: a startup still waiting gives up, and no app is spawned after it. */
  readonly abortStartup: AbortController;
  readonly exit: (code: number) => void;
}

export interface Teardown {
  /** Runs the teardown once; a repeat of a signal within SAME_SIGNAL_WINDOW_MS is the same stop, a later one forces the exit. */
  stop(cause: StopCause): Promise<void>;
}

// Ctrl-C reaches both the supervisor and the npm or sh in front of it, which passes it on: one press, two signals.
const SAME_SIGNAL_WINDOW_MS = 1_000;
// The database work's end after its cancel (a rollback), and the last resources' close.
const DATABASE_RELEASE_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2_000;
// Beyond every deadline above: only something outside them can still hold the process then.
const WATCHDOG_MARGIN_MS = 5_000;

/** Resolves true once `promise` settles, false after `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new AbortController();
  const settled = await Promise.race([promise.then(() => true, () => true), sleep(ms, false, { signal: timeout.signal }).catch(() => false)]);
  timeout.abort();
  return settled;
}

export function createTeardown(options: TeardownOptions): Teardown {
  const { phases, server, proxy, logger } = options;
  let started: { readonly cause: StopCause; readonly at: number } | undefined;

  // A second stop while the first runs: the same signal again at once is ignored, another signal forces the exit.
  function stopAgain(cause: StopCause): void {
    if (cause.kind !== 'signal' || !started) return;
    const first = started.cause;
    if (first.kind === 'signal' && first.signal === cause.signal && Date.now() - started.at < SAME_SIGNAL_WINDOW_MS) return;
    logger.warn({ event: 'shutdown_forced', signal: cause.signal }, `${cause.signal} during shutdown: exiting now`);
    options.exit(128 + constants.signals[cause.signal]);
  }

  async function stop(cause: StopCause): Promise<void> {
    if (started) return stopAgain(cause);
    started = { cause, at: Date.now() };
    const startedAt = Date.now();
    // A stop while migrating interrupts the start: the migration rolls back, and the exit says the start did not finish.
    const interruptsMigration = phases.phase === 'migrating' && cause.kind !== 'failed';
    const exitCode = cause.kind === 'failed' ? ExitCodes.FAILURE : interruptsMigration ? ExitCodes.INTERRUPTED : ExitCodes.OK;
    const watchdogMs = options.drainTimeoutMs + options.appStopTimeoutMs + DATABASE_RELEASE_TIMEOUT_MS + CLOSE_TIMEOUT_MS + WATCHDOG_MARGIN_MS;
    setTimeout(() => {
      logger.error({ event: 'exit_watchdog', afterMs: watchdogMs }, 'the process did not exit on its own after its teardown; exiting now (investigate what held it)');
      options.exit(exitCode);
    }, watchdogMs).unref();

    if (cause.kind === 'signal') phases.transition('draining', `${cause.signal} received`);
    if (cause.kind === 'parent_lost') phases.transition('draining', 'the parent process went away');
    options.abortStartup.abort();
    logger.info(
      { event: 'shutdown', cause: cause.kind, signal: cause.kind === 'signal' ? cause.signal : undefined, inFlight: proxy.inFlight },
      cause.kind === 'signal' ? `${cause.signal}: draining` : cause.kind === 'parent_lost' ? 'the parent process went away: draining' : 'start failed: closing',
    );

    server.close();
    server.closeIdleConnections();
    if (!(await proxy.drained(options.drainTimeoutMs))) {
      logger.warn({ event: 'drain_timeout', cut: proxy.inFlight, afterMs: options.drainTimeoutMs }, 'requests still running at the drain deadline; closing them');
    }
    server.closeAllConnections();
    await options.stopApp().catch(() => {});
    if (!(await settlesWithin(options.databaseReleased(), DATABASE_RELEASE_TIMEOUT_MS))) {
      logger.warn({ event: 'database_release_timeout', afterMs: DATABASE_RELEASE_TIMEOUT_MS }, 'the database work did not end in time; its connections close with the process');
    }
    proxy.close();
    await settlesWithin(options.closeResources(), CLOSE_TIMEOUT_MS);
    logger.info({ event: 'shutdown_complete', durationMs: Date.now() - startedAt, exitCode }, 'stopped');
    options.exit(exitCode);
  }

  return { stop };
}

// SIGTERM (Render, Docker, Kubernetes), SIGINT (Ctrl-C) and SIGQUIT drain and exit; SIGHUP is the app's reload.
const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
// How often the parent's pid is looked at: `npm start` without `exec` leaves the supervisor behind when npm goes.
const PARENT_CHECK_INTERVAL_MS = 1_000;

/** Routes the stop signals, and the loss of the parent process, to `stop`; SIGHUP to `reload`. */
export function handleStopCauses(stop: (cause: StopCause) => Promise<void>, reload: () => void): void {
  for (const signal of STOP_SIGNALS) process.on(signal, () => void stop({ kind: 'signal', signal }));
  process.on('SIGHUP', reload);
  // Started by init (a container's PID 1 or a service manager), there is no parent to lose.
  const parent = process.ppid;
  if (parent <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    void stop({ kind: 'parent_lost' });
  }, PARENT_CHECK_INTERVAL_MS);
  timer.unref();
}
