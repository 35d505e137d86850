// The supervisor as a user gets it: `npm pack` in supervisor/, a project of its own in a temporary directory that
// installs the tarball, and the installed bin started from there, with nothing of this repository in reach.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { PROJECT_ROOT, eventually, healthOf, within, type ExitStatus } from '../helpers/supervisor-process.js';

const run = promisify(execFile);
const SUPERVISOR_DIR = path.join(PROJECT_ROOT, 'supervisor');
const FIXTURE_PROJECT = path.join(PROJECT_ROOT, 'tests/fixtures/packed-project');

/**
 * The environment of a user's shell: without the `npm_*` variables of the `npx vitest` around the tests (an
 * inherited `npm_config_local_prefix` would make `npm install` install into this repository) and without this
 * repository's `node_modules/.bin` on PATH (where a `health-gate` of the workspace is linked).
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.toLowerCase().startsWith('npm_')) env[name] = value;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter((entry) => !path.resolve(entry).startsWith(PROJECT_ROOT))
    .join(path.delimiter);
  return { ...env, ...extra };
}

export interface PackedTarball {
  readonly file: string;
  /** Bytes of the .tgz. */
  readonly size: number;
  readonly unpackedSize: number;
  /** Paths inside the package, as `npm pack --json` lists them. */
  readonly files: readonly string[];
  readonly durationMs: number;
}

/**
 * `npm pack` in supervisor/, the tarball written to `destination`. Without its prepack build: `npm test` has
 * just built supervisor/dist, which other test files run at the same time and a rebuild would replace.
 */
export async function packSupervisor(destination: string): Promise<PackedTarball> {
  const startedAt = performance.now();
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', destination, '--json'], {
    cwd: SUPERVISOR_DIR,
    env: userEnv(),
    timeout: 180_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const durationMs = performance.now() - startedAt;
  const [packed] = JSON.parse(stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[];
  if (!packed) throw new Error(`npm pack printed no package: ${stdout}`);
  return {
    file: path.join(destination, packed.filename),
    size: packed.size,
    unpackedSize: packed.unpackedSize,
    files: packed.files.map((entry) => entry.path),
    durationMs,
  };
}

export interface InstalledProject {
  readonly dir: string;
  readonly installMs: number;
  /** What `npm install` wrote to stdout and stderr (warnings such as EBADENGINE). */
  readonly installOutput: string;
}

/**
 * A new project in a temporary directory: the fixture app and migrations, the project's own packages (`own`, e.g.
 * `pg@8.11.5`) installed first as a user's project has them, and the tarball installed from its file.
 */
export async function createInstalledProject(tarball: string, own: readonly string[] = []): Promise<InstalledProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'packed-project-'));
  await cp(FIXTURE_PROJECT, dir, { recursive: true });
  const manifest = { name: 'packed-project', version: '1.0.0', private: true, type: 'module' };
  await writeFile(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (own.length > 0) await run('npm', ['install', ...own, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, env: userEnv(), timeout: 300_000 });
  const startedAt = performance.now();
  const { stdout, stderr } = await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: dir,
    env: userEnv(),
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { dir, installMs: performance.now() - startedAt, installOutput: `${stdout}${stderr}` };
}

/** A command run to its end in the project, as a user types it in a shell there (with `env` added, e.g. DATABASE_URL). */
export async function runInProject(
  dir: string,
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: dir, env: userEnv(env), timeout: 120_000 });
    return { code: 0, output: `${stdout}${stderr}` };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    const code = typeof failed.code === 'number' ? failed.code : -1;
    return { code, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** The installed bin running in its own process group, its output collected line by line. */
export interface InstalledSupervisor {
  readonly process: ChildProcess;
  readonly url: string;
  readonly lines: string[];
  /** The JSON log entries among `lines`. */
  entries(): Record<string, unknown>[];
  readonly exited: Promise<ExitStatus>;
  /** SIGKILLs whatever is left of its process group (test cleanup). */
  kill(): Promise<void>;
}

/** Starts `node_modules/.bin/health-gate <args>` in the project with a JSON log on 127.0.0.1:`port`. */
export function startInstalled(dir: string, args: readonly string[], env: { DATABASE_URL: string; PORT: number }): InstalledSupervisor {
  return startInProject(dir, path.join(dir, 'node_modules/.bin/health-gate'), args, env);
}

/** Starts `command <args>` in the project (`npm start`, say) as startInstalled does. */
export function startInProject(dir: string, command: string, args: readonly string[], env: { DATABASE_URL: string; PORT: number }): InstalledSupervisor {
  const child = spawn(command, args, {
    cwd: dir,
    env: userEnv({ DATABASE_URL: env.DATABASE_URL, PORT: String(env.PORT), HOST: '127.0.0.1', LOG_FORMAT: 'json' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => lines.push(line));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }) as ExitStatus);
  return {
    process: child,
    url: `http://127.0.0.1:${env.PORT}`,
    lines,
    entries: () =>
      lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    exited,
    async kill() {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // the whole group is gone already
      }
      await exited;
    },
  };
}

/** Resolves once the installed supervisor's /health says 200; rejects, with its output, if it exits first. */
export async function untilReady(supervisor: InstalledSupervisor, timeoutMs = 90_000): Promise<void> {
  await Promise.race([
    eventually(async () => ((await healthOf(supervisor.url)).status === 200 ? true : undefined), timeoutMs),
    supervisor.exited.then((status) => {
      throw new Error(`exited ${JSON.stringify(status)} before ready:\n${supervisor.lines.join('\n')}`);
    }),
  ]);
}

/** Resolves with the exit status, or rejects, with its last output, when it still runs after `timeoutMs`. */
export function exitWithin(supervisor: InstalledSupervisor, timeoutMs: number): Promise<ExitStatus> {
  return within(supervisor.exited, timeoutMs, () => `still running after ${timeoutMs} ms:\n${supervisor.lines.slice(-30).join('\n')}`);
}
