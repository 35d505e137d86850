// Starting the measured processes and reading their CPU time and memory from /proc (Linux).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../supervisor/core/free-port.js';
import { childEnv } from './config.js';
import type { MemoryLimit } from './memory-limit.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The command as a user runs it: through the bin, which sets up what the process runs with before the CLI loads.
export const SUPERVISOR_BIN = fileURLToPath(new URL('../../supervisor/bin/health-gate.js', import.meta.url));
export const UPSTREAM = fileURLToPath(new URL('./upstream.js', import.meta.url));
export const PIPE_PROXY = fileURLToPath(new URL('./pipe-proxy.js', import.meta.url));

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** User + system CPU time of a process so far, in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
}

/**
 * The same to the nanosecond (not in clock ticks of 10 ms), summed over the process's threads: for short spans
 * such as a start. Time of threads that have ended is not in it.
 */
export function preciseCpuMicros(pid: number): number {
  let nanoseconds = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    nanoseconds += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
  }
  return nanoseconds / 1000;
}

let memoryLimit: MemoryLimit | undefined;

/** From now on, the supervisor (with its app) and the reference pipe start inside `limit`. */
export function startInside(limit: MemoryLimit | undefined): void {
  memoryLimit = limit;
}

function nodeCommand(script: string): [string, string[]] {
  return memoryLimit ? memoryLimit.wrap(process.execPath, [script]) : [process.execPath, [script]];
}

/** Resident memory in MB. */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
}

/**
 * Memory of the process's own, in MB: its resident pages that no other process shares (smaps_rollup's Private_*).
 * The node binary's pages, most of a Node process's RSS, are shared with every other Node process on the machine
 * (the app's among them) and counted once in the instance's memory.
 */
export function privateMb(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kilobytes = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? 0);
  return (kilobytes('Private_Clean') + kilobytes('Private_Dirty')) / 1024;
}

/** The parent's pid of a process. */
export function parentPid(pid: number): number {
  return Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

export async function waitForPort(port: number): Promise<void> {
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    }).then((ok) => ok);
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export interface Supervisor {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly startedAt: number;
  /** The supervisor's JSON log entries so far. */
  readonly entries: Record<string, unknown>[];
  stop(): Promise<void>;
}

export async function startSupervisor(env: Record<string, string>): Promise<Supervisor> {
  const port = await freePort();
  const startedAt = performance.now();
  const [command, args] = nodeCommand(SUPERVISOR_BIN);
  const child = spawn(command, args, {
    cwd: ROOT,
    env: childEnv({ APP_COMMAND: `${process.execPath} ${UPSTREAM}`, LOG_FORMAT: 'json', HOST: '127.0.0.1', PORT: String(port), ...env }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const entries: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not a log entry
    }
  });
  const exited = once(child, 'exit');
  return {
    process: child,
    pid: child.pid!,
    port,
    startedAt,
    entries,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * Waits until /health answers 200 and the log has reached the `ready` transition (its lines may arrive after the
 * answer); returns when /health first answered at all and when it was ready (ms after start).
 */
export async function waitUntilReady(sup: Supervisor): Promise<{ answeredMs: number; readyMs: number }> {
  let answeredMs: number | undefined;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${sup.port}/health`);
      answeredMs ??= performance.now() - sup.startedAt;
      if (response.status === 200) {
        const readyMs = performance.now() - sup.startedAt;
        await waitForEntry(sup, (e) => e.to === 'ready');
        return { answeredMs, readyMs };
      }
      const error = ended(sup);
      if (error) throw error;
    } catch (error) {
      // Refused while the port is not open yet; once the process is gone, why it ended is the error.
      const gone = ended(sup);
      if (gone) throw gone;
      if (!(error instanceof TypeError)) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

// A process killed by a signal (SIGKILL from the kernel when it runs out of memory under the limit) has no exit code.
function ended(sup: Supervisor): Error | undefined {
  const { exitCode, signalCode } = sup.process;
  if (exitCode === null && signalCode === null) return undefined;
  const how = signalCode === 'SIGKILL' ? 'was killed (SIGKILL: out of memory under the limit?)' : `ended (${exitCode ?? signalCode})`;
  return new Error(`the supervisor ${how} before it was ready`);
}

/** Resolves with the first log entry that matches, as soon as it is written (no request to the supervisor). */
export async function waitForEntry(sup: Supervisor, match: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  for (;;) {
    const entry = sup.entries.find(match);
    if (entry) return entry;
    const error = ended(sup);
    if (error) throw error;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** Milliseconds between two of the supervisor's own log events (their `time` fields). */
export function between(entries: Record<string, unknown>[], from: (e: Record<string, unknown>) => boolean, to: (e: Record<string, unknown>) => boolean): number {
  const start = entries.find(from)?.time as number | undefined;
  const end = entries.find(to)?.time as number | undefined;
  return start !== undefined && end !== undefined ? end - start : Number.NaN;
}

export function startProcess(script: string, env: Record<string, string>): ChildProcess {
  const [command, args] = nodeCommand(script);
  return spawn(command, args, { cwd: ROOT, env: childEnv(env), stdio: 'inherit' });
}
