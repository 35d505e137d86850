// The history: `schema_migrations` for SQL files and JS/TS modules, sequelize-cli's own `SequelizeMeta` for its
// migrations, and each other tool's own table for its migrations (see formats/); one row per applied migration,
// written with it (in its transaction, unless it cannot have one).
import type { Queryable } from '../database/connection.js';
import type { AppliedMigration, MigrationFile, MigrationKind } from './migration.js';
import { toolHistoryOf } from './formats/index.js';

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

/**
 * The history of a folder of `kind` (whose `files` say where another tool keeps it) in the given order; empty when
 * its table does not exist yet (a fresh database).
 */
export async function readHistory(
  client: Queryable,
  order: HistoryOrder = 'name',
  kind: MigrationKind = 'sql',
  files: readonly MigrationFile[] = [],
): Promise<AppliedMigration[]> {
  if (kind === 'sequelize') return readSequelizeHistory(client);
  const tool = toolHistoryOf(kind);
  if (tool) {
    const rows = await tool.read(client, files);
    return order === 'applied' ? rows : [...rows].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
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

/**
 * `schema_migrations` qualified with the schema it is in, found before a migration runs: a migration may change the
 * search_path (pg_dump's `set_config('search_path', '', false)`), and its history row must still find the table.
 */
export async function historyTableName(client: Queryable): Promise<string> {
  const { rows } = await client.query<{ name: string | null }>(
    "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
      "WHERE c.oid = to_regclass('schema_migrations')",
  );
  return rows[0]?.name ?? 'schema_migrations';
}

export async function recordApplied(
  client: Queryable,
  migration: { name: string; checksum: string },
  durationMs: number,
  table = 'schema_migrations',
): Promise<void> {
  await client.query(`INSERT INTO ${table} (name, checksum, duration_ms) VALUES ($1, $2, $3)`, [
    migration.name,
    migration.checksum,
    Math.round(durationMs),
  ]);
}

export async function deleteApplied(client: Queryable, name: string, table = 'schema_migrations'): Promise<void> {
  await client.query(`DELETE FROM ${table} WHERE name = $1`, [name]);
}

/** sequelize-cli's history table, created exactly as sequelize-cli creates it (so either can create it first). */
export const SEQUELIZE_META_DDL = 'CREATE TABLE IF NOT EXISTS "SequelizeMeta" ("name" VARCHAR(255) NOT NULL UNIQUE, PRIMARY KEY ("name"))';

/** The names in SequelizeMeta, in name order as sequelize-cli reads them; empty without the table. */
export async function readSequelizeHistory(client: Queryable): Promise<AppliedMigration[]> {
  const { rows } = await client.query<{ present: boolean }>(`SELECT to_regclass('"SequelizeMeta"') IS NOT NULL AS present`);
  if (!rows[0]?.present) return [];
  const result = await client.query<{ name: string }>('SELECT name FROM "SequelizeMeta" ORDER BY name COLLATE "C"');
  return result.rows.map((row) => ({ name: row.name, checksum: undefined, appliedAt: undefined, durationMs: undefined }));
}

/** Creates the history table of a folder of `kind` when it is missing, as its tool creates it. */
export async function ensureHistoryTableOf(client: Queryable, kind: MigrationKind, files: readonly MigrationFile[] = []): Promise<void> {
  const tool = toolHistoryOf(kind);
  if (tool) await tool.ensure(client, files);
  else await (kind === 'sequelize' ? client.query(SEQUELIZE_META_DDL) : ensureHistoryTable(client));
}

/** The history table of a folder of `kind`, as users know it. */
export function historyLabelOf(kind: MigrationKind): string {
  return toolHistoryOf(kind)?.label ?? (kind === 'sequelize' ? 'SequelizeMeta' : 'schema_migrations');
}

/** Records migrations as applied without running them (baseline, adoption): every row or none. */
export async function recordWithoutRunning(
  client: Queryable,
  migrations: readonly MigrationFile[],
  kind: MigrationKind = 'sql',
): Promise<void> {
  if (migrations.length === 0) return;
  const tool = toolHistoryOf(kind);
  await client.query('BEGIN');
  try {
    if (tool) await tool.record(client, migrations);
    else for (const migration of migrations) {
      await (kind === 'sequelize'
        ? client.query('INSERT INTO "SequelizeMeta" (name) VALUES ($1)', [migration.name])
        : recordApplied(client, migration, 0));
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
