// The supervisor as a real process against a real Postgres: startup, migrations, schema, failures.
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { applyMigrations, MIGRATIONS_DIR } from '../helpers/migrate.js';
import { freePort } from '../../supervisor/core/free-port.js';
import { eventually, healthOf, startSupervisor, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { createDelayedForwarder } from '../helpers/tcp-forwarder.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase('sup');
  cleanups.push(() => db.drop());
  return db;
}

async function supervisor(env: Record<string, string | undefined>): Promise<SupervisorProcess> {
  const started = await startSupervisor({ env });
  cleanups.push(() => started.kill());
  return started;
}

async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'migrations-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return dir;
}

function phasesLogged(sup: SupervisorProcess): unknown[] {
  return sup.entries().filter((entry) => entry.event === 'phase').map((entry) => entry.to);
}

describe('supervisor startup', () => {
  it('answers 503 at once on an empty database, migrates, then proxies to the app', async () => {
    const db = await database();
    const sup = await supervisor({ DATABASE_URL: db.url, FIXTURE_START_DELAY_MS: '1500' });

    const first = await eventually(() => healthOf(sup.url), 10_000, 'the port');
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ status: 'fail' });

    const notReadyJson = await fetch(`${sup.url}/api/messages`);
    expect(notReadyJson.status).toBe(503);
    expect(notReadyJson.headers.get('retry-after')).toBe('5');
    expect(await notReadyJson.json()).toMatchObject({ error: { code: 'SUP_ERR_NOT_READY' } });
    const notReadyHtml = await fetch(`${sup.url}/`, { headers: { accept: 'text/html' } });
    expect(notReadyHtml.status).toBe(503);
    expect(await notReadyHtml.text()).toContain('<meta http-equiv="refresh"');

    await sup.waitForPhase('ready');
    const ready = await fetch(`${sup.url}/health`);
    expect(ready.status).toBe(200);
    expect(ready.headers.get('content-type')).toMatch(/^application\/health\+json/);
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect(await ready.json()).toMatchObject({
      status: 'pass',
      phase: 'ready',
      checks: {
        database: [{ status: 'pass' }],
        migrations: [{ status: 'pass', observedValue: 3 }],
        schema: [{ status: 'pass' }],
        app: [{ status: 'pass' }],
      },
    });

    const tables = await db.query<{ t: string | null }>(
      "SELECT to_regclass(t)::text AS t FROM unnest(ARRAY['messages','activities','kanban_columns','kanban_tasks']) t",
    );
    expect(tables.rows.map((row) => row.t)).toEqual(['messages', 'activities', 'kanban_columns', 'kanban_tasks']);
    const history = await db.query('SELECT name FROM schema_migrations ORDER BY name');
    expect(history.rows.map((row) => row.name)).toEqual(['0001_create_messages', '0002_create_activities', '0003_create_kanban']);

    const proxied = await fetch(`${sup.url}/status/201`);
    expect(proxied.status).toBe(201);
    expect(await proxied.text()).toBe('from the app');
    expect(phasesLogged(sup)).toEqual(['waiting_for_database', 'migrating', 'verifying_schema', 'starting_app', 'ready']);
  });

  it('takes no lock on an up-to-date database and goes straight to verifying', async () => {
    const db = await database();
    await applyMigrations(db.url, MIGRATIONS_DIR);
    const sup = await supervisor({ DATABASE_URL: db.url });
    await sup.waitForPhase('ready');
    expect(phasesLogged(sup)).toEqual(['waiting_for_database', 'verifying_schema', 'starting_app', 'ready']);
    expect(sup.entries().some((entry) => entry.event === 'lock_acquired')).toBe(false);
  });

  it('shows waiting_for_database while the database is unreachable, then becomes ready', async () => {
    const db = await database();
    const forwarder = createDelayedForwarder(await freePort(), { host: new URL(db.url).hostname, port: Number(new URL(db.url).port || 5432) });
    cleanups.push(() => forwarder.close());
    const url = new URL(db.url);
    url.port = String(forwarder.port);
    const sup = await supervisor({ DATABASE_URL: url.toString() });

    await sup.waitForPhase('waiting_for_database');
    await sup.waitForLog((entry) => entry.event === 'database_unavailable' && entry.reason === 'ECONNREFUSED');
    const waiting = await healthOf(sup.url);
    expect(waiting.status).toBe(503);
    expect(waiting.body.checks).toMatchObject({ database: [{ status: 'fail' }] });

    await forwarder.open();
    await sup.waitForPhase('ready');
    expect((await healthOf(sup.url)).status).toBe(200);
  });

  it('stops on a failing migration: exit 1, file named, earlier ones kept, nothing of it left, lock free', async () => {
    const db = await database();
    const dir = await migrationsDir({
      '0001_ok.sql': 'CREATE TABLE kept (id int);',
      '0002_broken.sql': '-- migrate:up\nCREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nINSERT INTO missing VALUES (1);\n',
    });
    const sup = await supervisor({ DATABASE_URL: db.url, MIGRATIONS_DIR: dir, REQUIRED_TABLES: 'kept' });

    expect((await sup.exited).code).toBe(1);
    const failure = sup.entries().find((entry) => entry.event === 'failed');
    expect(failure).toMatchObject({ code: 'SUP_ERR_MIGRATION_FAILED', msg: expect.stringContaining('0002_broken') });
    expect((await db.query('SELECT name FROM schema_migrations')).rows).toEqual([{ name: '0001_ok' }]);
    expect((await db.query("SELECT to_regclass('kept')::text AS kept, to_regclass('half')::text AS half")).rows[0]).toEqual({
      kept: 'kept',
      half: null,
    });
    // The server ends the exited supervisor's session (and with it any lock) a moment after the exit.
    await eventually(async () => ((await db.advisoryLocks()) === 0 ? true : undefined));
  });

  it('refuses to start when an applied migration was edited', async () => {
    const db = await database();
    const dir = await migrationsDir({ '0001_first.sql': 'CREATE TABLE first (id int);' });
    await applyMigrations(db.url, dir);
    await writeFile(path.join(dir, '0001_first.sql'), 'CREATE TABLE first (id bigint);');
    const sup = await supervisor({ DATABASE_URL: db.url, MIGRATIONS_DIR: dir, REQUIRED_TABLES: 'first' });

    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({
      code: 'SUP_ERR_CHECKSUM_MISMATCH',
      msg: expect.stringContaining('0001_first'),
    });
  });

  it('lets two supervisors start at once on one empty database, applying each migration once', async () => {
    const db = await database();
    const [a, b] = await Promise.all([supervisor({ DATABASE_URL: db.url }), supervisor({ DATABASE_URL: db.url })]);
    await Promise.all([a.waitForPhase('ready'), b.waitForPhase('ready')]);

    const { rows } = await db.query<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name');
    expect(rows).toHaveLength(3);
    expect(rows.every((row) => row.n === 1)).toBe(true);
    const applied = [...a.entries(), ...b.entries()].filter((entry) => entry.event === 'migrated');
    expect(applied).toHaveLength(3);
    expect([...a.entries(), ...b.entries()].filter((entry) => Number(entry.level) >= 50)).toEqual([]);
  });

  it('refuses pending migrations when MIGRATE_ON_START=false', async () => {
    const db = await database();
    const sup = await supervisor({ DATABASE_URL: db.url, MIGRATE_ON_START: 'false' });
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({ code: 'SUP_ERR_SCHEMA_INVALID' });
    expect(await db.scalar("SELECT to_regclass('messages') AS t")).toBeNull();
  });

  it('fails fast on a database that does not exist, without printing the password', async () => {
    const db = await database();
    const url = new URL(db.url);
    url.pathname = '/no_such_database';
    // Keep a password the server accepts (one that trusts local logins ignores it): the database must be what fails.
    if (url.password === '') url.password = 'very-secret-pw';
    const password = decodeURIComponent(url.password);
    const startedAt = Date.now();
    const sup = await supervisor({ DATABASE_URL: url.toString() });

    expect((await sup.exited).code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(sup.entries().find((entry) => entry.event === 'failed')).toMatchObject({
      code: 'SUP_ERR_DB_NOT_FOUND',
      msg: expect.stringContaining('no_such_database'),
    });
    expect(sup.lines.join('\n')).not.toContain(password);
  });

  it('fails at once with SUP_ERR_PORT_IN_USE, naming PORT, when the port is taken', async () => {
    const taken = net.createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    cleanups.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const { port } = taken.address() as net.AddressInfo;

    // The port is bound before anything else: the database is never reached.
    const sup = await supervisor({ DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', PORT: String(port) });
    expect((await sup.exited).code).toBe(1);
    expect(sup.entries().filter((entry) => entry.event === 'failed')).toEqual([
      expect.objectContaining({
        code: 'SUP_ERR_PORT_IN_USE',
        msg: `start failed: PORT ${port} on 127.0.0.1 is already in use`,
        hint: 'Stop the other process or set PORT to a free port.',
      }),
    ]);
    expect(phasesLogged(sup)).toEqual(['failed']);
  });

  it('lists every configuration problem at once and exits 78', async () => {
    const sup = await supervisor({ DATABASE_URL: 'not a url with secret-pw', PORT: 'abc', DB_WAIT_TIMEOUT_MS: '-5' });
    expect((await sup.exited).code).toBe(78);
    const output = sup.lines.join('\n');
    expect(output).toContain('SUP_ERR_CONFIG_INVALID');
    expect(output).toContain('Expected `PORT` to be a positive integer no greater than 65535, got `abc`');
    expect(output).toContain('Expected `DB_WAIT_TIMEOUT_MS` to be a positive integer, got `-5`');
    expect(output).toContain('`DATABASE_URL`');
    expect(output).not.toContain('secret-pw');
  });
});
