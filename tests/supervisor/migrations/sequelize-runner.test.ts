// sequelize-cli migrations run as they are with the project's sequelize (here the repository's devDependency), their
// history in SequelizeMeta; each with its row in one transaction, so that a failing one leaves nothing behind.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectionOptions } from '../../../supervisor/database/connection.js';
import { readMigrationFiles } from '../../../supervisor/migrations/files.js';
import { baselineTo, migrateToLatest, revertMigrations, withMigrationLock } from '../../../supervisor/migrations/runner.js';
import { openSequelizeRunner } from '../../../supervisor/migrations/sequelize-runner.js';
import { createTestDatabase, openOwnConnection, type TestDatabase } from '../../helpers/database.js';
import { findPgBouncer, startPgBouncer } from '../../helpers/pgbouncer.js';
import { PROJECT_ROOT } from '../../helpers/supervisor-process.js';

const FIXTURE = path.join(PROJECT_ROOT, 'tests/fixtures/sequelize-project');
const NAMES = [
  '20240101120000-create-users.js',
  '20240102120000-create-messages.js',
  '20240102120000-index-messages.js',
  '20240103120000-seed-users.js',
  '20240104120000-add-pinned.js',
];
const pgbouncer = findPgBouncer('the test "sequelize-cli migrations run through a transaction pooler"');

let db: TestDatabase;
let dir: string;
let lines: Record<string, unknown>[];

beforeEach(async () => {
  db = await createTestDatabase('sequelize_runner');
  dir = await mkdtemp(path.join(os.tmpdir(), 'sequelize-migrations-'));
  await cp(path.join(FIXTURE, 'migrations'), dir, { recursive: true });
  lines = [];
});
afterEach(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

function options() {
  return {
    openLockConnection: () => openOwnConnection(db.url),
    logger: pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }),
    lockTimeoutMs: 2_000,
    statementTimeoutMs: 0,
    lockWaitTimeoutMs: 30_000,
    connection: connectionOptions(db.url, 5_000),
    projectDir: PROJECT_ROOT,
  };
}

async function withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const meta = async (): Promise<string[]> =>
  (await db.query<{ name: string }>('SELECT name FROM "SequelizeMeta" ORDER BY name COLLATE "C"')).rows.map((row) => row.name);

