// What a migration is, whatever its format: the files' shapes (see files.ts, script-files.ts, formats/), a history
// row (see history.ts), and the name and checksum that tie the two together. Imports nothing of the folder.
import { createHash } from 'node:crypto';

/**
 * `module`: umzug style, `up({ context })` with a pg client; `sequelize`: sequelize-cli's `up(queryInterface, Sequelize)`;
 * `knex`: `up(knex)`; `node-pg-migrate`: `up(pgm)`.
 */
export type ScriptKind = 'module' | 'sequelize' | 'knex' | 'node-pg-migrate';

/** Plain SQL migrations of another tool, kept in its own history: Prisma's folders, drizzle-kit's journal. */
export type ToolSqlKind = 'prisma' | 'drizzle';

/**
 * What a folder holds: SQL files, JS/TS modules run with a pg client (umzug style), the migrations of sequelize-cli,
 * knex or node-pg-migrate, or the SQL of Prisma or drizzle-kit.
 */
export type MigrationKind = 'sql' | ScriptKind | ToolSqlKind;

/** Where another tool keeps its history, when its configuration moves it (knex `tableName`, drizzle `migrations.schema`…). */
export interface HistoryLocation {
  readonly table?: string;
  readonly schema?: string;
}

interface MigrationBase {
  /** What keys the history: the file name without extension (`schema_migrations`), or with it (`SequelizeMeta`, as sequelize-cli keeps it). */
  readonly name: string;
  readonly fileName: string;
  readonly path: string;
  /** False when the migration cannot run inside the runner's transaction (`-- migrate:no-transaction`, or a sequelize-cli migration that opens its own). */
  readonly transactional: boolean;
  /** SHA-256 of the file with line endings normalised, so a checkout with CRLF is not a "change". */
  readonly checksum: string;
  /** Checksums recorded for the same migration that also match it (pg_dump's `\restrict` key, Prisma's checksum of CRLF files). */
  readonly alsoAccepted?: readonly string[];
  /** Whether it has a down step (`-- migrate:down` section, `down` export). */
  readonly hasDown: boolean;
}

/** One SQL migration file, parsed. */
export interface SqlMigration extends MigrationBase {
  readonly kind: 'sql';
  readonly up: string;
  readonly down: string | undefined;
  /** The file's line numbers where the up and down SQL start, so that errors can point into the file. */
  readonly firstLine: { readonly up: number; readonly down: number | undefined };
}

/** A JS/TS migration, loaded only when it runs. */
export interface ScriptMigration extends MigrationBase {
  readonly kind: ScriptKind;
  /** knex and node-pg-migrate: where the tool keeps its history. */
  readonly history?: HistoryLocation;
}

/** One migration of Prisma (`<ts>_<name>/migration.sql`) or drizzle-kit (`<tag>.sql` in its journal), run as one script. */
export interface ToolSqlMigration extends MigrationBase {
  readonly kind: ToolSqlKind;
  readonly sql: string;
  /** drizzle-kit: the journal's `when`, which drizzle's history records as `created_at`. */
  readonly when?: number;
  readonly history?: HistoryLocation;
}

/** One migration file of any kind; one folder holds one kind. */
export type MigrationFile = SqlMigration | ScriptMigration | ToolSqlMigration;

/** Whether the migration is code (loaded when it runs) rather than SQL. */
export function isScriptMigration(file: MigrationFile): file is ScriptMigration {
  return file.kind !== 'sql' && file.kind !== 'prisma' && file.kind !== 'drizzle';
}

/** One applied migration, as recorded. SequelizeMeta records only the name. */
export interface AppliedMigration {
  readonly name: string;
  readonly checksum: string | undefined;
  readonly appliedAt: Date | undefined;
  readonly durationMs: number | undefined;
}

/** SHA-256 of a migration's text with line endings normalised, so a checkout with CRLF is not a "change". */
export function checksumOf(content: string): string {
  return createHash('sha256').update(content.replace(/\r\n/g, '\n')).digest('hex');
}

/** The file name without its extension: what keys `schema_migrations`. */
export function stripExtension(fileName: string): string {
  return fileName.replace(/\.[^.]+$/, '');
}
