// The database half of startup: wait until Postgres answers, then migrate and verify the schema.
import type { Logger } from 'pino';
import { type Config, ownDatabaseUrl } from './core/config.js';
import { createPool, describeTarget } from './database/connection.js';
import { waitForDatabase } from './database/wait.js';
import { watchDatabase } from './database/watch.js';
import { stopSqlParser } from './core/sql-statements.js';
import { ErrorCodes } from './core/errors.js';
import type { StartupMetrics } from './core/startup-metrics.js';
import type { PhaseMachine } from './core/phases.js';
import { prepareSchema } from './migrations/prepare-schema.js';

export interface DatabaseSetupOptions {
  readonly config: Config;
  readonly phases: PhaseMachine;
  readonly logger: Logger;
  /** Aborted on shutdown: stops waiting and closes the pool. */
  readonly signal: AbortSignal;
  readonly metrics?: StartupMetrics;
}

/**
 * While ready, checks the database every DB_CHECK_INTERVAL_MS and shows the outcome as the `database` check
 * of /health (`warn` with the error code while it does not answer), until `signal` is aborted (shutdown).
 */
export function watchDatabaseWhileReady({ config, phases, logger, signal }: Omit<DatabaseSetupOptions, 'metrics'>): void {
  if (config.dbCheckIntervalMs === 0 || signal.aborted) return;
  const stop = watchDatabase({
    databaseUrl: ownDatabaseUrl(config),
    connectTimeoutMs: config.dbConnectTimeoutMs,
    intervalMs: config.dbCheckIntervalMs,
    logger: logger.child({ module: 'database-watch' }),
    onState: (state) =>
      phases.setCheck(
        'database',
        state.reachable ? { status: 'pass', output: 'answers' } : { status: 'warn', output: state.reason, code: ErrorCodes.DB_UNAVAILABLE },
      ),
  });
  signal.addEventListener('abort', stop, { once: true });
}

/** Runs `waiting_for_database` through `verifying_schema`; holds no connection once it returns. */
export async function setUpDatabase({ config, phases, logger, signal, metrics }: DatabaseSetupOptions): Promise<void> {
  // The supervisor's own connection: DIRECT_URL past a transaction pooler, else the app's DATABASE_URL.
  const databaseUrl = ownDatabaseUrl(config);
  const target = describeTarget(databaseUrl);
  phases.transition('waiting_for_database', `${target.host}/${target.database}`);
  const { attempts } = await waitForDatabase({
    databaseUrl,
    variable: config.directUrl ? 'DIRECT_URL' : 'DATABASE_URL',
    timeoutMs: config.dbWaitTimeoutMs,
    connectTimeoutMs: config.dbConnectTimeoutMs,
    logger: logger.child({ module: 'database-wait' }),
    signal,
    onAttemptFailed: (attempt, reason) => {
      phases.setCheck('database', {
        status: 'fail',
        output: `attempt ${attempt}: ${reason}`,
        code: ErrorCodes.DB_UNAVAILABLE,
        observedValue: attempt,
        observedUnit: 'attempts',
      });
      phases.recordError(ErrorCodes.DB_UNAVAILABLE);
      metrics?.databaseAttempt('failure');
    },
  });
  if (signal.aborted) return;
  metrics?.databaseAttempt('success');
  phases.setCheck('database', { status: 'pass', observedValue: attempts, observedUnit: 'attempts' });

  // The app has a pool of its own: this one lives only while the schema is prepared. A stop cancels what runs on it
  // (see prepareSchema), and it ends once that has rolled back.
  const pool = createPool(databaseUrl, config.dbConnectTimeoutMs, logger.child({ module: 'database' }));
  try {
    const migratorLogger = logger.child({ module: 'migrator' });
    await prepareSchema({
      pool,
      config,
      phases,
      logger: migratorLogger,
      metrics,
      signal,
      // Loaded only when something is pending: an up-to-date start lints nothing.
      beforeMigrating: async (pending) =>
        (await import('./lint/at-start.js')).lintPendingMigrations(pending, config.migrationLint, migratorLogger),
    });
  } finally {
    // The SQL parser's helper process, if the migrations needed it, is not needed past this point.
    stopSqlParser();
    await pool.end();
  }
}
