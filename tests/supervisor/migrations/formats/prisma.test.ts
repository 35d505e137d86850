// Prisma projects run as they are: prisma/migrations/<ts>_<name>/migration.sql found from prisma/schema.prisma, and
// _prisma_migrations kept as Prisma keeps it (its CLI cannot run here: it downloads its engine), so the rows are
// checked against Prisma's own table definition and checksum (SHA-256 of migration.sql).
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../../supervisor/core/errors.js';
import { createTestDatabase, type TestDatabase } from '../../../helpers/database.js';
import { copyToolProject, migrateToolProject, type ToolProject } from '../../../helpers/tool-project.js';

// _prisma_migrations as Prisma 2.x–6.x creates it on PostgreSQL (prisma-engines, sql-migration-connector).
const PRISMA_DDL = `CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ,
    "migration_name" VARCHAR(255) NOT NULL,
    "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ,
    "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;
const NAMES = ['20240101120000_init', '20240102120000_add_pinned'];

let db: TestDatabase;
let project: ToolProject;

beforeEach(async () => {
  db = await createTestDatabase('prisma');
  project = await copyToolProject('prisma-project');
});
afterEach(async () => {
  await db.drop();
  await project.remove();
});

async function checksumOf(name: string): Promise<string> {
  return createHash('sha256').update(await readFile(path.join(project.migrationsDir, name, 'migration.sql'))).digest('hex');
}

// What `prisma migrate deploy` would have left: the schema, and one finished row per migration.
async function migrateAsPrisma(names: readonly string[]): Promise<void> {
  await db.query(PRISMA_DDL);
  for (const name of names) {
    await db.query(await readFile(path.join(project.migrationsDir, name, 'migration.sql'), 'utf8'));
    await db.query(
      'INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES (gen_random_uuid(), $1, now(), $2, now(), 1)',
      [await checksumOf(name), name],
    );
  }
}

async function columnsOf(table: string): Promise<unknown[]> {
  const { rows } = await db.query(
    'SELECT column_name, data_type, character_maximum_length, is_nullable, column_default FROM information_schema.columns WHERE table_name = $1 ORDER BY column_name',
    [table],
  );
  return rows;
}

describe('Prisma migrations', () => {
  it('are found from prisma/schema.prisma without MIGRATIONS_DIR', () => {
    expect(project.migrationsDir).toBe(path.join(project.dir, 'prisma/migrations'));
  });

  it("bring a fresh database up to date with _prisma_migrations written as Prisma writes it", async () => {
    const { applied } = await migrateToolProject(db.url, project);
    expect(applied).toEqual(NAMES);
    const { rows } = await db.query(
      'SELECT id, checksum, migration_name, logs, rolled_back_at, applied_steps_count, finished_at >= started_at AS finished FROM "_prisma_migrations" ORDER BY started_at, migration_name',
    );
    expect(rows).toEqual(
      await Promise.all(
        NAMES.map(async (name) => ({
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          checksum: await checksumOf(name),
          migration_name: name,
          logs: null,
          rolled_back_at: null,
          applied_steps_count: 1,
          finished: true,
        })),
      ),
    );
    // The table as Prisma itself defines it, column for column.
    const ours = await columnsOf('_prisma_migrations');
    const other = await createTestDatabase('prisma_reference');
    try {
      await other.query(PRISMA_DDL);
      const { rows: reference } = await other.query(
        "SELECT column_name, data_type, character_maximum_length, is_nullable, column_default FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY column_name",
      );
      expect(ours).toEqual(reference);
    } finally {
      await other.drop();
    }
    expect(await db.scalar('SELECT pinned FROM "Message" LIMIT 0')).toBeUndefined();
  });

  it('re-run nothing on a database Prisma migrated, and apply a new migration once', async () => {
    await migrateAsPrisma(NAMES);
    expect((await migrateToolProject(db.url, project)).applied).toEqual([]);

    await mkdir(path.join(project.migrationsDir, '20240103120000_add_labels'));
    await writeFile(path.join(project.migrationsDir, '20240103120000_add_labels/migration.sql'), 'CREATE TABLE "Label" ("id" SERIAL PRIMARY KEY);\n');
    expect((await migrateToolProject(db.url, project)).applied).toEqual(['20240103120000_add_labels']);
    expect((await migrateToolProject(db.url, project)).applied).toEqual([]);
    expect(await db.scalar('SELECT count(*)::int FROM "_prisma_migrations" WHERE migration_name = $1', ['20240103120000_add_labels'])).toBe(1);
  });

  it('leave nothing of a failing migration: no table, no row, and the line named', async () => {
    await migrateToolProject(db.url, project);
    await cp(path.join(project.dir, 'failing'), project.migrationsDir, { recursive: true });
    const failure = await migrateToolProject(db.url, project).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: ErrorCodes.MIGRATION_FAILED, message: expect.stringContaining('at line 10 of 20240103120000_add_labels_fails_halfway/migration.sql') });
    expect(await db.scalar(`SELECT to_regclass('"Label"')::text`)).toBeNull();
    expect(await db.scalar('SELECT count(*)::int FROM "_prisma_migrations"')).toBe(2);
  });

  it("stop at a migration Prisma left failed, with Prisma's own advice", async () => {
    await migrateAsPrisma(NAMES.slice(0, 1));
    await db.query(
      "INSERT INTO \"_prisma_migrations\" (id, checksum, migration_name, logs, started_at, applied_steps_count) VALUES (gen_random_uuid(), $1, $2, 'error', now(), 0)",
      [await checksumOf(NAMES[1]!), NAMES[1]],
    );
    const failure = await migrateToolProject(db.url, project).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: ErrorCodes.MIGRATION_LEFT_FAILED, hint: expect.stringContaining(`prisma migrate resolve --rolled-back ${NAMES[1]}`) });

    // Resolved as Prisma does it (rolled back): the migration runs again.
    await db.query('UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE finished_at IS NULL');
    expect((await migrateToolProject(db.url, project)).applied).toEqual([NAMES[1]]);
  });

  it('refuse an applied migration.sql that changed', async () => {
    await migrateToolProject(db.url, project);
    await writeFile(path.join(project.migrationsDir, NAMES[0]!, 'migration.sql'), '-- edited\nSELECT 1;\n');
    await mkdir(path.join(project.migrationsDir, '20240103120000_next'));
    await writeFile(path.join(project.migrationsDir, '20240103120000_next/migration.sql'), 'SELECT 1;\n');
    await expect(migrateToolProject(db.url, project)).rejects.toMatchObject({ code: ErrorCodes.CHECKSUM_MISMATCH });
  });
});

describe('Prisma migrations and the migrate CLI', () => {
  it('`migrate create` refuses to write into prisma/migrations and names prisma migrate dev', async () => {
    const { createMigrationFile } = await import('../../../../supervisor/migrations/scaffold.js');
    await expect(createMigrationFile(project.migrationsDir, 'add_tags')).rejects.toMatchObject({
      code: ErrorCodes.USAGE,
      hint: expect.stringContaining('npx prisma migrate dev --name NAME'),
    });
  });

  it('`migrate lint` reads their SQL', async () => {
    const { lintSubjectsOf } = await import('../../../../supervisor/lint/subjects.js');
    const { readMigrationFiles } = await import('../../../../supervisor/migrations/files.js');
    const [subject] = await lintSubjectsOf(await readMigrationFiles(project.migrationsDir));
    expect(subject).toMatchObject({ name: '20240101120000_init', content: expect.stringContaining('CREATE TYPE "Precedence"') });
  });
});

describe('Prisma migrations and the lint at start', () => {
  it('are linted with their folder in the name', async () => {
    const { lintSubjectsOf } = await import('../../../../supervisor/lint/subjects.js');
    const { lintMigrations } = await import('../../../../supervisor/lint/lint-migrations.js');
    const { readMigrationFiles } = await import('../../../../supervisor/migrations/files.js');
    const report = await lintMigrations(await lintSubjectsOf(await readMigrationFiles(project.migrationsDir)));
    expect(report.files.map((file) => [file.fileName, file.linted])).toEqual([
      ['20240101120000_init/migration.sql', true],
      ['20240102120000_add_pinned/migration.sql', true],
    ]);
  });
});
