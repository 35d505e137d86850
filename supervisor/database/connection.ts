// The one place the supervisor turns DATABASE_URL into pg settings, so every connection is configured alike.
import pg from 'pg';
import { ErrorCodes, SupervisorError } from '../core/errors.js';
import type { Logger } from 'pino';

/** What may run queries: a pinned pool client or a plain client. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

/** A connection of one's own (e.g. to hold the migration lock), ended by `close`. */
export interface OwnConnection extends Queryable {
  close(): Promise<void>;
}

/**
 * Rejects with SUP_ERR_DIRECT_URL_REQUIRED when `client` does not reach the server directly: the server
 * sees it come from another port than the one it uses here, the sign of a pooler (or another proxy) in
 * between, which may hand each statement to a different session. `reason` says what needs a session.
 */
export async function requireDirectSession(client: pg.ClientBase, reason: string): Promise<void> {
  const { rows } = await client.query<{ port: number | null }>('SELECT inet_client_port() AS port');
  const serverSees = rows[0]?.port ?? null;
  // pg keeps its socket on the client's connection; a Unix socket has no port, and is direct.
  const localPort = (client as unknown as { connection?: { stream?: { localPort?: number } } }).connection?.stream?.localPort;
  if (serverSees === null || localPort === undefined || serverSees === localPort) return;
  throw new SupervisorError(
    ErrorCodes.DIRECT_URL_REQUIRED,
    `${reason} needs a database session of its own, but this connection goes through a pooler or proxy ` +
      `(the server sees it come from port ${serverSees}, not ${localPort})`,
    {
      hint:
        'Set DIRECT_URL to a direct connection string for the supervisor (Supabase: the direct or session pooler URL on port 5432; ' +
        'Neon: the URL without -pooler); the app keeps DATABASE_URL. If this connection is direct after all, set DIRECT_URL to it.',
    },
  );
}

/** A connection taken from `pool` for good: `close` discards it rather than returning it to the pool. */
export async function connectionOf(pool: pg.Pool): Promise<OwnConnection> {
  const client = await pool.connect();
  return { query: client.query.bind(client) as Queryable['query'], close: async () => client.release(true) };
}

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
