// What the lint reads of each migration file: the SQL of SQL migrations (Prisma's and drizzle-kit's too); JS/TS,
// sequelize-cli, knex and node-pg-migrate migrations are listed as not linted, since their SQL is known only when they run.
import { readFile } from 'node:fs/promises';
import { type MigrationFile, isScriptMigration } from '../migrations/migration.js';
import type { LintSubject } from './lint-migrations.js';

const NOT_LINTED: Readonly<Record<string, string>> = {
  module: 'a JS/TS migration: its SQL is known only when it runs',
  sequelize: 'a sequelize-cli migration: its SQL is known only when it runs',
};

/** The lint's view of `files`, read from disk. */
export async function lintSubjectsOf(files: readonly MigrationFile[]): Promise<LintSubject[]> {
  return Promise.all(
    files.map(async (file) => ({
      name: file.name,
      fileName: file.fileName,
      transactional: file.transactional,
      ...(!isScriptMigration(file)
        ? { content: await readFile(file.path, 'utf8') }
        : { content: '', notLintable: NOT_LINTED[file.kind] ?? `a ${file.kind} migration: its SQL is known only when it runs` }),
    })),
  );
}
