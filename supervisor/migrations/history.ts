// The `schema_migrations` table: one row per applied migration, written with it (in its transaction, unless the file opts out).
import type { Queryable } from '../database/connection.js';

/** One applied migration, as recorded. */
export interface AppliedMigration {
  readonly name: string;
  readonly checksum: string;
  readonly appliedAt: Date;
  readonly durationMs: number;
}

const UNDEFINED_TABLE = '42P01';

export async function ensureHistoryTable(client: Queryable): Promise<void> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS schema_migrations (
      name        text PRIMARY KEY,
      checksum    text        NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now(),
      duration_ms integer     NOT NULL DEFAULT 0
    )`);
}

/**
 * `name`: as the files run (compared like JavaScript sorts them, not in the database's collation).
 * `applied`: as they were applied, rows recorded together (baseline, adoption) by name: what `down` reverts newest first.
 */
export type HistoryOrder = 'name' | 'applied';

/** The history in the given order; empty when the table does not exist yet (a fresh database). */
export async function readHistory(client: Queryable, order: HistoryOrder = 'name'): Promise<AppliedMigration[]> {
  try {
    const { rows } = await client.query<{ name: string; checksum: string; applied_at: Date; duration_ms: number }>(
      'SELECT name, checksum, applied_at, duration_ms FROM schema_migrations ' +
        `ORDER BY ${order === 'applied' ? 'applied_at, ' : ''}name COLLATE "C"`,
    );
    return rows.map((row) => ({
      name: row.name,
      checksum: row.checksum,
      appliedAt: row.applied_at,
      durationMs: row.duration_ms,
    }));
  } catch (error) {
    if ((error as { code?: string }).code === UNDEFINED_TABLE) return [];
    throw error;
  }
}

export async function recordApplied(
  client: Queryable,
  migration: { name: string; checksum: string },
  durationMs: number,
): Promise<void> {
  await client.query('INSERT INTO schema_migrations (name, checksum, duration_ms) VALUES ($1, $2, $3)', [
    migration.name,
    migration.checksum,
    Math.round(durationMs),
  ]);
}

export async function deleteApplied(client: Queryable, name: string): Promise<void> {
  await client.query('DELETE FROM schema_migrations WHERE name = $1', [name]);
}

/** Records migrations as applied without running them (baseline, adoption): every row or none. */
export async function recordWithoutRunning(
  client: Queryable,
  migrations: readonly { name: string; checksum: string }[],
): Promise<void> {
  if (migrations.length === 0) return;
  await client.query('BEGIN');
  try {
    for (const migration of migrations) await recordApplied(client, migration, 0);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
