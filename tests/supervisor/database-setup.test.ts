// The database half of startup on a real Postgres: the sequence wait → migrate → verify in-process (phases, checks,
// errors, the connections it leaves), then the supervisor's start against histories that do not match the files.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../supervisor/core/config.js';
import { createPhaseMachine, type Phase, type PhaseMachine } from '../../supervisor/core/phases.js';
import { setUpDatabase } from '../../supervisor/database-setup.js';
import { freePort } from '../../supervisor/core/free-port.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { applyMigrations } from '../helpers/migrate.js';
import { eventually, startSupervisor, type SupervisorProcess } from '../helpers/supervisor-process.js';

let db: TestDatabase;
let dir: string;
const running: SupervisorProcess[] = [];

beforeEach(async () => {
  db = await createTestDatabase('prepare_schema');
  dir = await mkdtemp(path.join(os.tmpdir(), 'database-setup-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((sup) => sup.kill()));
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string> = {}): Promise<SupervisorProcess> {
  const sup = await startSupervisor({ env: { DATABASE_URL: db.url, MIGRATIONS_DIR: dir, ...env } });
  running.push(sup);
  return sup;
}

async function history(): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  return rows.map((row) => row.name);
}

const logger = pino({ level: 'silent' });

// setUpDatabase as main.ts runs it, from `starting`; the phases it went through and what it came to.
async function setUp(env: Record<string, string> = {}, options: { phases?: PhaseMachine; signal?: AbortSignal } = {}) {
  const loaded = loadConfig({ DATABASE_URL: db.url, MIGRATIONS_DIR: dir, APP_COMMAND: 'node app.js', MIGRATION_LINT: 'off', DB_CONNECT_TIMEOUT_MS: '1000', ...env });
  const config: Config = { ...loaded, databaseUrl: loaded.databaseUrl ?? db.url };
  const phases = options.phases ?? createPhaseMachine(logger);
  const visited: Phase[] = [];
  phases.onTransition(({ to }) => visited.push(to));
  const error = await setUpDatabase({ config, phases, logger, signal: options.signal ?? new AbortController().signal }).then(
    () => undefined,
    (failure: unknown) => failure as Error & { code?: string; hint?: string },
  );
  return { error, visited, phases, checks: phases.snapshot().checks };
}

// The supervisor's own sessions (application_name 'supervisor') on the test database.
const supervisorSessions = (): Promise<number | undefined> =>
  db.scalar<number>("SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'supervisor'");

const parserHelpers = (): string[] =>
  execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').filter((line) => line.includes('sql-parser-process'));

describe('setUpDatabase', () => {
  it('waits, migrates and verifies, in that order, with each check, and holds nothing once it returns', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);\nCREATE INDEX ON first (id);');
    const { error, visited, checks } = await setUp({ REQUIRED_TABLES: 'first' });
    expect(error).toBeUndefined();
    expect(visited).toEqual(['waiting_for_database', 'migrating', 'verifying_schema']);
    expect(checks.database).toMatchObject({ status: 'pass', observedValue: 1, observedUnit: 'attempts' });
    expect(checks.migrations).toMatchObject({ status: 'pass', output: '1 applied, 0 pending' });
    expect(checks.schema).toMatchObject({ status: 'pass', output: '1 required tables present' });
    expect(await supervisorSessions()).toBe(0);
    expect(parserHelpers()).toEqual([]);
  });

  it('goes straight to verifying_schema on an up-to-date database', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    await applyMigrations(db.url, dir);
    const { error, visited } = await setUp();
    expect(error).toBeUndefined();
    expect(visited).toEqual(['waiting_for_database', 'verifying_schema']);
  });

  it('fails in verifying_schema with SUP_ERR_SCHEMA_INVALID naming a required table that no migration creates', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    const { error, phases } = await setUp({ REQUIRED_TABLES: 'first,"Messages"' });
    expect(error).toMatchObject({ code: 'SUP_ERR_SCHEMA_INVALID', message: 'The schema is not what the app needs: missing tables "Messages"' });
    expect(phases.phase).toBe('verifying_schema');
  });

  it('only verifies with MIGRATE_ON_START=false: pending migrations are named and not run', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    const { error, visited, checks } = await setUp({ MIGRATE_ON_START: 'false' });
    expect(error).toMatchObject({ code: 'SUP_ERR_SCHEMA_INVALID', message: expect.stringContaining('pending migrations 0001_first') });
    expect(error?.hint).toContain('MIGRATE_ON_START=false');
    expect(visited).toEqual(['waiting_for_database', 'verifying_schema']);
    expect(checks.migrations).toMatchObject({ status: 'fail', output: '0 applied, 1 pending' });
    expect(await db.scalar("SELECT to_regclass('first')")).toBeNull();
  });

  it('stops waiting on a stop, and neither migrates nor verifies', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    const controller = new AbortController();
    const phases = createPhaseMachine(logger);
    const url = new URL(db.url);
    url.port = String(await freePort());
    const waiting = setUp({ DATABASE_URL: url.toString() }, { phases, signal: controller.signal });
    // Stopped after the first refused attempt, as a SIGTERM during the wait is.
    await eventually(() => (phases.snapshot().checks.database?.status === 'fail' ? true : undefined), 10_000, 'a refused attempt');
    controller.abort();
    const { visited } = await waiting;
    expect(visited).toEqual(['waiting_for_database']);
    expect(await db.scalar("SELECT to_regclass('first')")).toBeNull();
  });

  it('run again while ready (a reload): applies what was added since, and the phase stays ready', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    const phases = createPhaseMachine(logger);
    expect((await setUp({}, { phases })).error).toBeUndefined();
    for (const phase of ['starting_app', 'ready'] as const) phases.transition(phase);
    await writeFile(path.join(dir, '0002_second.sql'), 'CREATE TABLE second (id int);');
    const { error, visited, checks } = await setUp({ REQUIRED_TABLES: 'first,second' }, { phases });
    expect(error).toBeUndefined();
    expect(visited).toEqual([]);
    expect(phases.phase).toBe('ready');
    expect(checks.migrations).toMatchObject({ status: 'pass', output: '2 applied, 0 pending' });
    expect(await db.scalar("SELECT to_regclass('second')::text")).toBe('second');
  });
});

