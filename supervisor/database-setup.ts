// The database half of startup, in one place: wait until Postgres answers (`waiting_for_database`), bring the
// schema up to date (`migrating`, only when something is pending: the fast path takes no lock), verify it
// (`verifying_schema`). A reload runs the same sequence again (see main.ts); the watch while ready is here too.
import type pg from 'pg';
import type { Logger } from 'pino';
import { type Config, ownDatabaseUrl } from './core/config.js';
import { ErrorCodes, SupervisorError } from './core/errors.js';
import type { PhaseMachine } from './core/phases.js';
import type { StartupMetrics } from './core/startup-metrics.js';
import { cancelRunningStatement } from './database/cancel.js';
import { connectionOf, connectionOptions, createPool, describeTarget, requireDirectSession } from './database/connection.js';
import { findMissingTables } from './database/schema-check.js';
import { waitForDatabase } from './database/wait.js';
import { watchDatabase } from './database/watch.js';
import { readMigrationFiles } from './migrations/files.js';
import { refuseForeignHistory } from './migrations/formats/foreign-history.js';
import { historyLabelOf, readHistory } from './migrations/history.js';
import type { MigrationFile } from './migrations/migration.js';
import { kindOf, migrateToLatest, planMigrations } from './migrations/runner.js';
import { readSequelizeMap } from './migrations/sequelize-adoption.js';
import { stopSqlParser } from './sql/sql-statements.js';

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

type SchemaConfig = Pick<
  Config,
  | 'directUrl'
  | 'databaseUrl'
  | 'dbConnectTimeoutMs'
  | 'migrationsDir'
  | 'migrateOnStart'
  | 'requiredTables'
  | 'migrationLockWaitTimeoutMs'
  | 'migrationLockTimeoutMs'
  | 'migrationStatementTimeoutMs'
>;

export interface SchemaSetupOptions {
  readonly pool: pg.Pool;
  readonly config: SchemaConfig;
  readonly phases: PhaseMachine;
  readonly logger: Logger;
  readonly metrics?: StartupMetrics;
  /** Called with the pending migrations before they run (the lint); throwing stops the start. */
  readonly beforeMigrating?: (pending: readonly MigrationFile[]) => Promise<void>;
  /**
   * Aborted when the supervisor stops: the migration under way is cancelled on the server and rolls back, no
   * other one starts, and the lock goes only after that (see cancel.ts).
   */
  readonly signal?: AbortSignal;
}

/** Runs the `migrating` (when needed) and `verifying_schema` phases; throws a SupervisorError on failure. */
export async function prepareSchema({ pool, config, phases, logger, metrics, beforeMigrating, signal }: SchemaSetupOptions): Promise<void> {
  const files = await readMigrationFiles(config.migrationsDir);
  const kind = kindOf(files);
  const client = await pool.connect();
  try {
    const history = await readHistory(client, 'name', kind, files);
    const sequelizeMap = kind === 'sql' ? await readSequelizeMap(config.migrationsDir) : undefined;
    await refuseForeignHistory(client, {
      dir: config.migrationsDir,
      kind,
      historyLabel: historyLabelOf(kind),
      appliedCount: history.length,
      adopted: sequelizeMap ? ['SequelizeMeta'] : [],
    });
    let plan = planMigrations(files, history);
    for (const row of plan.unknown) {
      logger.warn({ event: 'migration_without_file', migration: row.name }, `applied migration ${row.name} has no file here`);
    }

    if (plan.pending.length > 0 && config.migrateOnStart) {
      phases.transition('migrating', `${plan.pending.length} pending`);
      await beforeMigrating?.(plan.pending);
      const noTransaction = plan.pending.find((file) => file.kind === 'sql' && !file.transactional);
      const cancelMigration = (): void => void cancelRunningStatement(client, ownDatabaseUrl(config), config.dbConnectTimeoutMs);
      signal?.addEventListener('abort', cancelMigration, { once: true });
      await migrateToLatest(client, files, {
        signal,
        openLockConnection: () => connectionOf(pool),
        // DIRECT_URL says that the supervisor's connection is direct: nothing to check then.
        checkSession: config.directUrl
          ? undefined
          : () => requireDirectSession(client, `Migration ${noTransaction?.name} (-- migrate:no-transaction)`),
        logger,
        lockWaitTimeoutMs: config.migrationLockWaitTimeoutMs,
        lockTimeoutMs: config.migrationLockTimeoutMs,
        statementTimeoutMs: config.migrationStatementTimeoutMs,
        // A database migrated by sequelize-cli has its history adopted first (see sequelize-adoption.ts).
        sequelizeMap,
        // sequelize-cli migrations run on the user's Sequelize, connected as the supervisor is.
        connection: connectionOptions(ownDatabaseUrl(config), config.dbConnectTimeoutMs),
        onMigrating: (file, index, total) => phases.describe(`applying migration ${index} of ${total}: ${file.name}`),
        onMigrated: (file, durationMs) => metrics?.migrationApplied(file.name, durationMs),
      }).finally(() => signal?.removeEventListener('abort', cancelMigration));
      plan = planMigrations(files, await readHistory(client, 'name', kind, files));
    }
    phases.setCheck('migrations', {
      status: plan.pending.length > 0 ? 'fail' : 'pass',
      observedValue: plan.applied.length,
      observedUnit: 'applied',
      output: `${plan.applied.length} applied, ${plan.pending.length} pending`,
    });

    phases.transition('verifying_schema');
    const missing = await findMissingTables(client, config.requiredTables);
    if (plan.pending.length > 0 || missing.length > 0) {
      throw new SupervisorError(
        ErrorCodes.SCHEMA_INVALID,
        `The schema is not what the app needs: ${[
          plan.pending.length > 0 ? `pending migrations ${plan.pending.map((file) => file.name).join(', ')}` : '',
          missing.length > 0 ? `missing tables ${missing.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ')}`,
        {
          hint: config.migrateOnStart
            ? 'Add a migration that creates the missing tables, or correct REQUIRED_TABLES.'
            : 'MIGRATE_ON_START=false: run the migrations before the start (the pre-deploy step) or set it to true.',
        },
      );
    }
    phases.setCheck('schema', { status: 'pass', output: `${config.requiredTables.length} required tables present` });
  } finally {
    client.release();
  }
}
