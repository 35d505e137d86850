// Brings the schema up to date and verifies it: the fast path takes no lock when nothing is pending.
import type pg from 'pg';
import type { Logger } from 'pino';
import { type Config, ownDatabaseUrl } from '../core/config.js';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import type { StartupMetrics } from '../core/startup-metrics.js';
import { type MigrationFile, readMigrationFiles } from './files.js';
import { historyLabelOf, readHistory } from './history.js';
import { refuseForeignHistory } from './formats/foreign-history.js';
import { kindOf, migrateToLatest, planMigrations } from './runner.js';
import type { PhaseMachine } from '../core/phases.js';
import { connectionOf, connectionOptions, requireDirectSession } from '../database/connection.js';
import { findMissingTables } from '../database/schema-check.js';
import { cancelRunningStatement } from '../database/cancel.js';
import { readSequelizeMap } from './sequelize-adoption.js';

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
