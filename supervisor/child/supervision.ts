// Keeps the app running: starts it, watches its health path while it runs, restarts it with backoff when it exits
// on its own or stops answering, gives up on a crash loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { createAppHealth } from './app-health.js';
import { createChildApp, describeExit, type ChildApp } from './child-app.js';
import type { Config } from '../core/config.js';
import { ErrorCodes, SupervisorError, isSupervisorError } from '../core/errors.js';
import type { Logging } from '../core/logger.js';
import type { StartupMetrics } from '../core/startup-metrics.js';
import type { PhaseMachine } from '../core/phases.js';
import { createRestartPolicy } from './restart-policy.js';

export interface AppSupervisionOptions {
  readonly config: Config;
  readonly phases: PhaseMachine;
  readonly logging: Logging;
  /** Aborted on shutdown (or a failed start): no more restarts, and no app is spawned after it. */
  readonly signal: AbortSignal;
  /** Called when the app cannot be kept running (crash loop, start timeout). */
  readonly onGiveUp: (error: unknown) => void;
  readonly metrics?: StartupMetrics;
}

export interface AppSupervision {
  /** The app that takes traffic (a new one once a reload has switched to it). */
  readonly childApp: ChildApp;
  /** True from an exit, a restart or a reload until the new app answers: the app is on its way back. */
  readonly restarting: boolean;
  /** Resolves once the app answers its health check; rejects when it cannot be started. */
  start(): Promise<void>;
  /**
   * Replaces the running app without dropping a request (SIGHUP): a new one starts on a port of its own beside it,
   * takes new requests once it answers its health path, and the old one is stopped once `drained(oldPort)` resolves
   * (its requests are answered). A new one that does not get ready is stopped and the old one keeps serving, with a
   * warning in the app check. `prepare` runs first (the migrations pending on disk); its failure keeps the old app
   * too. Not counted as a crash. One at a time: a reload asked while one is under way runs after it.
   */
  reload(drained: (oldPort: number) => Promise<unknown>, prepare?: () => Promise<void>): Promise<void>;
  /** Stops every app it runs (the one taking traffic, and one being replaced or started by a reload). */
  stop(): Promise<void>;
}

