import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { OwnConnection } from '../../supervisor/database/connection.js';

/** A database of its own for one test or file, dropped when done. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /** The first column of the first row (undefined when there is none). */
  scalar<T = unknown>(sql: string, params?: unknown[]): Promise<T | undefined>;
  /** Advisory locks held in this database (pg_locks lists the whole server's). */
  advisoryLocks(): Promise<number>;
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function asAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// Creates an empty database with a unique name on the test server.
export async function createTestDatabase(prefix = 'test'): Promise<TestDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await asAdmin((client) => client.query(`CREATE DATABASE "${name}"`));
  const url = withDatabase(inject('adminDatabaseUrl'), name);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // pool.end() can settle before its connections have closed; the forced DROP then ends them, which is expected.
  pool.on('error', () => {});
  return {
    name,
    url,
    query: (sql, params) => pool.query(sql, params),
    async scalar<T>(sql: string, params?: unknown[]) {
      const { rows } = await pool.query({ text: sql, values: params, rowMode: 'array' });
      return (rows[0] as unknown[] | undefined)?.[0] as T | undefined;
    },
    async advisoryLocks() {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      );
      return rows[0]?.n ?? 0;
    },
    async drop() {
      await pool.end();
      await asAdmin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

/** A connection of its own to `url`, as the supervisor opens one to hold the migration lock. */
export async function openOwnConnection(url: string): Promise<OwnConnection> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return { query: client.query.bind(client) as OwnConnection['query'], close: () => client.end() };
}
