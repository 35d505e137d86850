// The supervisor as a container runs it, without Docker: PID 1 of a PID namespace of its own (`unshare --pid --fork
// --mount-proc`), its app leaving orphaned grandchildren, stopped by SIGTERM sent from outside as `docker stop` does.
// With the image's ENTRYPOINT (tini) in front, no zombie remains; the supervisor alone as PID 1 leaves them, which
// is why the image has tini (docs/platforms/docker.md).
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findSystemTool } from '../helpers/system-tool.js';
import { useSupervisorFixture } from '../helpers/supervisor-fixture.js';
import { eventually, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { execForm, parseInstructions, parseStages, readDockerfileText } from './dockerfile.js';

const ORPHAN_APP = fileURLToPath(new URL('../fixtures/app-leaves-orphans.mjs', import.meta.url));
const OTHER_INIT = fileURLToPath(new URL('../fixtures/init-that-does-not-reap.mjs', import.meta.url));
const NAMESPACE = ['--pid', '--fork', '--mount-proc', '--kill-child'];

interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly state: string;
  readonly command: string;
  readonly args: readonly string[];
}

const unshare = findSystemTool(
  { name: 'unshare (util-linux)', command: 'unshare', pathVariable: 'UNSHARE_PATH', usualFolders: ['/usr/bin'], install: 'apt-get install util-linux (Debian, Ubuntu); Linux only' },
  'the PID 1 tests',
);
const tini = findSystemTool(
  { name: 'tini', command: 'tini', pathVariable: 'TINI_PATH', usualFolders: ['/usr/bin'], install: 'apt-get install tini (Debian, Ubuntu)' },
  'the PID 1 test with the image\'s init',
);

// A PID namespace needs root (or user namespaces); the skip says so, and CI (root, REQUIRE_SYSTEM_TOOLS=1) fails instead.
function canMakePidNamespace(): boolean {
  if (!unshare) return false;
  if (spawnSync(unshare, [...NAMESPACE, 'true'], { stdio: 'ignore' }).status === 0) return true;
  const why = 'cannot create a PID namespace here (root is needed)';
  if (process.env.REQUIRE_SYSTEM_TOOLS === '1') throw new Error(`Cannot run the PID 1 tests in tests/deploy/pid1.test.ts: unshare ${why}, and REQUIRE_SYSTEM_TOOLS=1 forbids a skip`);
  process.stderr.write(`tests: skipped the PID 1 tests in tests/deploy/pid1.test.ts: unshare ${why}\n`);
  return false;
}
const namespaces = canMakePidNamespace();

// The image's ENTRYPOINT with `tini` found on this machine: what runs in front of the supervisor's `node`.
function imageEntrypoint(tiniPath: string): string[] {
  const final = parseStages(parseInstructions(readDockerfileText())).at(-1);
  const entrypoint = execForm(final?.instructions.filter((instruction) => instruction.keyword === 'ENTRYPOINT').at(-1)?.args ?? '') ?? [];
  return entrypoint.map((word) => (word === 'tini' ? tiniPath : word));
}

const fixture = useSupervisorFixture('deploy_pid1');