export function createAppSupervision(options: AppSupervisionOptions): AppSupervision {
  const { config, phases, signal } = options;
  const logger = options.logging.logger.child({ module: 'app-supervision' });
  const apps = new Set<ChildApp>();
  function newChildApp(): ChildApp {
    const app = createChildApp({
      command: config.appCommand,
      healthPath: config.appHealthPath,
      startTimeoutMs: config.appStartTimeoutMs,
      stopTimeoutMs: config.appStopTimeoutMs,
      // The metrics token is the supervisor's secret, not the app's.
      env: { DATABASE_URL: config.databaseUrl, METRICS_TOKEN: undefined },
      signal,
      logging: options.logging,
      logger: options.logging.logger.child({ module: 'child-app' }),
    });
    apps.add(app);
    // Only the app that takes traffic is recovered: one being replaced is on its way out.
    app.onUnexpectedExit((exit) => {
      if (app !== childApp) return;
      health.stop();
      if (phases.isTerminal()) return;
      recover(`the app ${describeExit(exit)}`, true);
    });
    return app;
  }
  let childApp: ChildApp = newChildApp();
  const restartPolicy = createRestartPolicy({
    limit: config.appRestartLimit,
    windowMs: config.appRestartWindowMs,
    backoffMs: config.appRestartBackoffMs,
  });

  // An exit, or an app restarted for not answering (then with no error code: it did not exit), counts alike.
  async function backOffAfterCrash(reason: string, exited = true): Promise<void> {
    const decision = restartPolicy.recordCrash();
    phases.setCheck('app', { status: 'fail', output: reason, ...(exited ? { code: ErrorCodes.APP_EXITED } : {}) });
    if (exited) phases.recordError(ErrorCodes.APP_EXITED);
    // Out of `ready` whether it restarts or not: the app is down, and `failed` is reached from `restarting_app`.
    const detail = decision.restart ? `restart ${decision.recentCrashes} in ${decision.delayMs} ms` : `stopped ${decision.recentCrashes} times: giving up`;
    if (!phases.transition('restarting_app', detail)) phases.describe(detail);
    if (!decision.restart) {
      throw new SupervisorError(
        ErrorCodes.APP_CRASH_LOOP,
        `The app stopped ${decision.recentCrashes} times within ${config.appRestartWindowMs} ms; giving up (last: ${reason})`,
        { hint: 'Read the app output above; APP_RESTART_LIMIT and APP_RESTART_WINDOW_MS set the limit.' },
      );
    }
    options.metrics?.appRestarted();
    logger.warn({ event: 'app_restart', attempt: decision.recentCrashes, delayMs: decision.delayMs }, `restarting the app in ${decision.delayMs} ms`);
    await sleep(decision.delayMs, undefined, { signal }).catch(() => {});
  }

  // An app that exits before it is healthy counts as a crash; other start failures end it at once.
  async function start(): Promise<void> {
    for (;;) {
      try {
        await childApp.start();
        phases.setCheck('app', { status: 'pass', output: `pid ${childApp.pid ?? '?'}` });
        if (childApp.port !== undefined) health.watch(childApp.port);
        return;
      } catch (error) {
        if (signal.aborted || !isSupervisorError(error) || error.code !== ErrorCodes.APP_EXITED) throw error;
        await backOffAfterCrash(error.message);
      }
    }
  }

  let restarting = false;

  // After an exit or a restart for not answering: back off, start again, and be ready once it answers.
  function recover(reason: string, exited: boolean): void {
    restarting = true;
    void backOffAfterCrash(reason, exited)
      .then(() => (signal.aborted ? undefined : start()))
      .then(() => {
        restarting = false;
        if (!signal.aborted) phases.transition('ready');
      })
      .catch(options.onGiveUp);
  }

  const health = createAppHealth({
    healthPath: config.appHealthPath,
    intervalMs: config.appHealthIntervalMs,
    failureThreshold: config.appHealthFailureThreshold,
    restartThreshold: config.appHealthRestartThreshold,
    logger: options.logging.logger.child({ module: 'app-health' }),
    onUnready(reason) {
      if (phases.isTerminal()) return;
      phases.setCheck('app', { status: 'fail', output: reason });
      phases.transition('restarting_app', `the app stopped answering: ${reason}`);
    },
    onRecovered() {
      if (phases.isTerminal()) return;
      phases.setCheck('app', { status: 'pass', output: `pid ${childApp.pid ?? '?'}` });
      phases.transition('ready');
    },
    onUnresponsive(reason) {
      if (phases.isTerminal() || signal.aborted) return;
      logger.warn({ event: 'app_unresponsive', childPid: childApp.pid, reason }, `the app stopped answering; restarting it (${reason})`);
      phases.transition('restarting_app', `restarting the app: ${reason}`);
      restarting = true;
      void childApp.stop().then(() => {
        if (!signal.aborted && !phases.isTerminal()) recover(`restarted: ${reason}`, false);
      });
    },
  });
  signal.addEventListener('abort', () => health.stop(), { once: true });

  async function replaceApp(drained: (oldPort: number) => Promise<unknown>, prepare?: () => Promise<void>): Promise<void> {
    if (phases.phase !== 'ready' || signal.aborted) {
      logger.info({ event: 'app_reload_skipped', phase: phases.phase }, `reload asked in phase ${phases.phase}: only a running app reloads`);
      return;
    }
    const previous = childApp;
    logger.info({ event: 'app_reload', childPid: previous.pid }, 'reloading the app: starting a new one beside the running one');
    let next: ChildApp | undefined;
    try {
      await prepare?.();
      next = newChildApp();
      await next.start();
    } catch (error) {
      await next?.stop();
      if (next) apps.delete(next);
      if (signal.aborted) return;
      logger.warn({ event: 'app_reload_failed', err: error }, `the new app did not get ready; the running one keeps serving: ${(error as Error).message}`);
      phases.setCheck('app', { status: 'warn', output: `pid ${previous.pid ?? '?'}; reload failed: ${(error as Error).message}` });
      return;
    }
    if (signal.aborted || phases.phase !== 'ready') {
      await next.stop();
      apps.delete(next);
      return;
    }
    // New requests go to the new app from here on (the proxy asks childApp for its port).
    childApp = next;
    phases.setCheck('app', { status: 'pass', output: `pid ${next.pid ?? '?'}` });
    if (next.port !== undefined) health.watch(next.port);
    if (previous.port !== undefined) await drained(previous.port);
    await previous.stop();
    apps.delete(previous);
    logger.info({ event: 'app_reloaded', childPid: next.pid, previousPid: previous.pid }, 'the new app took over; the previous one is stopped');
  }

  // One reload at a time: a second one started beside it would replace the same app, and the first new app would be
  // left running with no traffic. One asked meanwhile runs after it, so the app that runs is started after the last ask.
  let reloads: Promise<void> = Promise.resolve();
  function reload(drained: (oldPort: number) => Promise<unknown>, prepare?: () => Promise<void>): Promise<void> {
    const next = reloads.then(() => replaceApp(drained, prepare));
    reloads = next.catch(() => {});
    return next;
  }

  return {
    get childApp() {
      return childApp;
    },
    get restarting() {
      return restarting;
    },
    start,
    reload,
    stop: async () => void (await Promise.all([...apps].map((app) => app.stop()))),
  };
}
