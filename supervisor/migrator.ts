// Applies SQL migrations with umzug: each one and its history row commit together, under the advisory lock.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Umzug } from 'umzug';
import { MIGRATION_LOCK_ID, withAdvisoryLock } from './advisory-lock.js';
import { ErrorCodes, SupervisorError, isSupervisorError } from './errors.js';
import type { MigrationFile } from './migration-files.js';
import {
  type AppliedMigration,
  type Queryable,
  ensureHistoryTable,
  readHistory,
  recordApplied,
} from './migration-history.js';

/** How the history and the files on disk relate. */
export interface MigrationPlan {
  readonly applied: readonly AppliedMigration[];
  readonly pending: readonly MigrationFile[];
  /** Applied migrations with no file (e.g. after rolling back to an older release): reported, not fatal. */
  readonly unknown: readonly AppliedMigration[];
}

export interface MigrationRunOptions {
  readonly logger: Logger;
  /** `lock_timeout` for each migration's statements, so it never queues production traffic for long. */
  readonly lockTimeoutMs: number;
  /** `statement_timeout` for each migration's statements; 0 disables it. */
  readonly statementTimeoutMs: number;
  /** Called before each migration starts, e.g. to show progress on /health. */
  readonly onMigrating?: (file: MigrationFile, index: number, total: number) => void;
}

/** Compares history and files; an applied file whose checksum changed stops everything. */
export function planMigrations(files: readonly MigrationFile[], history: readonly AppliedMigration[]): MigrationPlan {
  const appliedByName = new Map(history.map((row) => [row.name, row]));
  const changed = files.filter((file) => {
    const row = appliedByName.get(file.name);
    return row !== undefined && row.checksum !== file.checksum;
  });
  if (changed.length > 0) {
    const names = changed.map((file) => file.name).join(', ');
    throw new SupervisorError(
      ErrorCodes.CHECKSUM_MISMATCH,
      `Applied migration${changed.length > 1 ? 's' : ''} changed on disk: ${names}`,
      { hint: 'Restore the applied file as it was and put the change in a new migration.' },
    );
  }
  const fileNames = new Set(files.map((file) => file.name));
  return {
    applied: history,
    pending: files.filter((file) => !appliedByName.has(file.name)),
    unknown: history.filter((row) => !fileNames.has(row.name)),
  };
}

async function setTimeouts(client: Queryable, options: MigrationRunOptions, local: boolean): Promise<void> {
  await client.query("SELECT set_config('lock_timeout', $1, $3), set_config('statement_timeout', $2, $3)", [
    String(options.lockTimeoutMs),
    String(options.statementTimeoutMs),
    local,
  ]);
}

function migrationFailed(file: MigrationFile, error: unknown): SupervisorError {
  const pgError = error as { message?: string; code?: string; position?: string };
  const where = pgError.position ? ` near line ${lineAt(file.up, Number(pgError.position))} of its up section` : '';
  const sqlState = pgError.code ? ` (SQLSTATE ${pgError.code})` : '';
  return new SupervisorError(
    ErrorCodes.MIGRATION_FAILED,
    `Migration ${file.name} failed${where}: ${pgError.message ?? String(error)}${sqlState}. Nothing of it was applied.`,
    { cause: error, hint: `Fix ${file.name}.sql and deploy again; the migrations before it stay applied.` },
  );
}

function lineAt(sql: string, position: number): number {
  return sql.slice(0, Math.max(0, position - 1)).split('\n').length;
}

// Runs one migration: in a transaction with its history row, or (no-transaction files) as one statement.
async function applyMigration(client: Queryable, file: MigrationFile, options: MigrationRunOptions): Promise<number> {
  const startedAt = performance.now();
  if (file.transactional) {
    await client.query('BEGIN');
    try {
      await setTimeouts(client, options, true);
      await client.query(file.up);
      await recordApplied(client, file, performance.now() - startedAt);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw migrationFailed(file, error);
    }
  } else {
    try {
      await setTimeouts(client, options, false);
      await client.query(file.up);
      await recordApplied(client, file, performance.now() - startedAt);
    } catch (error) {
      throw migrationFailed(file, error);
    } finally {
      await client.query('RESET lock_timeout; RESET statement_timeout').catch(() => {});
    }
  }
  return performance.now() - startedAt;
}

function unwrapUmzugError(error: unknown): unknown {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if (isSupervisorError(current)) return current;
  }
  return error;
}

/**
 * Applies every pending migration in file order, one at a time. The caller holds the migration lock.
 * Returns the names applied.
 */
export async function applyPending(
  client: Queryable,
  files: readonly MigrationFile[],
  options: MigrationRunOptions,
): Promise<string[]> {
  const pending = planMigrations(files, await readHistory(client)).pending;
  const applied: string[] = [];
  const umzug = new Umzug({
    migrations: files.map((file) => ({
      name: file.name,
      path: file.path,
      up: async () => {
        options.onMigrating?.(file, applied.length + 1, pending.length);
        const durationMs = await applyMigration(client, file, options);
        applied.push(file.name);
        options.logger.info({ event: 'migrated', name: file.name, durationMs: Math.round(durationMs) }, `applied ${file.name}`);
      },
    })),
    // The history row is written inside each migration's own transaction (see applyMigration),
    // so umzug's log/unlog steps have nothing left to do.
    storage: {
      executed: async () => (await readHistory(client)).map((row) => row.name),
      logMigration: async () => {},
      unlogMigration: async () => {},
    },
    logger: undefined,
  });
  try {
    await umzug.up();
  } catch (error) {
    throw unwrapUmzugError(error);
  }
  return applied;
}

/** Takes the lock, re-reads the history (another instance may have migrated meanwhile), applies what is pending. */
export async function migrateToLatest(
  client: Queryable,
  files: readonly MigrationFile[],
  options: MigrationRunOptions & { readonly lockWaitTimeoutMs: number },
): Promise<string[]> {
  return withAdvisoryLock(
    client,
    { lockId: MIGRATION_LOCK_ID, timeoutMs: options.lockWaitTimeoutMs, logger: options.logger },
    async () => {
      await ensureHistoryTable(client);
      return applyPending(client, files, options);
    },
  );
}
