// Wires the parts together: port first, then database, schema, app, and traffic once all are ready.
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { createChildApp, type ChildExit } from './child-app.js';
import type { Config } from './config.js';
import { createPool, describeTarget } from './database.js';
import { waitForDatabase } from './database-wait.js';
import { ErrorCodes, ExitCodes, SupervisorError, isSupervisorError } from './errors.js';
import type { Logging } from './logger.js';
import { createPhaseMachine } from './phases.js';
import { createProxy } from './proxy.js';
import { createPublicServer } from './public-server.js';
import { createRestartPolicy } from './restart-policy.js';
import { prepareSchema } from './schema-setup.js';
import { createShutdown, handleSignals } from './shutdown.js';
import { sendNotReady } from './unavailable.js';

export interface SupervisorOptions {
  readonly config: Config;
  readonly logging: Logging;
  readonly exit: (code: number) => void;
}

/** Starts the supervisor; it ends the process itself through `exit`. */
export async function runSupervisor({ config, logging, exit }: SupervisorOptions): Promise<void> {
  const logger = logging.logger;
  const phases = createPhaseMachine(logger.child({ module: 'phases' }));
  const abortStartup = new AbortController();
  let pool: pg.Pool | undefined;

  const childApp = createChildApp({
    command: config.appCommand,
    healthPath: config.appHealthPath,
    startTimeoutMs: config.appStartTimeoutMs,
    stopTimeoutMs: config.appStopTimeoutMs,
    env: { DATABASE_URL: config.databaseUrl },
    logging,
    logger: logger.child({ module: 'child-app' }),
  });
  const proxy = createProxy({
    getTarget: () => {
      const port = childApp.port;
      return port !== undefined && (phases.phase === 'ready' || phases.phase === 'draining') ? { port } : undefined;
    },
    sendUnavailable: (req, res) => sendNotReady(req, res, phases.snapshot()),
    isDraining: () => phases.phase === 'draining',
    logger: logger.child({ module: 'proxy' }),
  });
  const server = createPublicServer({ phases, proxy, logger, releaseId: config.releaseId });

  const closePool = async (): Promise<void> => {
    const open = pool;
    pool = undefined;
    await open?.end();
  };
  const shutdown = createShutdown({
    phases,
    server: server.server,
    proxy,
    stopApp: () => childApp.stop(),
    closeResources: async () => {
      await closePool();
      await server.close();
    },
    drainTimeoutMs: config.drainTimeoutMs,
    logger: logger.child({ module: 'shutdown' }),
    abortStartup,
    exit,
  });
  handleSignals(shutdown.begin);

  async function fail(error: unknown): Promise<void> {
    if (phases.phase === 'draining') return; // shutdown is already under way and will exit
    const code = isSupervisorError(error) ? error.code : 'SUP_ERR_UNEXPECTED';
    phases.recordError(code);
    phases.transition('failed', code);
    logger.error(
      { event: 'failed', code, err: error, hint: isSupervisorError(error) ? error.hint : undefined },
      `start failed: ${(error as Error).message}`,
    );
    await childApp.stop().catch(() => {});
    await closePool().catch(() => {});
    await server.close().catch(() => {});
    exit(ExitCodes.FAILURE);
  }

  const restartPolicy = createRestartPolicy({
    limit: config.appRestartLimit,
    windowMs: config.appRestartWindowMs,
    backoffMs: config.appRestartBackoffMs,
  });

  // Starts the app; an app that exits before it is healthy is restarted like a crash, up to the policy.
  async function startApp(): Promise<void> {
    for (;;) {
      try {
        await childApp.start();
        phases.setCheck('app', { status: 'pass', output: `pid ${childApp.pid ?? '?'}` });
        return;
      } catch (error) {
        if (phases.isTerminal() || !isSupervisorError(error) || error.code !== ErrorCodes.APP_EXITED) throw error;
        await backOffAfterCrash(error.message);
      }
    }
  }

  async function backOffAfterCrash(reason: string): Promise<void> {
    const decision = restartPolicy.recordCrash();
    phases.setCheck('app', { status: 'fail', output: reason });
    if (!decision.restart) {
      throw new SupervisorError(
        ErrorCodes.APP_CRASH_LOOP,
        `The app stopped ${decision.recentCrashes} times within ${config.appRestartWindowMs} ms; giving up (last: ${reason})`,
        { hint: 'Read the app output above; APP_RESTART_LIMIT and APP_RESTART_WINDOW_MS set the limit.' },
      );
    }
    const detail = `restart ${decision.recentCrashes} in ${decision.delayMs} ms`;
    if (!phases.transition('restarting_app', detail)) phases.describe(detail);
    logger.warn({ event: 'app_restart', attempt: decision.recentCrashes, delayMs: decision.delayMs }, `restarting the app in ${decision.delayMs} ms`);
    await sleep(decision.delayMs, undefined, { signal: abortStartup.signal }).catch(() => {});
  }

  childApp.onUnexpectedExit((exit: ChildExit) => {
    if (phases.isTerminal()) return;
    const reason = exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
    void backOffAfterCrash(`the app ${reason}`)
      .then(() => (phases.isTerminal() ? undefined : startApp()))
      .then(() => {
        if (!phases.isTerminal()) phases.transition('ready');
      })
      .catch(fail);
  });

  try {
    await server.listen({ port: config.port, host: config.host });
  } catch (error) {
    const inUse = (error as { code?: string }).code === 'EADDRINUSE';
    await fail(
      inUse
        ? new SupervisorError(ErrorCodes.PORT_IN_USE, `Port ${config.port} on ${config.host} is already in use`, {
            cause: error,
            hint: 'Stop the other process or set PORT to a free port.',
          })
        : error,
    );
    return;
  }

  try {
    const target = describeTarget(config.databaseUrl);
    phases.transition('waiting_for_database', `${target.host}/${target.database}`);
    const { attempts } = await waitForDatabase({
      databaseUrl: config.databaseUrl,
      timeoutMs: config.dbWaitTimeoutMs,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      logger: logger.child({ module: 'database-wait' }),
      signal: abortStartup.signal,
      onAttemptFailed: (attempt, reason) =>
        phases.setCheck('database', { status: 'fail', output: `attempt ${attempt}: ${reason}`, observedValue: attempt }),
    });
    if (phases.isTerminal()) return;
    phases.setCheck('database', { status: 'pass', observedValue: attempts, observedUnit: 'attempts' });

    pool = createPool(config.databaseUrl, config.dbConnectTimeoutMs, logger.child({ module: 'database' }));
    await prepareSchema({ pool, config, phases, logger: logger.child({ module: 'migrator' }) });
    await closePool(); // the app has its own pool; the supervisor holds no connection while it runs

    if (!phases.transition('starting_app')) return;
    await startApp();
    phases.transition('ready');
  } catch (error) {
    await fail(error);
  }
}
