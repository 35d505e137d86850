// Applies and reverts migrations of every kind (SQL files, JS/TS modules, sequelize-cli migrations) with umzug under
// the advisory lock, each together with its history row (see run-step.ts).
import path from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import { type LockConnection, MIGRATION_LOCK_ID, withAdvisoryLock } from './advisory-lock.js';
import { ErrorCodes, SupervisorError, isSupervisorError } from '../core/errors.js';
import type { Queryable } from '../database/connection.js';
import { type AppliedMigration, type MigrationFile, type MigrationKind, isScriptMigration } from './migration.js';
import { ensureHistoryTableOf, historyTableName, readHistory, recordWithoutRunning } from './history.js';
import { type Direction, type MigrationRunOptions, type RunContext, downUnavailable, refuseTransactionStatements, runSection } from './run-step.js';
import { assertLoadable } from './script-loader.js';
import { openScriptRunner } from './script-runners.js';
import { toolHistoryOf } from './formats/index.js';
import { type SequelizeMap, adoptSequelizeHistory } from './sequelize-adoption.js';

/** How the history and the files on disk relate. */
export interface MigrationPlan {
  readonly applied: readonly AppliedMigration[];
  readonly pending: readonly MigrationFile[];
  /** Applied migrations with no file (e.g. after rolling back to an older release): reported, not fatal. */
  readonly unknown: readonly AppliedMigration[];
}

/** The plan plus what stops a migration run, for reports that list problems instead of stopping. */
export interface MigrationInspection extends MigrationPlan {
  /** Applied migrations whose file changed since. */
  readonly changed: readonly MigrationFile[];
  /** The greatest name in the history, compared as files are sorted (not in the database's collation); undefined when empty. */
  readonly lastApplied: string | undefined;
  /** Pending files that sort before `lastApplied`: applying them now would run them out of order. */
  readonly outOfOrder: readonly MigrationFile[];
}

export interface MigrationLockOptions {
  /** Aborted on a stop: a wait for the lock ends at once. */
  readonly signal?: AbortSignal;
  /** Opens the connection that holds the lock: one of its own, beside the one that migrates. */
  readonly openLockConnection: () => Promise<LockConnection>;
  /**
   * The run includes a no-transaction migration: the lock is then held by the migrating session itself
   * (see advisory-lock.ts), after `checkSession` (when given) made sure that it is a session of its own.
   * @default false
   */
  readonly needsSession?: boolean;
  /** Rejects when the migrating connection is not a session of its own (e.g. a transaction pooler's). */
  readonly checkSession?: () => Promise<void>;
  readonly logger: Logger;
  /** How long to wait while another process holds the migration lock. */
  readonly lockWaitTimeoutMs: number;
  /**
   * The kind of the folder's migrations, which says which history table to create (`SequelizeMeta` for sequelize-cli's).
   * @default 'sql'
   */
  readonly kind?: MigrationKind;
  /** The folder's migrations: where another tool keeps its history (knex `tableName`…). */
  readonly files?: readonly MigrationFile[];
}

/** What `down` reverts: the `step` most recently applied migrations, or every one applied after `to`. */
export type RevertTarget = { readonly to: string } | { readonly step: number };


/** The kind of a folder's migrations (one kind per folder, see files.ts); `sql` for none. */
export function kindOf(files: readonly MigrationFile[]): MigrationKind {
  return files[0]?.kind ?? 'sql';
}

/** Compares history and files without judging them. */
export function inspectMigrations(files: readonly MigrationFile[], history: readonly AppliedMigration[]): MigrationInspection {
  const appliedByName = new Map(history.map((row) => [row.name, row]));
  const fileNames = new Set(files.map((file) => file.name));
  const lastApplied = history.map((row) => row.name).sort().at(-1);
  const pending = files.filter((file) => !appliedByName.has(file.name));
  return {
    applied: history,
    pending,
    unknown: history.filter((row) => !fileNames.has(row.name)),
    changed: files.filter((file) => {
      const row = appliedByName.get(file.name);
      // SequelizeMeta keeps no checksum: sequelize-cli's migrations are not checked.
      return row?.checksum !== undefined && row.checksum !== file.checksum && !file.alsoAccepted?.includes(row.checksum);
    }),
    lastApplied,
    outOfOrder: lastApplied === undefined ? [] : pending.filter((file) => file.name < lastApplied),
  };
}

