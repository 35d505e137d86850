// The one place the supervisor turns DATABASE_URL into pg settings, so every connection is configured alike.
import { createRequire } from 'node:module';
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

// pg's own parser of connection strings, required: its older versions are CommonJS with no named export.
const { parse } = createRequire(import.meta.url)('pg-connection-string') as typeof import('pg-connection-string');

// The connection string's TLS parameters, which pg-connection-string turns into the `ssl` options.
const TLS_PARAMETERS = ['ssl', 'sslmode', 'sslcert', 'sslkey', 'sslrootcert', 'sslnegotiation', 'uselibpqcompat'];

/**
 * pg client settings from the connection string, its TLS options read by pg's own parser (sslmode and friends)
 * and given apart with the host name that the server's certificate must name: pg before 8.23.1 checks a
 * certificate against `localhost` when the host is an IP address, and the supervisor runs with the user's pg.
 */
export function connectionOptions(databaseUrl: string, connectTimeoutMs: number): pg.ClientConfig {
  const { ssl, host, sslnegotiation } = parse(databaseUrl) as { ssl?: pg.ClientConfig['ssl']; host?: string | null; sslnegotiation?: pg.ClientConfig['sslnegotiation'] };
  const url = new URL(databaseUrl);
  for (const name of TLS_PARAMETERS) url.searchParams.delete(name);
  return {
    connectionString: url.href,
    ...(ssl === undefined ? {} : { ssl: typeof ssl === 'object' && host ? { ...ssl, host } : ssl }),
    ...(sslnegotiation === undefined ? {} : { sslnegotiation }),
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
