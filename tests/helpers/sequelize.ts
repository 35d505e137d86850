import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { TestDatabase } from './database.js';
import { MIGRATIONS_DIR } from './migrate.js';

/** How the project's migrations would map to the sequelize-cli migrations of an app switching over. */
export const SEQUELIZE_MAP = {
  '0001_create_messages': ['20240101120000-create-messages.js'],
  '0002_create_activities': ['20240102120000-create-activities.js'],
  '0003_create_kanban': ['20240103120000-create-kanban-columns.js', '20240103120500-create-kanban-tasks.js'],
} as const;

/** Every mapped name, plus one sequelize-cli migration that no migration of ours replaces. */
export const ALL_RECORDED: readonly string[] = [...Object.values(SEQUELIZE_MAP).flat(), '20240201090000-seed-demo-data.js'];

/**
 * Fills `dir` with the project's migrations, one written after the switch (`0004_add_pinned`) and,
 * unless `map` is null, `sequelize-map.json`.
 */
export async function writeSwitchingMigrations(dir: string, map: unknown = SEQUELIZE_MAP): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  await writeFile(path.join(dir, '0004_add_pinned.sql'), 'ALTER TABLE messages ADD COLUMN pinned boolean NOT NULL DEFAULT false;');
  if (map !== null) await writeFile(path.join(dir, 'sequelize-map.json'), JSON.stringify(map, null, 2));
}

/**
 * A database as sequelize-cli leaves it: its `SequelizeMeta` table (as sequelize-cli creates it) with
 * `recorded`, the tables its migrations made, and a row of data written before the switch.
 */
export async function prepareSequelizeDatabase(db: TestDatabase, recorded: readonly string[]): Promise<void> {
  await db.query('CREATE TABLE IF NOT EXISTS "SequelizeMeta" ("name" VARCHAR(255) NOT NULL UNIQUE, PRIMARY KEY ("name"))');
  for (const name of recorded) await db.query('INSERT INTO "SequelizeMeta" (name) VALUES ($1)', [name]);
  for (const file of ['0001_create_messages.sql', '0002_create_activities.sql', '0003_create_kanban.sql']) {
    const sql = await readFile(path.join(MIGRATIONS_DIR, file), 'utf8');
    await db.query(sql.split('-- migrate:down')[0]!);
  }
  await db.query("INSERT INTO messages (author, body) VALUES ('ada', 'written before the switch')");
}
