// The migration lock: a transaction-level Postgres advisory lock, held by an open transaction on a
// connection of its own, so that only one process migrates at a time. Unlike a session lock it also holds
// through a transaction pooler (PgBouncer, Supavisor, Neon's pooler), which pins a connection to one server
// session while its transaction is open, and it can never be left behind: it ends with the transaction,
// at COMMIT or when the connection goes away, however the process that held it ended.
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import type { OwnConnection, Queryable } from '../database/connection.js';

/**
 * The advisory lock key every instance (and the migrate CLI) takes before migrating.
 * Picked once at random; changing it would let an old and a new release migrate at the same time.
 */
export const MIGRATION_LOCK_ID = '7262914153884315403';

/** A connection used only to hold the lock; closing it ends the lock's transaction if nothing else did. */
export type LockConnection = OwnConnection;

export interface AdvisoryLockOptions {
  readonly lockId: string;
  /** Give up after this long with SUP_ERR_LOCK_TIMEOUT. */
  readonly timeoutMs: number;
  /** @default 500 — mean time between attempts; each wait is jittered by up to a third either way. */
  readonly pollMs?: number;
  readonly logger: Logger;
  /** Aborted on a stop: the wait ends at once. */
  readonly signal?: AbortSignal;
}

// One attempt found the lock held by another session: the only failure worth another attempt.
class LockHeld extends Error {}

/** Waits for the lock until the deadline, logging once that another instance holds it. */
async function acquireAdvisoryLock(
  client: Queryable,
  tryLock: 'pg_try_advisory_xact_lock' | 'pg_try_advisory_lock',
  options: AdvisoryLockOptions,
): Promise<void> {
  const { lockId, timeoutMs, pollMs = 500, logger } = options;
  const startedAt = Date.now();
  try {
    await pRetry(
      async () => {
        const { rows } = await client.query<{ acquired: boolean }>(`SELECT ${tryLock}($1::bigint) AS acquired`, [lockId]);
        if (!rows[0]?.acquired) throw new LockHeld();
      },
      {
        retries: Number.POSITIVE_INFINITY,
        maxRetryTime: timeoutMs,
        // Same wait every time; `randomize` multiplies it by 1 to 2, so this is pollMs give or take a third.
        factor: 1,
        minTimeout: (pollMs * 2) / 3,
        randomize: true,
        signal: options.signal,
        // A failed query (e.g. the connection dropped) is reported at once, not retried until the deadline.
        shouldRetry: ({ error }) => error instanceof LockHeld,
        onFailedAttempt: ({ error, attemptNumber }) => {
          if (error instanceof LockHeld && attemptNumber === 1) {
            logger.info({ event: 'lock_waiting', lockId }, 'another instance is migrating; waiting for the migration lock');
          }
        },
      },
    );
  } catch (error) {
    if (!(error instanceof LockHeld)) throw error;
    throw new SupervisorError(ErrorCodes.LOCK_TIMEOUT, `Another instance held the migration lock for more than ${timeoutMs} ms`, {
      hint: 'Check for a stuck migration (pg_stat_activity) or raise MIGRATION_LOCK_WAIT_TIMEOUT_MS.',
    });
  }
  logger.info({ event: 'lock_acquired', lockId, waitedMs: Date.now() - startedAt }, 'migration lock acquired');
}

/**
 * Where the lock is held. `transaction` (the usual way): in an open transaction on a connection of its own,
 * which holds through a transaction pooler. `session`: by the migrating connection itself, for runs with a
 * no-transaction migration, because CREATE INDEX CONCURRENTLY waits for every open transaction, the lock's
 * own included; such a migration needs a session of its own anyway (see `requireDirectSession`).
 */
export type LockHolding =
  | { readonly kind: 'transaction'; readonly openConnection: () => Promise<LockConnection> }
  | { readonly kind: 'session'; readonly client: Queryable };

/**
 * Holds the lock while `fn` runs and lets it go in every case. A failure to let it go is only a warning:
 * the lock ends with its transaction or session, which end with the connection.
 */
export async function withAdvisoryLock<T>(holding: LockHolding, options: AdvisoryLockOptions, fn: () => Promise<T>): Promise<T> {
  return holding.kind === 'transaction'
    ? holdInTransaction(holding.openConnection, options, fn)
    : holdInSession(holding.client, options, fn);
}

async function holdInTransaction<T>(
  openConnection: () => Promise<LockConnection>,
  options: AdvisoryLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const holder = await openConnection();
  try {
    await holder.query('BEGIN');
    // The transaction stays idle while the migrations run elsewhere: a server-wide limit must not end it.
    await holder.query("SELECT set_config('idle_in_transaction_session_timeout', '0', true)");
    await acquireAdvisoryLock(holder, 'pg_try_advisory_xact_lock', options);
    return await fn();
  } finally {
    await letGo(holder, 'COMMIT', [], options);
    await holder.close().catch(() => {});
  }
}

async function holdInSession<T>(client: Queryable, options: AdvisoryLockOptions, fn: () => Promise<T>): Promise<T> {
  await acquireAdvisoryLock(client, 'pg_try_advisory_lock', options);
  try {
    return await fn();
  } finally {
    await letGo(client, 'SELECT pg_advisory_unlock($1::bigint)', [options.lockId], options);
  }
}

async function letGo(client: Queryable, sql: string, values: unknown[], { lockId, logger }: AdvisoryLockOptions): Promise<void> {
  try {
    await client.query(sql, values);
    logger.debug({ event: 'lock_released', lockId }, 'migration lock released');
  } catch (error) {
    logger.warn({ event: 'lock_release_failed', lockId, err: error }, 'could not release the migration lock; it ends with its connection');
  }
}
