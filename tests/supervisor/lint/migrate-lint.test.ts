// `health-gate migrate lint` and the lint at start, as a user runs them: real processes, real squawk, a real database.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { runMigrateCli } from '../../helpers/migrate-cli.js';
import { startSupervisor, type SupervisorProcess } from '../../helpers/supervisor-process.js';

let dir: string;
let db: TestDatabase;
const running: SupervisorProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-lint-'));
  db = await createTestDatabase('migrate_lint');
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((sup) => sup.kill()));
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

async function write(files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(dir, name), content);
}

const SAFE = {
  '0001_create_orders.sql': '-- migrate:up\nCREATE TABLE orders (id serial PRIMARY KEY, user_id int, total int);\n\n-- migrate:down\nDROP TABLE orders;\n',
  '0002_index_orders.sql': '-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY orders_user_idx ON orders (user_id);\n',
};
const RISKY = {
  '0003_index_total.sql': 'CREATE INDEX orders_total_idx ON orders (total);\n',
  '0004_widen_total.sql': 'ALTER TABLE orders ALTER COLUMN total TYPE bigint;\n',
  '0005_require_note.sql': 'ALTER TABLE orders ADD COLUMN note text NOT NULL;\n',
};

describe('health-gate migrate lint', () => {
  it('passes a safe set without a word about the timeouts the supervisor sets itself', async () => {
    await write(SAFE);
    const run = await runMigrateCli(['lint', '--all'], { MIGRATIONS_DIR: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Linted 2 of 2 migrations: nothing risky.');
    expect(run.stdout).not.toMatch(/timeout|transaction/i);
  });

  it('fails a risky set naming each file, line and rule, with why and the safe way', async () => {
    await write({ ...SAFE, ...RISKY });
    const run = await runMigrateCli(['lint', '--all'], { MIGRATIONS_DIR: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('0003_index_total.sql:1  require-concurrent-index-creation');
    expect(run.stdout).toContain('0004_widen_total.sql:1  changing-column-type');
    expect(run.stdout).toContain('0005_require_note.sql:1  adding-required-field');
    expect(run.stdout).toContain('safely: CREATE INDEX CONCURRENTLY');
    expect(run.stdout).toContain('SUP_ERR_MIGRATION_RISKY');

    const json = await runMigrateCli(['lint', '--all', '--json'], { MIGRATIONS_DIR: dir });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ risky: 3, accepted: 0 });
  });

  it('passes an accepted risk and shows it as accepted; lints one file by name', async () => {
    await write({ ...SAFE, '0003_index_total.sql': '-- lint:accept require-concurrent-index-creation orders is small\nCREATE INDEX orders_total_idx ON orders (total);\n' });
    const run = await runMigrateCli(['lint', '0003_index_total'], { MIGRATIONS_DIR: dir });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('0003_index_total.sql:2  require-concurrent-index-creation  accepted at line 1: orders is small');
    expect(run.stdout).toContain('nothing risky, 1 accepted');
  });

  it('lints only the pending migrations by default, reading the history from the database', async () => {
    await write(SAFE);
    expect((await runMigrateCli(['up'], { MIGRATIONS_DIR: dir, DATABASE_URL: db.url })).code).toBe(0);
    await write({ '0003_index_total.sql': RISKY['0003_index_total.sql'] });
    const run = await runMigrateCli(['lint'], { MIGRATIONS_DIR: dir, DATABASE_URL: db.url });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('Linted 1 of 1 pending migration: 1 risky statement.');
  });
});

describe('the lint at start', () => {
  it('logs each risk of a pending migration as a warning and migrates anyway', async () => {
    await write({ ...SAFE, '0003_index_total.sql': RISKY['0003_index_total.sql'] });
    const sup = await startSupervisor({ env: { DATABASE_URL: db.url, MIGRATIONS_DIR: dir } });
    running.push(sup);
    await sup.waitForPhase('ready');
    const warnings = sup.entries().filter((entry) => entry.event === 'migration_lint');
    expect(warnings).toEqual([expect.objectContaining({ level: 40, migration: '0003_index_total', rule: 'require-concurrent-index-creation', line: 1 })]);
    expect(await db.scalar("SELECT to_regclass('orders_total_idx')::text")).toBe('orders_total_idx');
  });

  it('with MIGRATION_LINT=error, stops before anything runs', async () => {
    await write({ ...SAFE, ...RISKY });
    const sup = await startSupervisor({ env: { DATABASE_URL: db.url, MIGRATIONS_DIR: dir, MIGRATION_LINT: 'error' } });
    running.push(sup);
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({ code: 'SUP_ERR_MIGRATION_RISKY' });
    expect(await db.scalar("SELECT to_regclass('orders')")).toBeNull();
  });
});
