// A Postgres session advisory lock on one pinned connection, so that only one process migrates at a time.
import pRetry from 'p-retry';
import type { Logger } from 'pino';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import type { Queryable } from '../database/connection.js';

/**
 * The advisory lock key every instance (and the migrate CLI) takes before migrating.
 * Picked once at random; changing it would let an old and a new release migrate at the same time.
 */
export const MIGRATION_LOCK_ID = '7262914153884315403';

export interface AdvisoryLockOptions {
  readonly lockId: string;
  /** Give up after this long with SUP_ERR_LOCK_TIMEOUT. */
  readonly timeoutMs: number;
  /** @default 500 — mean time between attempts; each wait is jittered by up to a third either way. */
  readonly pollMs?: number;
  readonly logger: Logger;
}

// One attempt found the lock held by another session: the only failure worth another attempt.
class LockHeld extends Error {}

/** Waits for the lock until the deadline, logging once that another instance holds it. */
export async function acquireAdvisoryLock(client: Queryable, options: AdvisoryLockOptions): Promise<void> {
  const { lockId, timeoutMs, pollMs = 500, logger } = options;
  const startedAt = Date.now();
  try {
    await pRetry(
      async () => {
        const { rows } = await client.query<{ acquired: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS acquired', [lockId]);
        if (!rows[0]?.acquired) throw new LockHeld();
      },
      {
        retries: Number.POSITIVE_INFINITY,
        maxRetryTime: timeoutMs,
        // Same wait every time; `randomize` multiplies it by 1 to 2, so this is pollMs give or take a third.
        factor: 1,
        minTimeout: (pollMs * 2) / 3,
        randomize: true,
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

/** Releases the lock; a failure is only a warning, since the lock goes with the session anyway. */
export async function releaseAdvisoryLock(client: Queryable, lockId: string, logger: Logger): Promise<void> {
  try {
    await client.query('SELECT pg_advisory_unlock($1::bigint)', [lockId]);
    logger.debug({ event: 'lock_released', lockId }, 'migration lock released');
  } catch (error) {
    logger.warn({ event: 'lock_release_failed', lockId, err: error }, 'could not release the migration lock; it ends with the connection');
  }
}

/** Runs `fn` while holding the lock, releasing it in every case. */
export async function withAdvisoryLock<T>(client: Queryable, options: AdvisoryLockOptions, fn: () => Promise<T>): Promise<T> {
  await acquireAdvisoryLock(client, options);
  try {
    return await fn();
  } finally {
    await releaseAdvisoryLock(client, options.lockId, options.logger);
  }
}
