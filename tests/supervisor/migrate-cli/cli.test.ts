// `health-gate migrate <command>` as a real process against a real Postgres: output, exit statuses, rows.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_ID } from '../../../supervisor/migrations/advisory-lock.js';
import { checksumOf } from '../../../supervisor/migrations/migration.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { type CliRun, PROJECT_ROOT, runMigrateCli } from '../../helpers/migrate-cli.js';
import { ALL_RECORDED, SEQUELIZE_MAP, prepareSequelizeDatabase, writeSwitchingMigrations } from '../../helpers/sequelize.js';
import { eventually } from '../../helpers/supervisor-process.js';

const FILES: Record<string, string> = {
  '0001_first.sql': '-- migrate:up\nCREATE TABLE first (id int);\n\n-- migrate:down\nDROP TABLE first;\n',
  '0002_second.sql': '-- migrate:up\nCREATE TABLE second (id int);\n\n-- migrate:down\nDROP TABLE second;\n',
  '0003_third.sql': '-- migrate:up\nCREATE TABLE third (id int);\n\n-- migrate:down\nDROP TABLE third;\n',
};

let db: TestDatabase;
let dir: string;

beforeEach(async () => {
  db = await createTestDatabase('migrate_cli');
  dir = await mkdtemp(path.join(os.tmpdir(), 'migrate-cli-'));
  for (const [name, sql] of Object.entries(FILES)) await writeFile(path.join(dir, name), sql);
});
afterEach(async () => {
  await db.drop();
  await rm(dir, { recursive: true, force: true });
});

function cli(args: string[], env: Record<string, string | undefined> = {}, via: 'node' | 'npm' = 'node'): Promise<CliRun> {
  return runMigrateCli(args, { DATABASE_URL: db.url, MIGRATIONS_DIR: dir, REQUIRED_TABLES: 'first,second,third', ...env }, via);
}

async function history(): Promise<string[]> {
  const exists = await db.scalar<string | null>("SELECT to_regclass('schema_migrations')::text");
  if (!exists) return [];
  const { rows } = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
  return rows.map((row) => row.name);
}

async function tables(): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations' ORDER BY 1",
  );
  return rows.map((row) => row.name);
}

