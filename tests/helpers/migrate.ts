import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { pino } from 'pino';
import { connectionOf } from '../../supervisor/database/connection.js';
import { readMigrationFiles } from '../../supervisor/migrations/files.js';
import { migrateToLatest } from '../../supervisor/migrations/runner.js';

/** The project's own migrations folder. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Brings a test database to the latest schema with the supervisor's own migrator. */
export async function applyMigrations(databaseUrl: string, migrationsDir = MIGRATIONS_DIR): Promise<string[]> {
  // Two connections, as the supervisor has: one migrates, the other holds the lock.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  // pool.end() can settle before its connections have closed; a forced DROP of the database then ends them.
  pool.on('error', () => {});
  const client = await pool.connect();
  try {
    return await migrateToLatest(client, await readMigrationFiles(migrationsDir), {
      openLockConnection: () => connectionOf(pool),
      logger: pino({ level: 'silent' }),
      lockTimeoutMs: 10_000,
      statementTimeoutMs: 0,
      lockWaitTimeoutMs: 60_000,
    });
  } finally {
    client.release();
    await pool.end();
  }
}
