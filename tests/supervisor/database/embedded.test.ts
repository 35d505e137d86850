// Without DATABASE_URL outside production the supervisor runs an embedded PostgreSQL: real processes,
// a real cluster in a temporary directory, and `ps` to see what is left behind.
import { execFileSync } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../supervisor/core/config.js';
import { MIGRATIONS_DIR } from '../../helpers/migrate.js';
import { eventually, healthOf, startSupervisor, type SupervisorProcess } from '../../helpers/supervisor-process.js';

/** Pids of postgres servers running on `dataDir`. */
function serversOn(dataDir: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('postgres') && line.includes(`-D ${dataDir} `))
    .map((line) => Number.parseInt(line.trim(), 10));
}

async function noServerOn(dataDir: string): Promise<true> {
  return eventually(() => (serversOn(dataDir).length === 0 ? true : undefined), 10_000, `no postgres on ${dataDir}`);
}

let root: string;
const running: SupervisorProcess[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'embedded-db-test-'));
  await chmod(root, 0o755); // as root the server runs as `postgres`, which must reach its data directory
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((sup) => sup.kill()));
});
afterAll(async () => {
  for (const pid of serversOn(root)) process.kill(pid, 'SIGQUIT');
  await noServerOn(root);
  await rm(root, { recursive: true, force: true });
});

async function supervisor(dataDir: string, env: Record<string, string | undefined> = {}): Promise<SupervisorProcess> {
  const sup = await startSupervisor({ env: { DATABASE_URL: undefined, NODE_ENV: 'development', EMBEDDED_DB_DIR: dataDir, ...env } });
  running.push(sup);
  return sup;
}

const events = (sup: SupervisorProcess, event: string): Record<string, unknown>[] => sup.entries().filter((entry) => entry.event === event);

