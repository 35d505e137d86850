// The app's one pg pool, built from DATABASE_URL in this module only, plus transactions with retry.
import pg from 'pg';
import type { Logger } from 'pino';
import { isDatabaseUnavailable, isRetryableTransactionError } from './db-errors.js';
import { AppError, ErrorCodes } from './errors.js';

const CONNECT_TIMEOUT_MS = 5_000;
const PING_TIMEOUT_MS = 3_000;
const MAX_TRANSACTION_ATTEMPTS = 10;

/** Thrown inside a transaction when what it read changed before it could lock it: run it again. */
export class RetryTransaction extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RetryTransaction';
  }
}

export interface TransactionOptions {
  /** @default 'read committed' */
  readonly isolation?: 'read committed' | 'repeatable read';
  /** @default false */
  readonly readOnly?: boolean;
}

/** What routes use to reach Postgres. */
export interface Database {
  readonly pool: pg.Pool;
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Runs `work` in one transaction on one connection; retried on deadlocks and RetryTransaction. */
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Resolves when `SELECT 1` succeeds within a few seconds; rejects otherwise. */
  ping(): Promise<void>;
  end(): Promise<void>;
}

/** pg settings for DATABASE_URL; pg reads sslmode (and sslrootcert etc.) from the URL itself. */
export function poolConfig(databaseUrl: string): pg.PoolConfig {
  return {
    connectionString: databaseUrl,
    application_name: 'app',
    max: 10,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  };
}

export function createDatabase(databaseUrl: string, logger: Logger): Database {
  const log = logger.child({ module: 'db' });
  const pool = new pg.Pool(poolConfig(databaseUrl));
  // An idle connection that the server or the network drops must not crash the process.
  pool.on('error', (error) => log.warn({ event: 'pool_error', err: error }, 'idle database connection lost'));

  async function attempt<T>(work: (client: pg.PoolClient) => Promise<T>, options: TransactionOptions): Promise<T> {
    const client = await pool.connect();
    let lost: Error | undefined;
    // A checked-out client has no pool listener; its connection may still die between two queries.
    const onError = (error: Error): void => {
      lost = error;
      log.warn({ event: 'connection_lost', err: error }, 'database connection lost during a transaction');
    };
    client.on('error', onError);
    try {
      const mode = options.readOnly ? ' READ ONLY' : '';
      await client.query(`BEGIN ISOLATION LEVEL ${(options.isolation ?? 'read committed').toUpperCase()}${mode}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      if (!lost && !isDatabaseUnavailable(error)) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => (lost = rollbackError));
      } else {
        lost ??= error as Error;
      }
      throw error;
    } finally {
      client.off('error', onError);
      // Passing an error makes the pool discard the connection instead of reusing it.
      client.release(lost);
    }
  }

  return {
    pool,
    query: (sql, params) => pool.query(sql, params),
    async transaction(work, options = {}) {
      for (let attemptNumber = 1; ; attemptNumber++) {
        try {
          return await attempt(work, options);
        } catch (error) {
          const retry = error instanceof RetryTransaction || isRetryableTransactionError(error);
          if (!retry) throw error;
          if (attemptNumber >= MAX_TRANSACTION_ATTEMPTS) {
            throw new AppError(ErrorCodes.CONFLICT, 'Too many concurrent changes to the same rows; try again', { cause: error });
          }
          log.debug({ event: 'transaction_retry', attempt: attemptNumber, reason: (error as Error).message }, 'retrying transaction');
        }
      }
    },
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        const error = Object.assign(new Error(`The database did not answer within ${PING_TIMEOUT_MS} ms`), { code: 'ETIMEDOUT' });
        timer = setTimeout(() => reject(error), PING_TIMEOUT_MS);
      });
      try {
        await Promise.race([pool.query('SELECT 1'), timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    end: () => pool.end(),
  };
}
