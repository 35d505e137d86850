// Prisma Migrate's layout and history: `prisma/migrations/<timestamp>_<name>/migration.sql`, and `_prisma_migrations`
// as Prisma (2.x to 6.x) creates and writes it, so that `prisma migrate status` and `prisma migrate deploy` agree.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, SupervisorError } from '../../core/errors.js';
import type { ToolSqlMigration } from '../migration.js';
import type { AppliedMigration } from '../migration.js';
import { type ToolHistory, tableExists } from './tool-history.js';

const TABLE = '"_prisma_migrations"';

// Prisma's own definition of its table (PostgreSQL), so that either Prisma or the supervisor may create it first.
const DDL = `CREATE TABLE IF NOT EXISTS ${TABLE} (
    "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"            VARCHAR(64) NOT NULL,
    "finished_at"         TIMESTAMPTZ,
    "migration_name"      VARCHAR(255) NOT NULL,
    "logs"                TEXT,
    "rolled_back_at"      TIMESTAMPTZ,
    "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Reads `<dir>/<name>/migration.sql` for every migration folder, in name order, as Prisma does. */
export async function readPrismaMigrations(dir: string): Promise<ToolSqlMigration[]> {
  const folders = (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  const migrations: ToolSqlMigration[] = [];
  for (const name of folders) {
    const file = path.join(dir, name, 'migration.sql');
    let content: string;
    try {
      content = await readFile(file, 'utf8');
    } catch {
      throw new SupervisorError(ErrorCodes.MIGRATION_INVALID, `The Prisma migration folder ${path.join(dir, name)} has no migration.sql`, {
        hint: 'Each folder in prisma/migrations holds one migration.sql, as `prisma migrate dev` writes it: restore it or remove the folder.',
      });
    }
    // Prisma's checksum: SHA-256 of the script with line endings normalized; one of the file as it is is accepted too.
    const normalized = sha256(content.replace(/\r\n/g, '\n'));
    migrations.push({
      kind: 'prisma',
      name,
      fileName: `${name}/migration.sql`,
      path: file,
      sql: content,
      checksum: normalized,
      alsoAccepted: [sha256(content)],
      transactional: true,
      hasDown: false,
    });
  }
  if (migrations.length === 0) {
    throw new SupervisorError(ErrorCodes.MIGRATION_INVALID, `The Prisma migrations folder ${dir} holds no migration yet`, {
      hint: 'Create the first one with `npx prisma migrate dev --name init` and commit the folder it writes.',
    });
  }
  return migrations;
}

function leftFailed(names: readonly string[]): SupervisorError {
  return new SupervisorError(
    ErrorCodes.MIGRATION_LEFT_FAILED,
    `_prisma_migrations records ${names.join(', ')} as started and never finished: a Prisma migration failed on this database`,
    {
      hint:
        `Look at what it changed, then tell Prisma: \`npx prisma migrate resolve --rolled-back ${names[0]}\` (undone: it runs again) ` +
        `or \`npx prisma migrate resolve --applied ${names[0]}\` (finished by hand). Nothing else runs until then.`,
    },
  );
}

/** `_prisma_migrations` as the history. */
export const prismaHistory: ToolHistory = {
  tool: 'Prisma',
  label: '_prisma_migrations',
  async ensure(client) {
    await client.query(DDL);
  },
  async read(client) {
    if (!(await tableExists(client, TABLE))) return [];
    const { rows } = await client.query<{ migration_name: string; checksum: string; finished_at: Date | null; started_at: Date; rolled_back_at: Date | null }>(
      `SELECT migration_name, checksum, finished_at, started_at, rolled_back_at FROM ${TABLE} ORDER BY started_at, migration_name COLLATE "C"`,
    );
    // A rolled-back row is history Prisma itself ignores; a row neither finished nor rolled back is a failed migration.
    const failed = rows.filter((row) => row.finished_at === null && row.rolled_back_at === null).map((row) => row.migration_name);
    if (failed.length > 0) throw leftFailed(failed);
    return rows
      .filter((row) => row.rolled_back_at === null)
      .map(
        (row): AppliedMigration => ({
          name: row.migration_name,
          checksum: row.checksum,
          appliedAt: row.finished_at ?? undefined,
          durationMs: row.finished_at ? row.finished_at.getTime() - row.started_at.getTime() : undefined,
        }),
      );
  },
  async record(client, files) {
    // As Prisma writes a successful migration: started at the transaction's start, finished now, one step, no logs.
    for (const file of files) {
      await client.query(
        `INSERT INTO ${TABLE} (id, checksum, started_at, finished_at, migration_name, logs, rolled_back_at, applied_steps_count) ` +
          'VALUES ($1, $2, now(), clock_timestamp(), $3, NULL, NULL, 1)',
        [randomUUID(), file.checksum, file.name],
      );
    }
  },
  async remove(client, file) {
    await client.query(`DELETE FROM ${TABLE} WHERE migration_name = $1`, [file.name]);
  },
};
