// drizzle-kit projects run as they are: drizzle.config's `out` folder found without MIGRATIONS_DIR, its journal's SQL
// files (written here by drizzle-kit generate) run in order, drizzle.__drizzle_migrations written as drizzle-orm's
// migrator writes it, so that the migrator (what `drizzle-kit migrate` runs) finds nothing left to do.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../../../supervisor/core/errors.js';
import { createTestDatabase, type TestDatabase } from '../../../helpers/database.js';
import { copyToolProject, migrateToolProject, type ToolProject } from '../../../helpers/tool-project.js';

const TAGS = ['0000_init', '0001_add_labels'];

let db: TestDatabase;
let project: ToolProject;

beforeEach(async () => {
  db = await createTestDatabase('drizzle');
  project = await copyToolProject('drizzle-project');
});
afterEach(async () => {
  await db.drop();
  await project.remove();
});

async function journal(): Promise<{ entries: { idx: number; when: number; tag: string; version: string; breakpoints: boolean }[] }> {
  return JSON.parse(await readFile(path.join(project.migrationsDir, 'meta/_journal.json'), 'utf8'));
}

async function hashOf(tag: string): Promise<string> {
  return createHash('sha256').update(await readFile(path.join(project.migrationsDir, `${tag}.sql`), 'utf8')).digest('hex');
}

// drizzle-orm's own migrator, on the project's folder.
async function migrateWithDrizzle(): Promise<void> {
  const pool = new pg.Pool({ connectionString: db.url, max: 1 });
  try {
    await migrate(drizzle(pool), { migrationsFolder: project.migrationsDir });
  } finally {
    await pool.end();
  }
}

// A migration as drizzle-kit generate adds one: the SQL file and its journal entry.
async function addMigration(tag: string, sql: string): Promise<void> {
  const current = await journal();
  const last = current.entries.at(-1)!;
  current.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1_000, tag });
  await writeFile(path.join(project.migrationsDir, 'meta/_journal.json'), JSON.stringify(current, null, 2));
  await writeFile(path.join(project.migrationsDir, `${tag}.sql`), sql);
}

const historyRows = async (): Promise<unknown[]> =>
  (await db.query('SELECT hash, created_at::text FROM drizzle.__drizzle_migrations ORDER BY created_at')).rows;

describe('drizzle-kit migrations', () => {
  it("are found from drizzle.config's out folder without MIGRATIONS_DIR", () => {
    expect(project.migrationsDir).toBe(path.join(project.dir, 'drizzle'));
  });

  it("bring a fresh database up to date with drizzle-orm's history rows, and drizzle-orm's migrator has nothing left", async () => {
    expect((await migrateToolProject(db.url, project)).applied).toEqual(TAGS);
    const { entries } = await journal();
    const expected = await Promise.all(entries.map(async (entry) => ({ hash: await hashOf(entry.tag), created_at: String(entry.when) })));
    expect(await historyRows()).toEqual(expected);
    await migrateWithDrizzle(); // would fail on `type "precedence" already exists` if it ran anything again
    expect(await historyRows()).toEqual(expected);
  });

  it("re-run nothing on a database drizzle-orm's migrator migrated, and apply a new migration once", async () => {
    await migrateWithDrizzle();
    const before = await historyRows();
    expect((await migrateToolProject(db.url, project)).applied).toEqual([]);
    expect(await historyRows()).toEqual(before);

    await addMigration('0002_add_pinned', 'ALTER TABLE "messages" ADD COLUMN "pinned" boolean DEFAULT false NOT NULL;');
    expect((await migrateToolProject(db.url, project)).applied).toEqual(['0002_add_pinned']);
    expect((await migrateToolProject(db.url, project)).applied).toEqual([]);
    await migrateWithDrizzle();
    expect(await historyRows()).toHaveLength(3);
  });

  it('leave nothing of a failing migration, and name the failing statement’s line', async () => {
    await migrateToolProject(db.url, project);
    await addMigration('0002_fails_halfway', 'CREATE TABLE "tags" ("id" serial PRIMARY KEY);\n--> statement-breakpoint\nINSERT INTO "users" ("nope") VALUES (1);');
    await expect(migrateToolProject(db.url, project)).rejects.toMatchObject({
      code: ErrorCodes.MIGRATION_FAILED,
      message: expect.stringContaining('at line 3 of 0002_fails_halfway.sql'),
    });
    expect(await db.scalar("SELECT to_regclass('tags')::text")).toBeNull();
    expect(await historyRows()).toHaveLength(2);
  });

  it('refuse an applied file that changed', async () => {
    await migrateToolProject(db.url, project);
    await writeFile(path.join(project.migrationsDir, '0001_add_labels.sql'), 'CREATE TABLE "labels" ("id" serial PRIMARY KEY);');
    await addMigration('0002_next', 'SELECT 1;');
    await expect(migrateToolProject(db.url, project)).rejects.toMatchObject({ code: ErrorCodes.CHECKSUM_MISMATCH });
  });
});
