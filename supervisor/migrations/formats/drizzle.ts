// drizzle-kit's layout and drizzle-orm's history: the `out` folder's `meta/_journal.json` lists `<tag>.sql` files
// (statements separated by `--> statement-breakpoint`), and `drizzle.__drizzle_migrations` records each applied one
// as drizzle-orm's migrator does: the SHA-256 of the file as `hash`, the journal's `when` as `created_at`.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SupervisorError } from '../../core/errors.js';
import { findProjectMigrations } from '../../core/project-tools.js';
import type { HistoryLocation, MigrationFile, ToolSqlMigration } from '../migration.js';
import type { AppliedMigration } from '../migration.js';
import { type ToolHistory, qualified, tableExists } from './tool-history.js';

interface JournalEntry {
  readonly tag: string;
  readonly when: number;
}

function invalid(message: string, hint: string): SupervisorError {
  return new SupervisorError(ErrorCodes.MIGRATION_INVALID, message, { hint });
}

/** The journal's migrations, in the journal's order, each with the hash drizzle-orm records for it. */
export async function readDrizzleMigrations(dir: string, projectDir: string): Promise<ToolSqlMigration[]> {
  const journalFile = path.join(dir, 'meta', '_journal.json');
  let entries: JournalEntry[];
  try {
    entries = (JSON.parse(await readFile(journalFile, 'utf8')) as { entries: JournalEntry[] }).entries;
    if (!Array.isArray(entries)) throw new Error('it has no `entries` list');
  } catch (error) {
    throw invalid(`Cannot use drizzle-kit's journal ${journalFile}: ${(error as Error).message}`, 'Restore it as `drizzle-kit generate` wrote it.');
  }
  const project = findProjectMigrations(projectDir);
  const history: HistoryLocation = project?.tool === 'drizzle-kit' ? { table: project.table, schema: project.schema } : {};
  const migrations = await Promise.all(
    entries.map(async (entry): Promise<ToolSqlMigration> => {
      const file = path.join(dir, `${entry.tag}.sql`);
      const sql = await readFile(file, 'utf8').catch(() => {
        throw invalid(`drizzle-kit's journal lists ${entry.tag}, but ${file} is missing`, 'Restore the file, or generate the migrations again with drizzle-kit.');
      });
      return {
        kind: 'drizzle',
        name: entry.tag,
        fileName: `${entry.tag}.sql`,
        path: file,
        sql,
        when: entry.when,
        checksum: createHash('sha256').update(sql).digest('hex'),
        transactional: true,
        hasDown: false,
        history,
      };
    }),
  );
  if (migrations.length === 0) {
    throw invalid(`drizzle-kit's journal ${journalFile} lists no migration yet`, 'Generate the first one with `npx drizzle-kit generate`.');
  }
  return migrations;
}

function tableOf(files: readonly MigrationFile[]): string {
  const history = (files[0] as ToolSqlMigration | undefined)?.history;
  return qualified(history?.table ?? '__drizzle_migrations', history?.schema ?? 'drizzle');
}

/** `drizzle.__drizzle_migrations` (or the table drizzle.config names) as the history. */
export const drizzleHistory: ToolHistory = {
  tool: 'drizzle-kit',
  label: 'drizzle.__drizzle_migrations',
  async ensure(client, files) {
    // As drizzle-orm's migrator creates them.
    const history = (files[0] as ToolSqlMigration | undefined)?.history;
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${qualified(history?.schema ?? 'drizzle')}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${tableOf(files)} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)`);
  },
  async read(client, files) {
    const table = tableOf(files);
    if (!(await tableExists(client, table))) return [];
    const { rows } = await client.query<{ hash: string; created_at: string }>(`SELECT hash, created_at FROM ${table} ORDER BY created_at, id`);
    // drizzle-orm knows a migration by its `when`: the row with the same created_at is its row.
    const byWhen = new Map(files.map((file) => [String((file as ToolSqlMigration).when), file]));
    return rows.map(
      (row): AppliedMigration => ({
        name: byWhen.get(String(row.created_at))?.name ?? `(created_at ${row.created_at})`,
        checksum: row.hash,
        appliedAt: undefined,
        durationMs: undefined,
      }),
    );
  },
  async record(client, files) {
    for (const file of files) {
      await client.query(`INSERT INTO ${tableOf(files)} ("hash", "created_at") VALUES ($1, $2)`, [file.checksum, (file as ToolSqlMigration).when]);
    }
  },
  async remove(client, file) {
    await client.query(`DELETE FROM ${tableOf([file])} WHERE created_at = $1`, [(file as ToolSqlMigration).when]);
  },
};