export function checksumMismatch(changed: readonly MigrationFile[]): SupervisorError {
  const names = changed.map((file) => file.name).join(', ');
  return new SupervisorError(
    ErrorCodes.CHECKSUM_MISMATCH,
    `Applied migration${changed.length > 1 ? 's' : ''} changed on disk: ${names}`,
    { hint: 'Restore the applied file as it was and put the change in a new migration.' },
  );
}

/**
 * The refusal of new files that sort before the last applied migration (node-pg-migrate's `checkOrder`, Flyway's
 * `outOfOrder=false`): run now, they would run after migrations that were written to follow them.
 */
export function migrationsOutOfOrder(outOfOrder: readonly MigrationFile[], lastApplied: string): SupervisorError {
  const many = outOfOrder.length > 1;
  const names = outOfOrder.map((file) => file.fileName).join(', ');
  return new SupervisorError(
    ErrorCodes.MIGRATION_OUT_OF_ORDER,
    `New migration${many ? 's' : ''} ${names} ${many ? 'sort' : 'sorts'} before ${lastApplied}, the last applied migration: ` +
      `${many ? 'they' : 'it'} would run out of order.`,
    {
      hint:
        `Rename ${many ? 'each' : 'it'} to sort after ${lastApplied} (give it the next number, as \`migrate create\` does), ` +
        'or, on a development database, first revert the applied migrations that sort after it with `migrate down`.',
    },
  );
}

/** Compares history and files; an applied file whose checksum changed, or a new one out of order, stops everything. */
export function planMigrations(files: readonly MigrationFile[], history: readonly AppliedMigration[]): MigrationPlan {
  const { changed, lastApplied, outOfOrder, ...plan } = inspectMigrations(files, history);
  if (changed.length > 0) throw checksumMismatch(changed);
  if (lastApplied !== undefined && outOfOrder.length > 0) throw migrationsOutOfOrder(outOfOrder, lastApplied);
  return plan;
}

/** The history name of the migration that `name` designates: its name, or its file name (`0001_seed.js`). */
export function migrationName(files: readonly MigrationFile[], name: string): string {
  return files.find((file) => file.fileName === name)?.name ?? name;
}

/** The pending migrations up to and including `to` (all of them without it). */
export function pendingUpTo(
  files: readonly MigrationFile[],
  pending: readonly MigrationFile[],
  to: string | undefined,
): readonly MigrationFile[] {
  if (to === undefined) return pending;
  const name = migrationName(files, to);
  const last = files.findIndex((file) => file.name === name);
  if (last === -1) {
    throw new SupervisorError(ErrorCodes.MIGRATION_NOT_FOUND, `There is no migration file named ${to}`, {
      hint: 'Give the name as `migrate status` lists it.',
    });
  }
  return pending.filter((file) => files.indexOf(file) <= last);
}


function unwrapUmzugError(error: unknown): unknown {
  for (let current: unknown = error; current; current = (current as { cause?: unknown }).cause) {
    if (isSupervisorError(current)) return current;
  }
  return error;
}