describe('migrate CLI: help and usage', () => {
  it('prints the commands with --help and one command with `<command> --help` or `help <command>`, exit 0', async () => {
    const general = await cli(['--help']);
    expect(general.code).toBe(0);
    for (const command of ['status', 'verify', 'up', 'down', 'baseline', 'adopt-sequelize', 'create']) {
      expect(general.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(general.stdout).toContain('64 wrong command line');

    const down = await cli(['down', '--help']);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('Usage: health-gate migrate down [--step N | --to NAME]');
    expect(down.stdout).toContain('--step N');
    expect((await cli(['help', 'baseline'])).stdout).toContain('Usage: health-gate migrate baseline --to NAME');
  });

  it('rejects a wrong command line with SUP_ERR_USAGE and exit 64, before touching the database', async () => {
    const cases: [string[], RegExp][] = [
      [[], /Expected a command/],
      [['migrate'], /Unknown command "migrate"/],
      [['up', '--json'], /up: Unknown option --json$/m],
      [['statsu'], /Unknown command "statsu"; did you mean "status"\?/],
      [['help', 'verfy'], /Unknown command "verfy"; did you mean "verify"\?/],
      [['down', '--stpe', '2'], /down: Unknown option --stpe; did you mean --step\?/],
      [['status', '--MIGRATIONS_DIR', 'db'], /Unknown option --MIGRATIONS_DIR; did you mean --migrations-dir\?/],
      [['down', '--step', '0'], /--step to be a positive integer/],
      [['down', '--step', '1', '--to', '0001_first'], /--step or --to, not both/],
      [['baseline'], /baseline needs --to NAME/],
      [['create'], /exactly one NAME/],
      [['status', 'extra'], /takes no arguments/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(64);
      expect(run.stderr).toMatch(/^SUP_ERR_USAGE: /m);
      expect(run.stderr).toMatch(message);
    }
    expect(await history()).toEqual([]);
  });

  it('checks only its own variables: invalid ones exit 78, those of the supervisor alone are ignored', async () => {
    const invalid = await cli(['status'], { MIGRATION_LOCK_TIMEOUT_MS: 'soon', DATABASE_URL: undefined });
    expect(invalid.code).toBe(78);
    expect(invalid.stderr).toContain('SUP_ERR_CONFIG_INVALID');
    expect(invalid.stderr).toContain('Expected `MIGRATION_LOCK_TIMEOUT_MS` to be a non-negative integer, got `soon`');
    expect(invalid.stderr).toContain('`DATABASE_URL`');

    const unrelated = await cli(['status'], { PORT: 'none', APP_START_TIMEOUT_MS: 'never' });
    expect(unrelated.code).toBe(0);
  });

  it('fails on a database it cannot use without printing the password', async () => {
    const url = new URL(db.url);
    // Keep a password the server accepts (one that trusts local logins ignores it): the database must be what fails.
    if (url.password === '') url.password = 'hunter22secret';
    const password = decodeURIComponent(url.password);
    url.pathname = '/no_such_database_here';
    const run = await cli(['status'], { DATABASE_URL: url.toString() });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^SUP_ERR_DB_NOT_FOUND: Database "no_such_database_here" does not exist/m);
    expect(run.stdout + run.stderr).not.toContain(password);
  });
});

describe('migrate CLI: status and verify', () => {
  it('status lists applied migrations (time, duration, checksum) and pending ones without changing anything', async () => {
    const fresh = await cli(['status', '--json']);
    expect(fresh.code).toBe(0);
    expect(JSON.parse(fresh.stdout)).toEqual({
      applied: [],
      pending: [{ name: '0001_first' }, { name: '0002_second' }, { name: '0003_third' }],
      sequelizeMeta: null,
      kind: 'sql',
    });
    expect(await db.scalar("SELECT to_regclass('schema_migrations')")).toBeNull();

    expect((await cli(['up', '--to', '0002_second'])).code).toBe(0);
    await writeFile(path.join(dir, '0001_first.sql'), FILES['0001_first.sql']!.replace('id int', 'id bigint'));
    const report = JSON.parse((await cli(['status', '--json'])).stdout) as {
      applied: { name: string; appliedAt: string; durationMs: number; checksum: string }[];
      pending: { name: string }[];
    };
    expect(report.applied.map((row) => [row.name, row.checksum])).toEqual([
      ['0001_first', 'changed'],
      ['0002_second', 'ok'],
    ]);
    expect(Date.now() - Date.parse(report.applied[0]!.appliedAt)).toBeLessThan(60_000);
    expect(report.applied.every((row) => Number.isInteger(row.durationMs) && row.durationMs >= 0)).toBe(true);
    expect(report.pending).toEqual([{ name: '0003_third' }]);

    const human = await cli(['status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^applied {2}0001_first +\d{4}-\d\d-\d\dT[\d:.]+Z +\d+ ms +changed$/m);
    expect(human.stdout).toMatch(/^pending {2}0003_third$/m);
    expect(human.stdout).toContain('2 applied, 1 pending, 1 changed on disk');
    expect(human.stdout).not.toContain(new URL(db.url).password || 'no password in the test URL');
  });

  it('verify exits 0 only when nothing is pending, no checksum differs and the required tables exist', async () => {
    const pending = await cli(['verify']);
    expect(pending.code).toBe(2);
    expect(pending.stdout).toContain('SUP_ERR_SCHEMA_INVALID: pending migrations: 0001_first, 0002_second, 0003_third');
    expect(pending.stdout).toContain('SUP_ERR_SCHEMA_INVALID: missing required tables: first, second, third');

    expect((await cli(['up'])).code).toBe(0);
    const ok = await cli(['verify']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('ok: 3 applied, nothing pending, no checksum differs, 3 required tables present');

    await writeFile(path.join(dir, '0002_second.sql'), `${FILES['0002_second.sql']}-- edited after it was applied\n`);
    const changed = await cli(['verify', '--json']);
    expect(changed.code).toBe(2);
    expect(JSON.parse(changed.stdout)).toMatchObject({
      ok: false,
      pending: [],
      changed: ['0002_second'],
      missingTables: [],
      problems: [{ code: 'SUP_ERR_CHECKSUM_MISMATCH', message: 'applied migrations changed on disk: 0002_second' }],
    });

    await writeFile(path.join(dir, '0002_second.sql'), FILES['0002_second.sql']!);
    const missing = await cli(['verify'], { REQUIRED_TABLES: 'first,fourth' });
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('missing required tables: fourth');
    expect(missing.stdout).not.toContain('pending');
  });

  it("verify and status take the start command's flags, which win over the variables", async () => {
    expect((await cli(['up'])).code).toBe(0);
    const flagged = await cli(['verify', '--required-tables', 'first,fourth', '--port', '8080']);
    expect(flagged.code).toBe(2);
    expect(flagged.stdout).toContain('missing required tables: fourth');

    const other = await mkdtemp(path.join(os.tmpdir(), 'migrate-cli-flags-'));
    try {
      await writeFile(path.join(other, '0001_only.sql'), 'CREATE TABLE only_one (id int);');
      const status = await cli(['status', '--json', '--migrations-dir', other]);
      expect(JSON.parse(status.stdout)).toMatchObject({ pending: [{ name: '0001_only' }] });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('verify fails on a migration added after the last deploy', async () => {
    expect((await cli(['up'])).code).toBe(0);
    await writeFile(path.join(dir, '0004_fourth.sql'), 'CREATE TABLE fourth (id int);');
    const run = await cli(['verify', '--json']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: false, pending: ['0004_fourth'], changed: [] });
  });
});

describe('migrate CLI: a new migration ordered before applied ones', () => {
  const OUT_OF_ORDER = 'New migration 0002_second.sql sorts before 0003_third, the last applied migration: it would run out of order.';

  // 0001 and 0003 applied; then 0002 arrives (a branch merged late) with 0004 after it.
  beforeEach(async () => {
    await rm(path.join(dir, '0002_second.sql'));
    expect((await cli(['up'])).stdout).toBe('Applied: 0001_first, 0003_third\n');
    await writeFile(path.join(dir, '0002_second.sql'), FILES['0002_second.sql']!);
    await writeFile(path.join(dir, '0004_fourth.sql'), 'CREATE TABLE fourth (id int);');
  });

  it('up refuses it before running anything, naming the file and the last applied migration, with a hint', async () => {
    const run = await cli(['up']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`SUP_ERR_MIGRATION_OUT_OF_ORDER: ${OUT_OF_ORDER}\nRename it to sort after 0003_third`);
    expect(await history()).toEqual(['0001_first', '0003_third']);
    expect(await tables()).toEqual(['first', 'third']);
    expect(await db.advisoryLocks()).toBe(0);
  });

  it('status marks it and says why up refuses it; verify lists it as a problem', async () => {
    const json = await cli(['status', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      pending: [{ name: '0002_second', outOfOrder: true }, { name: '0004_fourth' }],
      outOfOrder: { code: 'SUP_ERR_MIGRATION_OUT_OF_ORDER', message: OUT_OF_ORDER },
    });
    const human = await cli(['status']);
    expect(human.stdout).toMatch(/^out-of-order {2}0002_second$/m);
    expect(human.stdout).toMatch(/^pending {7}0004_fourth$/m);
    expect(human.stdout).toContain('2 applied, 2 pending (1 out of order)');
    expect(human.stdout).toContain(`SUP_ERR_MIGRATION_OUT_OF_ORDER: ${OUT_OF_ORDER}`);

    const verify = await cli(['verify', '--json'], { REQUIRED_TABLES: 'first' });
    expect(verify.code).toBe(2);
    expect(JSON.parse(verify.stdout)).toMatchObject({
      ok: false,
      pending: ['0002_second', '0004_fourth'],
      outOfOrder: ['0002_second'],
      problems: [
        { code: 'SUP_ERR_SCHEMA_INVALID', message: 'pending migrations: 0002_second, 0004_fourth' },
        { code: 'SUP_ERR_MIGRATION_OUT_OF_ORDER', message: OUT_OF_ORDER },
      ],
    });
  });

  it('down still reverts what follows it, after which up runs everything in order', async () => {
    expect((await cli(['down'])).stdout).toBe('Reverted: 0003_third\n');
    expect((await cli(['up'])).stdout).toBe('Applied: 0002_second, 0003_third, 0004_fourth\n');
  });
});

describe('migrate CLI: up, down, baseline, create', () => {
  it('up applies what is pending (up to --to NAME), reports it, and finds nothing the second time', async () => {
    const partial = await cli(['up', '--to', '0002_second.sql']);
    expect(partial.code).toBe(0);
    expect(partial.stdout).toBe('Applied: 0001_first, 0002_second\nStill pending: 0003_third\n');
    expect(partial.stderr).toContain('applied 0001_first');
    expect(await history()).toEqual(['0001_first', '0002_second']);
    expect(await tables()).toEqual(['first', 'second']);

    const rest = await cli(['up']);
    expect(rest.stdout).toBe('Applied: 0003_third\n');
    expect((await cli(['up'])).stdout).toBe('Nothing to apply.\n');

    const unknown = await cli(['up', '--to', '0009_nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^SUP_ERR_MIGRATION_NOT_FOUND: There is no migration file named 0009_nope/m);
  });

  it('up stops at a failing migration with exit 1, keeping the ones before it', async () => {
    await writeFile(path.join(dir, '0002_second.sql'), '-- migrate:up\nCREATE TABLE second (id int);\nSELECT * FROM no_such_table;\n');
    const run = await cli(['up']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^SUP_ERR_MIGRATION_FAILED: Migration 0002_second failed at line 3 of 0002_second\.sql/m);
    expect(await history()).toEqual(['0001_first']);
    expect(await tables()).toEqual(['first']);
  });

  it('down reverts the last migration, --step N the last N, --to NAME those after NAME', async () => {
    await writeFile(path.join(dir, '0004_fourth.sql'), '-- migrate:up\nCREATE TABLE fourth (id int);\n-- migrate:down\nDROP TABLE fourth;\n');
    expect((await cli(['up'])).code).toBe(0);

    const one = await cli(['down']);
    expect(one.code).toBe(0);
    expect(one.stdout).toBe('Reverted: 0004_fourth\n');
    expect(await history()).toEqual(['0001_first', '0002_second', '0003_third']);
    expect(await tables()).toEqual(['first', 'second', 'third']);

    const to = await cli(['down', '--to', '0001_first']);
    expect(to.stdout).toBe('Reverted: 0003_third, 0002_second\n');
    expect(await history()).toEqual(['0001_first']);
    expect(await tables()).toEqual(['first']);

    expect((await cli(['up'])).code).toBe(0);
    expect((await cli(['down', '--step', '2'])).stdout).toBe('Reverted: 0004_fourth, 0003_third\n');
    expect(await tables()).toEqual(['first', 'second']);

    const notApplied = await cli(['down', '--to', '0004_fourth']);
    expect(notApplied.code).toBe(1);
    expect(notApplied.stderr).toContain('SUP_ERR_MIGRATION_NOT_FOUND: 0004_fourth is not an applied migration');
  });

  it('down reverts by the time applied, not by name: the default and --step N the most recent, --to NAME those applied after it', async () => {
    expect((await cli(['up'])).code).toBe(0);
    // 0002 applied last, as on a database that ran a late-merged file before such files were refused.
    const applyLast = (name: string) => db.query("UPDATE schema_migrations SET applied_at = now() + interval '1 hour' WHERE name = $1", [name]);
    await applyLast('0002_second');

    expect((await cli(['down'])).stdout).toBe('Reverted: 0002_second\n');
    expect(await history()).toEqual(['0001_first', '0003_third']);
    expect(await tables()).toEqual(['first', 'third']);

    expect((await cli(['down'])).stdout).toBe('Reverted: 0003_third\n');
    expect((await cli(['up'])).stdout).toBe('Applied: 0002_second, 0003_third\n');
    await applyLast('0002_second');
    expect((await cli(['down', '--step', '2'])).stdout).toBe('Reverted: 0002_second, 0003_third\n');
    expect(await tables()).toEqual(['first']);

    expect((await cli(['up'])).code).toBe(0);
    await applyLast('0002_second');
    expect((await cli(['down', '--to', '0003_third'])).stdout).toBe('Reverted: 0002_second\n');
    expect(await history()).toEqual(['0001_first', '0003_third']);
  });

  it('down refuses, changing nothing, when a migration to revert has no down section', async () => {
    await writeFile(path.join(dir, '0002_second.sql'), 'CREATE TABLE second (id int);');
    expect((await cli(['up'])).code).toBe(0);

    const run = await cli(['down', '--step', '2']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^SUP_ERR_DOWN_UNAVAILABLE: Cannot revert: 0002_second has no down section\. Nothing was reverted\./m);
    // 0003_third has a down section and would have been reverted first: it was not touched.
    expect(await history()).toEqual(['0001_first', '0002_second', '0003_third']);
    expect(await tables()).toEqual(['first', 'second', 'third']);
    expect(await db.advisoryLocks()).toBe(0);
  });

  it('down rolls a failing down section back whole: the migration stays applied', async () => {
    await writeFile(path.join(dir, '0003_third.sql'), '-- migrate:up\nCREATE TABLE third (id int);\n-- migrate:down\nDROP TABLE third;\nSELECT * FROM no_such_table;\n');
    expect((await cli(['up'])).code).toBe(0);
    const run = await cli(['down']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^SUP_ERR_MIGRATION_FAILED: Reverting migration 0003_third failed at line 5 of 0003_third\.sql: .*no_such_table.*It stays applied\./m);
    expect(await history()).toEqual(['0001_first', '0002_second', '0003_third']);
    expect(await tables()).toEqual(['first', 'second', 'third']);
  });

  it('baseline --to NAME records the migrations up to NAME without running them; up runs the rest', async () => {
    // Tables made by hand, with data in them, before the project's migrations were introduced.
    await db.query('CREATE TABLE first (id int); CREATE TABLE second (id int); INSERT INTO first VALUES (42);');
    const run = await cli(['baseline', '--to', '0002_second']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('Recorded as applied without running them: 0001_first, 0002_second\n');
    const { rows } = await db.query<{ name: string; checksum: string; duration_ms: number }>(
      'SELECT name, checksum, duration_ms FROM schema_migrations ORDER BY name',
    );
    expect(rows).toEqual([
      { name: '0001_first', checksum: checksumOf(FILES['0001_first.sql']!), duration_ms: 0 },
      { name: '0002_second', checksum: checksumOf(FILES['0002_second.sql']!), duration_ms: 0 },
    ]);
    expect(await db.scalar('SELECT id FROM first')).toBe(42);

    expect((await cli(['baseline', '--to', '0001_first'])).stdout).toContain('Nothing to record');
    expect((await cli(['up'])).stdout).toBe('Applied: 0003_third\n');
    expect((await cli(['verify'])).code).toBe(0);
  });

  it('create writes the next numbered file with up and down markers, needing no database', async () => {
    const run = await cli(['create', 'add_labels'], { DATABASE_URL: undefined });
    expect(run.code).toBe(0);
    const file = path.join(dir, '0004_add_labels.sql');
    expect(run.stdout).toContain(`Created ${file}`);
    expect(await readFile(file, 'utf8')).toMatch(/^-- migrate:up\n[\s\S]*\n-- migrate:down\n/);

    // Until its up section is written, the new file stops everything instead of being recorded as applied.
    const status = await cli(['status']);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain('SUP_ERR_MIGRATION_INVALID: Migration 0004_add_labels.sql: the up section is empty');

    // The next one, while that one is still empty.
    expect((await cli(['create', 'add_owners'], { DATABASE_URL: undefined })).stdout).toContain(path.join(dir, '0005_add_owners.sql'));

    const bad = await cli(['create', 'add labels!']);
    expect(bad.code).toBe(64);
    const empty = await mkdtemp(path.join(os.tmpdir(), 'migrate-cli-empty-'));
    try {
      const first = await cli(['create', 'init'], { MIGRATIONS_DIR: path.join(empty, 'migrations') });
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(path.join(empty, 'migrations', '0001_init.sql'));
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('works through `npm run migrate` with JSON on stdout', async () => {
    const run = await cli(['status', '--json'], {}, 'npm');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ applied: [], pending: [{ name: '0001_first' }, { name: '0002_second' }, { name: '0003_third' }] });
  });
});

describe('migrate CLI: the migration lock', () => {
  it('waits for the lock another process holds, and gives up after MIGRATION_LOCK_WAIT_TIMEOUT_MS', async () => {
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_ID]);
      for (const args of [['up'], ['down'], ['baseline', '--to', '0001_first']]) {
        const timedOut = await cli(args, { MIGRATION_LOCK_WAIT_TIMEOUT_MS: '700' });
        expect(timedOut.code, args.join(' ')).toBe(1);
        expect(timedOut.stderr).toMatch(/^SUP_ERR_LOCK_TIMEOUT: /m);
      }
      expect(await history()).toEqual([]);

      const waiting = cli(['up']);
      // Waiting: a session other than the holder's has tried to take the lock.
      const attempts = "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_try_advisory%'";
      await eventually(async () => ((await holder.query<{ count: number }>(attempts)).rows[0]!.count > 0 ? true : undefined), 30_000, 'the CLI at the lock');
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_ID]);
      const run = await waiting;
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('another instance is migrating; waiting for the migration lock');
      expect(await history()).toEqual(['0001_first', '0002_second', '0003_third']);
    } finally {
      await holder.end();
    }
  });
});

describe('migrate CLI: adopting sequelize-cli history', () => {
  const projectMigrations = (map?: unknown): Promise<void> => writeSwitchingMigrations(dir, map);
  const sequelizeDatabase = (recorded: readonly string[]): Promise<void> => prepareSequelizeDatabase(db, recorded);

  it('status shows what will be adopted; adopt-sequelize records it with checksums, once, without running it', async () => {
    await projectMigrations();
    await sequelizeDatabase(ALL_RECORDED);

    const status = await cli(['status', '--json'], { REQUIRED_TABLES: undefined });
    expect(JSON.parse(status.stdout)).toEqual({
      applied: [],
      pending: [
        { name: '0001_create_messages', adoptFrom: SEQUELIZE_MAP['0001_create_messages'] },
        { name: '0002_create_activities', adoptFrom: SEQUELIZE_MAP['0002_create_activities'] },
        { name: '0003_create_kanban', adoptFrom: SEQUELIZE_MAP['0003_create_kanban'] },
        { name: '0004_add_pinned' },
      ],
      sequelizeMeta: { mapFile: true, unmapped: ['20240201090000-seed-demo-data.js'] },
      kind: 'sql',
    });

    const adopt = await cli(['adopt-sequelize']);
    expect(adopt.code).toBe(0);
    expect(adopt.stdout).toBe(
      'Adopted from SequelizeMeta (recorded as applied, not run): 0001_create_messages, 0002_create_activities, 0003_create_kanban\n' +
        'Not mapped (left as they are): 20240201090000-seed-demo-data.js\n',
    );
    const { rows } = await db.query<{ name: string; checksum: string }>('SELECT name, checksum FROM schema_migrations ORDER BY name');
    expect(rows).toEqual(
      await Promise.all(
        ['0001_create_messages', '0002_create_activities', '0003_create_kanban'].map(async (name) => ({
          name,
          checksum: checksumOf(await readFile(path.join(dir, `${name}.sql`), 'utf8')),
        })),
      ),
    );
    expect(await db.scalar('SELECT count(*)::int FROM "SequelizeMeta"')).toBe(ALL_RECORDED.length);

    const again = await cli(['adopt-sequelize']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^Nothing new to adopt\.$/m);
    expect(await history()).toEqual(['0001_create_messages', '0002_create_activities', '0003_create_kanban']);

    expect((await cli(['up'], { REQUIRED_TABLES: undefined })).stdout).toBe('Applied: 0004_add_pinned\n');
    expect(await db.scalar("SELECT body FROM messages WHERE NOT pinned")).toBe('written before the switch');
    expect((await cli(['verify'], { REQUIRED_TABLES: undefined })).code).toBe(0);
  });

  it('up adopts first, then runs only what sequelize-cli never ran', async () => {
    await projectMigrations();
    await sequelizeDatabase(ALL_RECORDED);
    const run = await cli(['up'], { REQUIRED_TABLES: undefined });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      'Adopted from SequelizeMeta (not run): 0001_create_messages, 0002_create_activities, 0003_create_kanban\nApplied: 0004_add_pinned\n',
    );
    expect(run.stderr).toContain('warning: SequelizeMeta entries that no migration replaces (left as they are): 20240201090000-seed-demo-data.js');
    expect(await db.scalar('SELECT count(*)::int FROM messages')).toBe(1);
  });

  it('refuses a SequelizeMeta that records only part of what one migration replaces, recording nothing', async () => {
    await projectMigrations();
    await sequelizeDatabase(ALL_RECORDED.filter((name) => name !== '20240103120500-create-kanban-tasks.js'));
    const run = await cli(['up'], { REQUIRED_TABLES: undefined });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^SUP_ERR_ADOPTION_INVALID: SequelizeMeta records 20240103120000-create-kanban-columns\.js but not 20240103120500-create-kanban-tasks\.js, which 0003_create_kanban also replaces/m,
    );
    expect(await history()).toEqual([]);
    expect(await db.scalar('SELECT count(*)::int FROM messages')).toBe(1);
  });

  it('without sequelize-map.json: status says so and adopt-sequelize refuses', async () => {
    await projectMigrations(null);
    await sequelizeDatabase(ALL_RECORDED);
    const status = await cli(['status']);
    expect(status.stdout).toContain('SequelizeMeta found, but no sequelize-map.json in the migrations folder');
    expect(status.stdout).toContain('SUP_ERR_FOREIGN_HISTORY: This database was migrated by sequelize-cli');
    const verify = await cli(['verify']);
    expect(verify.code).toBe(1);
    expect(verify.stderr).toMatch(/^SUP_ERR_FOREIGN_HISTORY: .*its history table SequelizeMeta holds/m);
    const run = await cli(['adopt-sequelize']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^SUP_ERR_ADOPTION_INVALID: There is no sequelize-map.json in /m);
    expect(await history()).toEqual([]);
  });

  it('on a database without SequelizeMeta, adopt-sequelize has nothing to do', async () => {
    await projectMigrations();
    const run = await cli(['adopt-sequelize']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('No SequelizeMeta table: nothing to adopt.\n');
  });
});

describe('migrate CLI: every format', () => {
  const SEQUELIZE = [
    '20240101120000-create-users.js',
    '20240102120000-create-messages.js',
    '20240102120000-index-messages.js',
    '20240103120000-seed-users.js',
    '20240104120000-add-pinned.js',
  ];
  const fixture = (name: string): string => path.join(PROJECT_ROOT, 'tests/fixtures', name, 'migrations');
  const meta = async (): Promise<string[]> =>
    (await db.query<{ name: string }>('SELECT name FROM "SequelizeMeta" ORDER BY name COLLATE "C"')).rows.map((row) => row.name);

  it('sequelize-cli migrations: status, up, verify, down and create, with SequelizeMeta as the history', async () => {
    await rm(dir, { recursive: true, force: true });
    await cp(fixture('sequelize-project'), dir, { recursive: true });
    const env = { REQUIRED_TABLES: 'Users,Messages' };

    const before = await cli(['status', '--json'], env);
    expect(before.code).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ kind: 'sequelize', applied: [], pending: SEQUELIZE.map((name) => ({ name })) });
    expect((await cli(['verify'], env)).code).toBe(2);

    const up = await cli(['up', '--to', '20240103120000-seed-users.js'], env);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toBe(`Applied: ${SEQUELIZE.slice(0, 4).join(', ')}\nStill pending: 20240104120000-add-pinned.js\n`);
    expect(await meta()).toEqual(SEQUELIZE.slice(0, 4));
    const rest = await cli(['up'], env);
    expect(rest.stderr).toContain('20240104120000-add-pinned.js opens its own transaction');
    expect(await meta()).toEqual(SEQUELIZE);

    const status = await cli(['status'], env);
    expect(status.stdout).toContain('history in SequelizeMeta (sequelize-cli migrations)');
    expect(status.stdout).toMatch(/^applied\s+20240104120000-add-pinned\.js$/m);
    expect((await cli(['verify'], env)).code).toBe(0);
    expect(await db.scalar("SELECT to_regclass('schema_migrations')")).toBeNull();

    const down = await cli(['down', '--step', '2'], env);
    expect(down.stdout).toBe('Reverted: 20240104120000-add-pinned.js, 20240103120000-seed-users.js\n');
    expect(await meta()).toEqual(SEQUELIZE.slice(0, 3));
    expect(await db.scalar('SELECT count(*)::int FROM "Users"')).toBe(0);

    const created = await cli(['create', 'add-labels'], { DATABASE_URL: undefined });
    expect(created.code).toBe(0);
    const file = /Created (\S+):/.exec(created.stdout)?.[1] ?? '';
    expect(path.basename(file)).toMatch(/^\d{14}-add-labels\.js$/);
    expect(await readFile(file, 'utf8')).toContain('async up(queryInterface, Sequelize)');
    const pending = JSON.parse((await cli(['status', '--json'], env)).stdout) as { kind: string; pending: { name: string }[] };
    expect(pending.kind).toBe('sequelize');
    expect(pending.pending.at(-1)?.name).toBe(path.basename(file));
  });

  it('JS modules: up, down --to by file name, and create in the folder\'s style', async () => {
    await rm(dir, { recursive: true, force: true });
    await cp(fixture('module-project'), dir, { recursive: true });
    const env = { REQUIRED_TABLES: 'items' };
    const up = await cli(['up'], env);
    expect(up.stdout).toBe('Applied: 0001_create_items, 0002_seed_items, 0003_add_tags\n');
    expect(await history()).toEqual(['0001_create_items', '0002_seed_items', '0003_add_tags']);
    expect((await cli(['verify'], env)).code).toBe(0);
    const down = await cli(['down', '--to', '0001_create_items.js'], env);
    expect(down.stdout).toBe('Reverted: 0003_add_tags, 0002_seed_items\n');
    expect(await db.scalar('SELECT count(*)::int FROM items')).toBe(0);

    const created = await cli(['create', 'add_owner'], { DATABASE_URL: undefined });
    const file = path.join(dir, '0004_add_owner.mjs');
    expect(created.stdout).toContain(`Created ${file}`);
    expect(await readFile(file, 'utf8')).toContain('export async function up({ context })');
  });
});