describe('sequelize-cli migrations', () => {
  it('are detected as such and keyed by their file names', async () => {
    const files = await readMigrationFiles(dir);
    expect(files.map((file) => [file.kind, file.name, file.transactional])).toEqual(
      NAMES.map((name) => ['sequelize', name, name !== '20240104120000-add-pinned.js']),
    );
  });

  it('run in order, each with its SequelizeMeta row; the one with its own transaction is named in the log', async () => {
    const startedAt = performance.now();
    const applied = await withClient(async (client) => migrateToLatest(client, await readMigrationFiles(dir), options()));
    const durationMs = performance.now() - startedAt;
    expect(applied).toEqual(NAMES);
    expect(await meta()).toEqual(NAMES);
    expect(await db.scalar("SELECT count(*)::int FROM \"Messages\" WHERE body LIKE 'hello from %' AND NOT pinned")).toBe(2);
    expect(await db.scalar("SELECT to_regclass('schema_migrations')")).toBeNull();
    expect(lines.filter((line) => line.event === 'migration_own_transaction').map((line) => line.migration)).toEqual([
      '20240104120000-add-pinned.js',
    ]);
    expect(await db.advisoryLocks()).toBe(0);
    console.log(`sequelize-cli fixture: ${NAMES.length} migrations in ${Math.round(durationMs)} ms`);

    // Nothing pending: nothing runs, and sequelize is not even loaded for it.
    lines.length = 0;
    expect(await withClient(async (client) => migrateToLatest(client, await readMigrationFiles(dir), options()))).toEqual([]);
    expect(await db.scalar('SELECT count(*)::int FROM "Users"')).toBe(2);
  });

  it('a migration failing halfway leaves nothing of it and no SequelizeMeta row, and stops the run', async () => {
    await cp(path.join(FIXTURE, 'failing'), dir, { recursive: true });
    const run = withClient(async (client) => migrateToLatest(client, await readMigrationFiles(dir), options()));
    await expect(run).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_FAILED',
      message: expect.stringMatching(/^Migration 20240105120000-create-labels-fails-halfway\.js failed: .*NoSuchTable.*Nothing of it was applied\.$/),
    });
    expect(await meta()).toEqual(NAMES);
    expect(await db.scalar("SELECT to_regclass('\"Labels\"')")).toBeNull();
    expect(await db.advisoryLocks()).toBe(0);
  });

  it('revert with their down functions, newest first, deleting their SequelizeMeta rows', async () => {
    const files = await readMigrationFiles(dir);
    await withClient(async (client) => migrateToLatest(client, files, options()));
    const reverted = await withClient(async (client) =>
      withMigrationLock(client, { ...options(), kind: 'sequelize' }, () => revertMigrations(client, files, { step: 2 }, options())),
    );
    expect(reverted).toEqual(['20240104120000-add-pinned.js', '20240103120000-seed-users.js']);
    expect(await meta()).toEqual(NAMES.slice(0, 3));
    expect(await db.scalar('SELECT count(*)::int FROM "Users"')).toBe(0);
  });

  it('a migration whose SQL strings control the transaction runs on its own, as sequelize-cli runs it', async () => {
    await writeFile(
      path.join(dir, '20240105120000-converted.js'),
      "module.exports = {\n  async up(queryInterface) {\n    await queryInterface.sequelize.query('START TRANSACTION; CREATE TABLE converted (id int); COMMIT;');\n  },\n};\n",
    );
    const files = await readMigrationFiles(dir);
    expect(files.at(-1)).toMatchObject({ name: '20240105120000-converted.js', transactional: false });
    await withClient(async (client) => migrateToLatest(client, files, options()));
    expect(await meta()).toContain('20240105120000-converted.js');
    expect(lines.filter((line) => line.event === 'migration_own_transaction').map((line) => line.migration)).toContain('20240105120000-converted.js');
  });

  it('a COMMIT the source scan cannot see fails the migration, leaving nothing of it', async () => {
    await writeFile(
      path.join(dir, '20240105120000-hidden-commit.js'),
      "const word = ['COM', 'MIT'].join('');\nmodule.exports = {\n  async up(queryInterface) {\n" +
        "    await queryInterface.sequelize.query('CREATE TABLE hidden (id int)');\n    await queryInterface.sequelize.query(word);\n  },\n};\n",
    );
    const files = await readMigrationFiles(dir);
    expect(files.at(-1)?.transactional).toBe(true);
    await expect(withClient(async (client) => migrateToLatest(client, files, options()))).rejects.toMatchObject({
      code: 'SUP_ERR_MIGRATION_FAILED',
      message: expect.stringContaining("sends `COMMIT` itself, which would end the migration's transaction"),
    });
    expect(await db.scalar("SELECT to_regclass('hidden')")).toBeNull();
    expect(await meta()).toEqual(NAMES);
  });

  it('baseline records them in SequelizeMeta without running them', async () => {
    const files = await readMigrationFiles(dir);
    const recorded = await withClient(async (client) =>
      withMigrationLock(client, { ...options(), kind: 'sequelize' }, () => baselineTo(client, files, '20240101120000-create-users.js', options().logger)),
    );
    expect(recorded).toEqual(['20240101120000-create-users.js']);
    expect(await meta()).toEqual(['20240101120000-create-users.js']);
    expect(await db.scalar("SELECT to_regclass('\"Users\"')")).toBeNull();
  });

  it('says what to install when the project has no sequelize', async () => {
    expect(() => openSequelizeRunner({ ...options(), projectDir: os.tmpdir(), migrationsDir: dir })).toThrow(
      expect.objectContaining({ code: 'SUP_ERR_MIGRATION_INVALID', hint: expect.stringContaining('npm install sequelize pg') }),
    );
  });

  it.runIf(pgbouncer)('run through a transaction pooler (PgBouncer, transaction mode), each migration whole, and a failing one leaves nothing', async () => {
    const bouncer = await startPgBouncer(pgbouncer!, 'transaction');
    try {
      const url = bouncer.url(db.name);
      const viaPooler = { ...options(), openLockConnection: () => openOwnConnection(url), connection: connectionOptions(url, 5_000) };
      await cp(path.join(FIXTURE, 'failing'), dir, { recursive: true });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await expect(migrateToLatest(client, await readMigrationFiles(dir), viaPooler)).rejects.toMatchObject({ code: 'SUP_ERR_MIGRATION_FAILED' });
      } finally {
        await client.end();
      }
      expect(await meta()).toEqual(NAMES);
      expect(await db.scalar("SELECT to_regclass('\"Labels\"')")).toBeNull();
      expect(await db.scalar('SELECT count(*)::int FROM "Users"')).toBe(2);
      expect(await db.advisoryLocks()).toBe(0);
    } finally {
      await bouncer.stop();
    }
  });
});