// Runs the named migrations in the given order and direction through umzug; returns the names done.
async function runWithUmzug(
  client: Queryable,
  files: readonly MigrationFile[],
  direction: Direction,
  names: readonly string[],
  options: MigrationRunOptions,
): Promise<string[]> {
  const done: string[] = [];
  const kind = kindOf(files);
  if (names.length === 0) return done;
  const context: RunContext = {
    historyTable: kind === 'sql' || kind === 'module' ? await historyTableName(client) : '',
    tool: toolHistoryOf(kind),
    runner: await openScriptRunner(kind, {
      client,
      files,
      projectDir: options.projectDir ?? process.cwd(),
      migrationsDir: path.dirname(files[0]?.path ?? '.'),
      connection: () => requireConnection(options),
      logger: options.logger,
      lockTimeoutMs: options.lockTimeoutMs,
      statementTimeoutMs: options.statementTimeoutMs,
      signal: options.signal,
    }),
  };
  const run = async (file: MigrationFile): Promise<void> => {
    if (options.signal?.aborted) throw interrupted(file, options.logger);
    if (direction === 'up') options.onMigrating?.(file, done.length + 1, names.length);
    // What cannot be made atomic is named (a sequelize-cli migration with its own transaction: see sequelize-runner.ts).
    if (file.kind === 'sql' && !file.transactional) {
      options.logger.warn(
        { event: 'migration_no_transaction', migration: file.name },
        `${file.name} runs outside a transaction (-- migrate:no-transaction): if it fails halfway, what it did stays`,
      );
    }
    const durationMs = Math.round(
      await runSection(client, file, direction, options, context).catch((error: unknown) => {
        throw options.signal?.aborted ? interrupted(file, options.logger, error) : error;
      }),
    );
    done.push(file.name);
    if (direction === 'up') options.onMigrated?.(file, durationMs);
    const [event, verb] = direction === 'up' ? ['migrated', 'applied'] : ['reverted', 'reverted'];
    options.logger.info({ event, migration: file.name, durationMs }, `${verb} ${file.name}`);
  };
  // Loaded only when something is to run: an up-to-date start never needs it.
  const { Umzug } = await import('umzug');
  const umzug = new Umzug({
    migrations: files.map((file) => ({ name: file.name, path: file.path, up: () => run(file), down: () => run(file) })),
    // The history row is written or deleted together with each migration (see runSection),
    // so umzug's log/unlog steps have nothing left to do.
    storage: {
      executed: async () => (await readHistory(client, 'name', kind, files)).map((row) => row.name),
      logMigration: async () => {},
      unlogMigration: async () => {},
    },
    logger: undefined,
  });
  try {
    await (direction === 'up' ? umzug.up({ migrations: [...names] }) : umzug.down({ migrations: [...names] }));
  } catch (error) {
    throw unwrapUmzugError(error);
  } finally {
    await context.runner?.close();
  }
  return done;
}

// A stop came while `file` ran (its statement was cancelled and it rolled back) or before it started.
function interrupted(file: MigrationFile, logger: Logger, cause?: unknown): SupervisorError {
  logger.warn({ event: 'migration_interrupted', migration: file.name }, `${file.name} was interrupted by the stop and rolled back; the next start applies it`);
  return new SupervisorError(ErrorCodes.MIGRATION_INTERRUPTED, `${file.name} was interrupted by a stop and rolled back`, {
    cause,
    hint: 'Nothing to fix: the next start applies it.',
  });
}

function requireConnection(options: MigrationRunOptions): pg.ClientConfig {
  if (options.connection) return options.connection;
  throw new SupervisorError(ErrorCodes.UNEXPECTED, 'sequelize-cli and knex migrations need the connection options, which were not given', {
    hint: 'This is a bug: report it with the message above.',
  });
}

/**
 * Applies every pending migration in file order (up to and including `to`), one at a time.
 * The caller holds the migration lock. Returns the names applied.
 */
export async function applyPending(
  client: Queryable,
  files: readonly MigrationFile[],
  options: MigrationRunOptions & { readonly to?: string },
): Promise<string[]> {
  const pending = pendingUpTo(files, planMigrations(files, await readHistory(client, 'name', kindOf(files), files)).pending, options.to);
  await refuseTransactionStatements(pending, 'up');
  for (const file of pending) if (isScriptMigration(file)) assertLoadable(file);
  return runWithUmzug(client, files, 'up', pending.map((file) => file.name), options);
}

/**
 * Reverts applied migrations, newest first, each with its down section. Refuses before reverting anything
 * when one of them has no down section or no file. The caller holds the migration lock. Returns the names reverted.
 */