async function processes(sup: SupervisorProcess): Promise<ProcessInfo[]> {
  const response = await fetch(`${sup.url}/processes`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as ProcessInfo[];
}

// The namespace's PID 1 as the host sees it: the process unshare forked. `docker stop` signals that one.
function namespaceInit(sup: SupervisorProcess): number {
  const pid = sup.process.pid as number;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
  expect(children).toHaveLength(1);
  return children[0] as number;
}

async function startAsPid1(init: readonly string[]): Promise<SupervisorProcess> {
  const sup = await fixture.start({ APP_COMMAND: `${process.execPath} ${ORPHAN_APP}` }, 'node', [unshare as string, ...NAMESPACE, ...init]);
  await sup.waitForPhase('ready');
  return sup;
}

// Orphans that outlive their shell long enough to be seen adopted by PID 1, then exit.
async function leaveOrphans(sup: SupervisorProcess): Promise<void> {
  const response = await fetch(`${sup.url}/orphans?count=3&seconds=3`, { method: 'POST' });
  expect(response.status).toBe(200);
  // Each is a fork of the shell until it has run `sleep`: wait for the three, running, adopted by PID 1.
  await eventually(
    async () => ((await processes(sup)).filter((entry) => entry.command === 'sleep' && entry.state !== 'Z' && entry.ppid === 1).length === 3 ? true : undefined),
    2_500,
    'three running orphans adopted by PID 1',
  );
}

// SIGTERM from outside while a request is in flight: the request completes, then the namespace exits 0.
async function stopWithRequestInFlight(sup: SupervisorProcess): Promise<void> {
  const request = http.get(`${sup.url}/slow?ms=1500`);
  const inFlight = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
  // The request is on an accepted connection before the signal: the drain must let it finish.
  await once(request, 'finish');
  await new Promise((resolve) => setTimeout(resolve, 300));
  process.kill(namespaceInit(sup), 'SIGTERM');
  expect(await inFlight).toEqual({ status: 200, body: 'slept' });
  expect(await sup.exited).toEqual({ code: 0, signal: null });
  expect(sup.entries().find((entry) => entry.event === 'shutdown')).toMatchObject({ signal: 'SIGTERM' });
  expect(sup.entries().some((entry) => entry.event === 'shutdown_complete')).toBe(true);
}

describe.runIf(namespaces)('the supervisor as a container runs it: PID 1 of its own PID namespace', () => {
  // The process list once every orphan (its sh and sleeps) has exited.
  const afterOrphansExit = (sup: SupervisorProcess): ReturnType<typeof processes> =>
    eventually(
      async () => {
        const list = await processes(sup);
        return list.some((entry) => entry.command === 'sleep' || entry.command === 'sh') ? undefined : list;
      },
      10_000,
      'the orphans to exit',
    );

  it.runIf(tini)("behind the image's ENTRYPOINT (tini): orphans are reaped, no zombie remains, SIGTERM drains and exits 0", async () => {
    const sup = await startAsPid1([...imageEntrypoint(tini as string)]);
    const initial = await processes(sup);
    const [init, supervisor] = [1, 2].map((pid) => initial.find((entry) => entry.pid === pid));
    expect(init?.args[0]).toBe(tini);
    expect(supervisor).toMatchObject({ ppid: 1, args: [process.execPath, expect.stringMatching(/supervisor\/dist\/cli\.js$/)] });
    await leaveOrphans(sup);
    // The app left 3 orphans at start and 3 now; each has exited by the time this passes.
    expect((await afterOrphansExit(sup)).filter((entry) => entry.state === 'Z')).toEqual([]);
    await stopWithRequestInFlight(sup);
  });

  it.runIf(tini)("behind the image's ENTRYPOINT under another PID 1 that reaps nothing (docker run --init): tini, a subreaper, reaps them", async () => {
    const sup = await startAsPid1([process.execPath, OTHER_INIT, ...imageEntrypoint(tini as string)]);
    const initial = await processes(sup);
    expect(initial.find((entry) => entry.pid === 1)?.args[1]).toBe(OTHER_INIT);
    const tiniPid = initial.find((entry) => entry.ppid === 1 && entry.args[0] === tini)?.pid;
    expect(tiniPid).toBeDefined();
    // The orphans are handed to tini, the nearest subreaper, not to PID 1.
    const response = await fetch(`${sup.url}/orphans?count=3&seconds=3`, { method: 'POST' });
    expect(response.status).toBe(200);
    await eventually(
      async () => ((await processes(sup)).filter((entry) => entry.command === 'sleep' && entry.state !== 'Z' && entry.ppid === tiniPid).length === 3 ? true : undefined),
      2_500,
      'three running orphans adopted by tini',
    );
    expect((await afterOrphansExit(sup)).filter((entry) => entry.state === 'Z')).toEqual([]);
    await stopWithRequestInFlight(sup);
  });

  it('alone, as `docker run` without --init would run it: SIGTERM drains and exits 0, but exited orphans stay zombies', async () => {
    const sup = await startAsPid1([]);
    expect((await processes(sup)).find((entry) => entry.pid === 1)?.args).toEqual([process.execPath, expect.stringMatching(/supervisor\/dist\/cli\.js$/)]);
    await leaveOrphans(sup);
    // Node reaps only the children it started itself; the adopted ones stay zombies until PID 1 exits.
    const zombies = await eventually(
      async () => {
        const found = (await processes(sup)).filter((entry) => entry.state === 'Z' && entry.ppid === 1);
        return found.length >= 6 ? found : undefined;
      },
      10_000,
      'the orphans to become zombies',
    );
    expect(zombies.map((entry) => entry.command)).toEqual(Array(zombies.length).fill('sleep'));
    await stopWithRequestInFlight(sup);
  });
});