describe('the embedded development database', () => {
  const dataDir = (): string => path.join(root, 'kept', 'postgres');

  it('is created on the first start, used, and stopped on SIGTERM', async () => {
    const sup = await supervisor(dataDir());
    await sup.waitForPhase('ready');

    const [used] = events(sup, 'embedded_database');
    expect(used).toMatchObject({ level: 30, dataDir: dataDir() });
    expect(used?.msg).toContain('embedded development database');
    expect(used?.msg).toContain(dataDir());
    expect(events(sup, 'embedded_database_init')).toHaveLength(1);
    expect(events(sup, 'migrated')).toHaveLength(3);
    expect(serversOn(dataDir())).toHaveLength(1);

    sup.process.kill('SIGTERM');
    expect(await sup.exited).toEqual({ code: 0, signal: null });
    expect(serversOn(dataDir())).toEqual([]);
  });

  it('keeps its data for the next start', async () => {
    const sup = await supervisor(dataDir());
    await sup.waitForPhase('ready');
    expect(events(sup, 'embedded_database')).toHaveLength(1);
    expect(events(sup, 'embedded_database_init')).toEqual([]);
    expect(events(sup, 'migrated')).toEqual([]); // the schema from the first start is still there

    sup.process.kill('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    await noServerOn(dataDir());
  });

  it('leaves alone a server that another running supervisor uses', async () => {
    const first = await supervisor(dataDir());
    await first.waitForPhase('ready');

    const second = await supervisor(dataDir());
    expect((await second.exited).code).toBe(1);
    expect(events(second, 'failed')).toMatchObject([{ code: 'SUP_ERR_EMBEDDED_DB_FAILED', msg: expect.stringContaining('in use') }]);
    expect((await healthOf(first.url)).status).toBe(200);

    first.process.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    await noServerOn(dataDir());
  });

  it('stops a server left running by a supervisor that was killed, then starts its own', async () => {
    const killed = await supervisor(dataDir());
    await killed.waitForPhase('ready');
    await killed.kill(); // SIGKILL: nothing gets to stop the database
    const [leftover] = serversOn(dataDir());
    expect(leftover).toBeDefined();

    const sup = await supervisor(dataDir());
    await sup.waitForPhase('ready');
    expect(events(sup, 'embedded_database_leftover')).toMatchObject([{ pid: leftover }]);
    expect(serversOn(dataDir())).not.toContain(leftover);

    sup.process.kill('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    await noServerOn(dataDir());
  });

  it('is stopped when the start fails', async () => {
    const migrations = path.join(root, 'broken-migrations');
    await rm(migrations, { recursive: true, force: true });
    await cp(MIGRATIONS_DIR, migrations, { recursive: true });
    await writeFile(path.join(migrations, '0999_broken.sql'), 'CREATE TABLE broken (id integer REFERENCES nowhere (id));');
    const sup = await supervisor(dataDir(), { MIGRATIONS_DIR: migrations });

    expect((await sup.exited).code).toBe(1);
    expect(events(sup, 'failed')).toMatchObject([{ code: 'SUP_ERR_MIGRATION_FAILED' }]);
    expect(events(sup, 'embedded_database')).toHaveLength(1);
    expect(serversOn(dataDir())).toEqual([]);
  });

  it('refuses a non-empty directory that holds no cluster', async () => {
    const notACluster = path.join(root, 'not-a-cluster');
    await rm(notACluster, { recursive: true, force: true });
    await mkdir(notACluster, { recursive: true });
    await writeFile(path.join(notACluster, 'notes.txt'), 'mine');
    const sup = await supervisor(notACluster);

    expect((await sup.exited).code).toBe(1);
    expect(events(sup, 'failed')).toMatchObject([{ code: 'SUP_ERR_EMBEDDED_DB_FAILED' }]);
    expect(events(sup, 'failed')[0]?.msg).toContain(notACluster);
  });
});

describe('without DATABASE_URL in production', () => {
  it('exits 78 with the fromDatabase hint and starts no database', async () => {
    const dataDir = path.join(root, 'production');
    const sup = await supervisor(dataDir, { NODE_ENV: 'production' });

    expect((await sup.exited).code).toBe(78);
    const output = sup.lines.join('\n');
    expect(output).toContain('SUP_ERR_CONFIG_INVALID');
    expect(output).toContain('`DATABASE_URL`');
    expect(output).toContain('fromDatabase');
    expect(serversOn(dataDir)).toEqual([]);
  });
});

describe('configuration', () => {
  it('asks for an embedded database in .data/postgres on a free port when DATABASE_URL is unset', () => {
    const config = loadConfig({ APP_COMMAND: 'node server.js' }, '/srv/app');
    expect(config.databaseUrl).toBeUndefined();
    expect(config.embeddedDatabase).toEqual({ dataDir: '/srv/app/.data/postgres', port: undefined });
  });

  it('reads EMBEDDED_DB_DIR and EMBEDDED_DB_PORT', () => {
    const config = loadConfig({ APP_COMMAND: 'node server.js', EMBEDDED_DB_DIR: 'tmp/pg', EMBEDDED_DB_PORT: '54329' }, '/srv/app');
    expect(config.embeddedDatabase).toEqual({ dataDir: '/srv/app/tmp/pg', port: 54329 });
  });

  it('uses no embedded database when DATABASE_URL is set', () => {
    const config = loadConfig({ APP_COMMAND: 'node server.js', DATABASE_URL: 'postgres://app@db:5432/app' });
    expect(config.embeddedDatabase).toBeUndefined();
  });

  it('reports a malformed EMBEDDED_DB_PORT', () => {
    expect(() => loadConfig({ EMBEDDED_DB_PORT: 'next' })).toThrow('Expected `EMBEDDED_DB_PORT` to be a positive integer no greater than 65535, got `next`');
  });

  it('still requires DATABASE_URL in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', EMBEDDED_DB_DIR: '/tmp/x' })).toThrow(/fromDatabase/);
  });
});
