// The install the README gives, as a deploy meets it: a project installs the tarball from its own vendor/ folder,
// is committed, and is cloned elsewhere (a platform's build checks out the repository and nothing beside it), where
// `npm ci && npm start` must work: the dependency and the lockfile point inside the project, never at the path the
// tarball was built in.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { PROJECT_ROOT, eventually } from '../helpers/supervisor-process.js';
import { exitWithin, packSupervisor, startInProject, untilReady, userEnv, type InstalledSupervisor } from './packed-project.js';

const run = promisify(execFile);
const FIXTURE_PROJECT = path.join(PROJECT_ROOT, 'tests/fixtures/packed-project');
const GIT_USER = ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid'];

async function inProject(dir: string, command: string, args: readonly string[]): Promise<string> {
  const { stdout, stderr } = await run(command, args, { cwd: dir, env: userEnv(), timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
  return `${stdout}${stderr}`;
}

describe("the README's install, committed, cloned elsewhere, then npm ci && npm start", () => {
  let workDir: string;
  let tarballName: string;
  let clone: string;
  let database: TestDatabase | undefined;
  let supervisor: InstalledSupervisor | undefined;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'clone-and-install-'));
    const built = path.join(workDir, 'built');
    await mkdir(built);
    const tarball = await packSupervisor(built);
    tarballName = path.basename(tarball.file);

    // The user's project, as the README has it: the tarball copied into vendor/ and installed from there.
    const project = path.join(workDir, 'your-app');
    await cp(FIXTURE_PROJECT, project, { recursive: true });
    const manifest = { name: 'your-app', version: '1.0.0', private: true, type: 'module', scripts: { start: 'health-gate --app-health-path /healthz -- node server.js' } };
    await writeFile(path.join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await writeFile(path.join(project, '.gitignore'), 'node_modules/\n');
    await mkdir(path.join(project, 'vendor'));
    await cp(tarball.file, path.join(project, 'vendor', tarballName));
    await inProject(project, 'npm', ['install', `./vendor/${tarballName}`, '--prefer-offline', '--no-audit', '--no-fund']);
    await inProject(project, 'git', ['init', '--quiet']);
    await inProject(project, 'git', ['add', '-A']);
    await inProject(project, 'git', [...GIT_USER, 'commit', '--quiet', '-m', 'health-gate in front of the app']);

    // Cloned into a folder of its own; the tarball's build folder and the original project are gone.
    clone = path.join(await mkdtemp(path.join(os.tmpdir(), 'clone-elsewhere-')), 'checkout');
    await run('git', ['clone', '--quiet', project, clone], { env: userEnv(), timeout: 60_000 });
    await rm(built, { recursive: true, force: true });
    await rm(project, { recursive: true, force: true });
  }, 600_000);

  afterAll(async () => {
    await supervisor?.kill();
    await database?.drop();
    await rm(workDir, { recursive: true, force: true });
    if (clone) await rm(path.dirname(clone), { recursive: true, force: true });
  });

  test('is the way the README gives', async () => {
    const readme = await readFile(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`npm install ./vendor/${tarballName}`);
  });

  test('records the dependency and its lockfile entry inside the project', async () => {
    const manifest = JSON.parse(await readFile(path.join(clone, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(manifest.dependencies['health-gate']).toBe(`file:vendor/${tarballName}`);
    const lock = JSON.parse(await readFile(path.join(clone, 'package-lock.json'), 'utf8')) as { packages: Record<string, { resolved?: string }> };
    expect(lock.packages['node_modules/health-gate']?.resolved).toBe(`file:vendor/${tarballName}`);
  });

  test('npm ci installs from the clone alone, and npm start gets ready, proxies, and drains to exit 0 on SIGTERM', async () => {
    await inProject(clone, 'npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund']);
    database = await createTestDatabase('cloned');
    supervisor = startInProject(clone, 'npm', ['start'], { DATABASE_URL: database.url, PORT: await freePort() });
    await untilReady(supervisor);
    const response = await fetch(`${supervisor.url}/`, { signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ app: 'packed-project', hasDatabaseUrl: true });
    expect(await database.scalar("SELECT string_agg(text, ',') FROM greetings")).toBe('hello from a packed install');

    // npm passes the platform's SIGTERM on and then ends by it itself; the supervisor's own end is in its log.
    process.kill(supervisor.process.pid as number, 'SIGTERM');
    await exitWithin(supervisor, 30_000);
    const stopped = await eventually(() => supervisor?.entries().find((entry) => entry.event === 'shutdown_complete'), 30_000, 'shutdown_complete');
    expect(stopped).toMatchObject({ exitCode: 0 });
  });
});
