// knex's history: `knex_migrations` (id, name with its extension, batch, migration_time) and `knex_migrations_lock`,
// created and written as knex creates and writes them (or under the knexfile's `tableName` and `schemaName`), so that
// `knex migrate:list` agrees and the project can go back to knex at any time.
import type { Queryable } from '../../database/connection.js';
import type { HistoryLocation, MigrationFile } from '../migration.js';
import type { AppliedMigration } from '../migration.js';
import { type ToolHistory, qualified, tableExists } from './tool-history.js';

/** The history table and its lock table, qualified and quoted. */
export function knexTables(history: HistoryLocation | undefined): { readonly table: string; readonly lock: string } {
  const name = history?.table ?? 'knex_migrations';
  return { table: qualified(name, history?.schema), lock: qualified(`${name}_lock`, history?.schema) };
}

function historyOf(files: readonly MigrationFile[]): HistoryLocation | undefined {
  const first = files[0];
  return first && 'history' in first ? first.history : undefined;
}

/** The batch a run records its migrations in: one more than the last, as `knex migrate:latest` does. */
export async function nextKnexBatch(client: Queryable, table: string): Promise<number> {
  const { rows } = await client.query<{ batch: number }>(`SELECT COALESCE(MAX(batch), 0) + 1 AS batch FROM ${table}`);
  return Number(rows[0]?.batch ?? 1);
}

/** `knex_migrations` as the history. */
export const knexHistory: ToolHistory = {
  tool: 'knex',
  label: 'knex_migrations',
  async ensure(client, files) {
    const history = historyOf(files);
    const { table, lock } = knexTables(history);
    if (history?.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${qualified(history.schema)}`);
    // knex's own columns: increments('id'), string('name'), integer('batch'), timestamp('migration_time').
    await client.query(`CREATE TABLE IF NOT EXISTS ${table} (id serial primary key, name varchar(255), batch integer, migration_time timestamptz)`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${lock} (index serial primary key, is_locked integer)`);
    await client.query(`INSERT INTO ${lock} (is_locked) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM ${lock})`);
  },
  async read(client, files) {
    const { table } = knexTables(historyOf(files));
    if (!(await tableExists(client, table))) return [];
    const { rows } = await client.query<{ name: string; migration_time: Date | null }>(`SELECT name, migration_time FROM ${table} ORDER BY id`);
    // knex keeps no checksum: a changed knex migration is not detected, as with knex itself.
    return rows.map((row): AppliedMigration => ({ name: row.name, checksum: undefined, appliedAt: row.migration_time ?? undefined, durationMs: undefined }));
  },
  async record(client, files) {
    const { table } = knexTables(historyOf(files));
    const batch = await nextKnexBatch(client, table);
    for (const file of files) await client.query(`INSERT INTO ${table} (name, batch, migration_time) VALUES ($1, $2, now())`, [file.name, batch]);
  },
  async remove(client, file) {
    await client.query(`DELETE FROM ${knexTables(historyOf([file])).table} WHERE name = $1`, [file.name]);
  },
};
