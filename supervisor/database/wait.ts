// Waits for Postgres to accept connections: retries what may pass, fails fast on what will not.
import pg from 'pg';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import { connectionOptions, describeTarget } from './connection.js';
import { tlsFailure } from './tls.js';
import { ErrorCodes, SupervisorError } from '../core/errors.js';

export interface DatabaseWaitOptions {
  readonly databaseUrl: string;
  /** The setting that holds `databaseUrl`, named in hints. @default 'DATABASE_URL' */
  readonly variable?: string;
  /** Total budget for all attempts. */
  readonly timeoutMs: number;
  /** Budget for one attempt's connect. */
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
  /** @default 250 — first delay; doubles (with jitter) up to `maxDelayMs`. */
  readonly minDelayMs?: number;
  /** @default 2000 — short, so that a database that comes back is noticed within moments. */
  readonly maxDelayMs?: number;
  readonly onAttemptFailed?: (attempt: number, reason: string) => void;
  readonly signal?: AbortSignal;
}

/**
 * Turns errors that no retry can fix into a SupervisorError that says what to change; undefined otherwise.
 * `variable` names the setting that holds `databaseUrl`, for the hints.
 */
export function permanentFailure(error: unknown, databaseUrl: string, variable = 'DATABASE_URL'): SupervisorError | undefined {
  // First: a server that requires TLS refuses a plain connection with 28000, the code of a refused user.
  const tls = tlsFailure(error, databaseUrl, variable);
  if (tls) return tls;
  const { code, message = '' } = error as { code?: string; message?: string };
  const target = describeTarget(databaseUrl);
  if (code === '28P01' || code === '28000') {
    return new SupervisorError(
      ErrorCodes.DB_AUTH_FAILED,
      `Postgres at ${target.host} refused user "${target.user}": ${message}`,
      {
        cause: error,
        hint: `Check the user and password in ${variable} (on Render, link it with fromDatabase so it stays current).`,
      },
    );
  }
  if (code === '3D000') {
    return new SupervisorError(ErrorCodes.DB_NOT_FOUND, `Database "${target.database}" does not exist on ${target.host}`, {
      cause: error,
      hint: `Create the database or fix its name at the end of ${variable}.`,
    });
  }
  return undefined;
}

/**
 * One connection and `SELECT 1`, on a connection of its own that is closed after; rejects with pg's error. Each step
 * is bounded by `connectTimeoutMs`: a server that accepts the connection and then never answers (a partition after
 * connect, a pooler queuing with its server gone) fails the attempt instead of holding it for ever.
 */
export async function pingDatabase(options: Pick<DatabaseWaitOptions, 'databaseUrl' | 'connectTimeoutMs'>): Promise<void> {
  const client = new pg.Client({ ...connectionOptions(options.databaseUrl, options.connectTimeoutMs), query_timeout: options.connectTimeoutMs });
  client.on('error', () => {}); // a late socket error after a failed attempt is already reported
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await closeWithin(client, options.connectTimeoutMs);
  }
}

// pg's end() waits for the server to close its side, which a server that does not answer never does.
async function closeWithin(client: pg.Client, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const ended = await Promise.race([
    client.end().then(() => true, () => true),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!ended) (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** Resolves once `SELECT 1` succeeds; throws SUP_ERR_DB_* when it cannot. */
export async function waitForDatabase(options: DatabaseWaitOptions): Promise<{ attempts: number }> {
  const { logger, databaseUrl, timeoutMs } = options;
  let attempts = 0;
  try {
    await pRetry(
      async () => {
        attempts++;
        try {
          await pingDatabase(options);
        } catch (error) {
          const permanent = permanentFailure(error, databaseUrl, options.variable);
          throw permanent ? new AbortError(permanent) : error;
        }
      },
      {
        retries: Number.POSITIVE_INFINITY,
        factor: 2,
        minTimeout: options.minDelayMs ?? 250,
        maxTimeout: options.maxDelayMs ?? 2_000,
        randomize: true,
        maxRetryTime: timeoutMs,
        signal: options.signal,
        onFailedAttempt: ({ error, attemptNumber }) => {
          const reason = (error as { code?: string }).code ?? error.message;
          logger.warn(
            { event: 'database_unavailable', attempt: attemptNumber, reason, err: error },
            `database not reachable yet (attempt ${attemptNumber}): ${error.message}`,
          );
          options.onAttemptFailed?.(attemptNumber, reason);
        },
      },
    );
  } catch (error) {
    if (error instanceof SupervisorError || options.signal?.aborted) throw error;
    const target = describeTarget(databaseUrl);
    throw new SupervisorError(
      ErrorCodes.DB_UNAVAILABLE,
      `Postgres at ${target.host} did not accept connections within ${timeoutMs} ms (${attempts} attempts): ${(error as Error).message}`,
      { cause: error, hint: 'Check that the database is running and reachable from here, or raise DB_WAIT_TIMEOUT_MS.' },
    );
  }
  return { attempts };
}
