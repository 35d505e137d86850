// The history tables of other tools, kept exactly as each tool keeps them, behind one shape: the runner reads,
// writes and deletes history rows without knowing whose table it is.
import type { Queryable } from '../../database/connection.js';
import type { AppliedMigration } from '../migration.js';
import type { MigrationFile } from '../migration.js';

/** One tool's history table. `record` and `remove` run inside the caller's transaction. */
export interface ToolHistory {
  /** The tool as users know it: `Prisma`, `knex`. */
  readonly tool: string;
  /** The table as the tool's documentation names it (`_prisma_migrations`), for messages. */
  readonly label: string;
  /** Creates the table (and what goes with it) when missing, as the tool creates it. */
  ensure(client: Queryable, files: readonly MigrationFile[]): Promise<void>;
  /** The applied migrations in the order they were applied; empty without the table. */
  read(client: Queryable, files: readonly MigrationFile[]): Promise<AppliedMigration[]>;
  /** Records `files` as applied, together (one knex batch). */
  record(client: Queryable, files: readonly MigrationFile[]): Promise<void>;
  remove(client: Queryable, file: MigrationFile): Promise<void>;
}

/** `"schema"."table"` (or `"table"`), quoted as identifiers. */
export function qualified(table: string, schema?: string): string {
  const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`;
  return schema ? `${quote(schema)}.${quote(table)}` : quote(table);
}

/** Whether the table exists (found on the search_path when it has no schema). */
export async function tableExists(client: Queryable, table: string): Promise<boolean> {
  const { rows } = await client.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [table]);
  return rows[0]?.present ?? false;
}
