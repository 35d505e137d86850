// The one place the supervisor turns DATABASE_URL into pg settings, so every connection is configured alike.
import pg from 'pg';
import type { Logger } from 'pino';

/** What may run queries: a pinned pool client or a plain client. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

export interface DatabaseTarget {
  readonly user: string;
  readonly host: string;
  readonly database: string;
}

/** pg client settings from the connection string (pg parses sslmode and friends itself). */
export function connectionOptions(databaseUrl: string, connectTimeoutMs: number): pg.ClientConfig {
  return {
    connectionString: databaseUrl,
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: 'supervisor',
  };
}

/** Who and where, for messages: never the password. */
export function describeTarget(databaseUrl: string): DatabaseTarget {
  const url = new URL(databaseUrl);
  return {
    user: decodeURIComponent(url.username) || '(default user)',
    host: url.port ? `${url.hostname}:${url.port}` : url.hostname,
    database: decodeURIComponent(url.pathname.slice(1)) || '(default database)',
  };
}

/** A small pool: the supervisor needs one pinned connection for migrations and the lock. */
export function createPool(databaseUrl: string, connectTimeoutMs: number, logger: Logger): pg.Pool {
  const pool = new pg.Pool({ ...connectionOptions(databaseUrl, connectTimeoutMs), max: 2 });
  // An idle connection dropped by the server must not crash the supervisor.
  pool.on('error', (error) => logger.warn({ event: 'pool_error', err: error }, 'idle database connection lost'));
  return pool;
}