export async function revertMigrations(
  client: Queryable,
  files: readonly MigrationFile[],
  target: RevertTarget,
  options: MigrationRunOptions,
): Promise<string[]> {
  // Newest first means the most recently applied, whatever the names: a file applied late is reverted first.
  const history = await readHistory(client, 'applied', kindOf(files), files);
  // A new file out of order does not stop a revert: reverting what follows it is one way to put it in order.
  const { changed } = inspectMigrations(files, history);
  if (changed.length > 0) throw checksumMismatch(changed);
  const applied = history.map((row) => row.name);
  let names: string[];
  if ('to' in target) {
    const index = applied.indexOf(migrationName(files, target.to));
    if (index === -1) {
      throw new SupervisorError(ErrorCodes.MIGRATION_NOT_FOUND, `${target.to} is not an applied migration`, {
        hint: 'Give the name of an applied migration, as `migrate status` lists it.',
      });
    }
    names = applied.slice(index + 1).reverse();
  } else {
    names = applied.slice(Math.max(0, applied.length - target.step)).reverse();
  }
  const byName = new Map(files.map((file) => [file.name, file]));
  const blocked = names.flatMap((name) => {
    const file = byName.get(name);
    if (!file) return [`${name} has no file here`];
    if (file.kind === 'prisma' || file.kind === 'drizzle') return [`${name} has no down step (${file.kind === 'prisma' ? 'Prisma' : 'drizzle-kit'} migrations go forward only)`];
    return file.hasDown ? [] : [`${name} has no down ${file.kind === 'sql' ? 'section' : 'function'}`];
  });
  if (blocked.length > 0) throw downUnavailable(blocked);
  await refuseTransactionStatements(names.flatMap((name) => byName.get(name) ?? []), 'down');
  return runWithUmzug(client, files, 'down', names, options);
}

/** Records the pending migrations up to and including `to` as applied, without running them. The caller holds the lock. */
export async function baselineTo(
  client: Queryable,
  files: readonly MigrationFile[],
  to: string,
  logger: Logger,
): Promise<string[]> {
  const pending = pendingUpTo(files, planMigrations(files, await readHistory(client, 'name', kindOf(files), files)).pending, to);
  await recordWithoutRunning(client, pending, kindOf(files));
  const names = pending.map((file) => file.name);
  if (names.length > 0) {
    logger.info({ event: 'baselined', migrations: names }, `recorded as applied without running them: ${names.join(', ')}`);
  }
  return names;
}

/** Runs `fn` holding the migration lock, with the history table in place: every change to the history goes through it. */
export async function withMigrationLock<T>(client: Queryable, options: MigrationLockOptions, fn: () => Promise<T>): Promise<T> {
  if (options.needsSession) await options.checkSession?.();
  return withAdvisoryLock(
    options.needsSession ? { kind: 'session', client } : { kind: 'transaction', openConnection: options.openLockConnection },
    { lockId: MIGRATION_LOCK_ID, timeoutMs: options.lockWaitTimeoutMs, logger: options.logger, signal: options.signal },
    async () => {
      await ensureHistoryTableOf(client, options.kind ?? 'sql', options.files);
      return fn();
    },
  );
}

/**
 * Re-reads the history (another instance may have migrated meanwhile) and refuses a changed or out-of-order
 * file before recording anything, then adopts sequelize-cli's history when there is one and applies what is
 * pending (up to and including `to`). The caller holds the migration lock.
 */
export async function adoptAndApply(
  client: Queryable,
  files: readonly MigrationFile[],
  options: MigrationRunOptions & { readonly sequelizeMap?: SequelizeMap; readonly to?: string },
): Promise<{ adopted: string[]; applied: string[] }> {
  const kind = kindOf(files);
  planMigrations(files, await readHistory(client, 'name', kind, files));
  // A folder of sequelize-cli migrations keeps SequelizeMeta as its history: there is nothing to adopt.
  const adoption = kind === 'sql' ? await adoptSequelizeHistory(client, files, options.sequelizeMap, options.logger) : undefined;
  const applied = await applyPending(client, files, options);
  return { adopted: adoption?.adopt.map((file) => file.name) ?? [], applied };
}

/** Takes the lock and brings the database up to date (see `adoptAndApply`). Returns the names applied. */
export async function migrateToLatest(
  client: Queryable,
  files: readonly MigrationFile[],
  options: MigrationRunOptions & MigrationLockOptions & { readonly sequelizeMap?: SequelizeMap },
): Promise<string[]> {
  const kind = kindOf(files);
  const { pending } = inspectMigrations(files, await readHistory(client, 'name', kind, files));
  // A sequelize-cli migration with its own transaction runs on Sequelize's connections: the lock's open transaction
  // elsewhere does not stand in its way (unless it builds an index CONCURRENTLY, which it cannot inside its transaction).
  const needsSession = pending.some((file) => file.kind === 'sql' && !file.transactional);
  return withMigrationLock(client, { ...options, needsSession, kind, files }, async () => (await adoptAndApply(client, files, options)).applied);
}
