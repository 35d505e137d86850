// Starting the measured processes and reading their CPU time and memory from /proc (Linux).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../supervisor/core/free-port.js';
import { childEnv } from './config.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SUPERVISOR_CLI = fileURLToPath(new URL('../../supervisor/dist/cli.js', import.meta.url));
export const UPSTREAM = fileURLToPath(new URL('./upstream.js', import.meta.url));
export const PIPE_PROXY = fileURLToPath(new URL('./pipe-proxy.js', import.meta.url));

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** User + system CPU time of a process so far, in microseconds. */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND) * 1e6;
}

/** Resident memory in MB. */
export function rssMb(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? 0) / 1024;
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
  const child = spawn(process.execPath, [SUPERVISOR_CLI], {
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

/** Waits until /health answers 200; returns when it first answered at all and when it was ready (ms after start). */
export async function waitUntilReady(sup: Supervisor): Promise<{ answeredMs: number; readyMs: number }> {
  let answeredMs: number | undefined;
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${sup.port}/health`);
      answeredMs ??= performance.now() - sup.startedAt;
      if (response.status === 200) return { answeredMs, readyMs: performance.now() - sup.startedAt };
      if (sup.process.exitCode !== null) throw new Error('the supervisor exited before it was ready');
    } catch (error) {
      if (sup.process.exitCode !== null) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Milliseconds between two of the supervisor's own log events (their `time` fields). */
export function between(entries: Record<string, unknown>[], from: (e: Record<string, unknown>) => boolean, to: (e: Record<string, unknown>) => boolean): number {
  const start = entries.find(from)?.time as number | undefined;
  const end = entries.find(to)?.time as number | undefined;
  return start !== undefined && end !== undefined ? end - start : Number.NaN;
}

export function startProcess(script: string, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [script], { cwd: ROOT, env: childEnv(env), stdio: 'inherit' });
}