describe('supervisor start: an applied migration without a file', () => {
  it('warns with the migration under `migration` and starts (an older release on a newer schema)', async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    await writeFile(path.join(dir, '0002_newer.sql'), 'CREATE TABLE newer (id int);');
    await applyMigrations(db.url, dir);
    await rm(path.join(dir, '0002_newer.sql'));

    const sup = await start({ REQUIRED_TABLES: 'first' });
    await sup.waitForPhase('ready');
    expect(sup.entries().filter((entry) => entry.event === 'migration_without_file')).toEqual([
      expect.objectContaining({ level: 40, name: 'supervisor', migration: '0002_newer', msg: 'applied migration 0002_newer has no file here' }),
    ]);
  });
});

describe('supervisor start: the order of migrations', () => {
  beforeEach(async () => {
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id int);');
    await writeFile(path.join(dir, '0003_third.sql'), 'CREATE TABLE third (id int);');
    await applyMigrations(db.url, dir);
    await writeFile(path.join(dir, '0002_second.sql'), 'CREATE TABLE second (id int);');
    await writeFile(path.join(dir, '0004_fourth.sql'), 'CREATE TABLE fourth (id int);');
  });

  it('refuses a new file that sorts before the last applied migration: exit 1, nothing run, no lock taken', async () => {
    const sup = await start();
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({
      code: 'SUP_ERR_MIGRATION_OUT_OF_ORDER',
      msg: expect.stringContaining('0002_second.sql sorts before 0003_third, the last applied migration'),
      hint: expect.stringContaining('Rename it to sort after 0003_third'),
    });
    expect(sup.entries().filter((entry) => ['lock_acquired', 'migrated'].includes(String(entry.event)))).toEqual([]);
    expect(await history()).toEqual(['0001_first', '0003_third']);
    expect(await db.scalar("SELECT to_regclass('second')::text || to_regclass('fourth')::text")).toBeNull();
  });

  it('refuses it as well when it only verifies (MIGRATE_ON_START=false)', async () => {
    const sup = await start({ MIGRATE_ON_START: 'false' });
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({ code: 'SUP_ERR_MIGRATION_OUT_OF_ORDER' });
  });
});
