// Load generators: wrk (when installed: it leaves the most CPU to what is measured) or autocannon for HTTP
// over keep-alive connections, and a WebSocket ping-pong.
import { execFileSync, execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { benchConfig } from './config.js';

/** `wrk` when it is on PATH (BENCH_LOAD=autocannon forces autocannon). */
export const LOAD_TOOL: 'wrk' | 'autocannon' = benchConfig.forceAutocannon || !hasWrk() ? 'autocannon' : 'wrk';

function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
    return true;
  } catch (error) {
    // wrk prints its version with exit status 1; only a missing binary is ENOENT.
    return (error as { code?: string }).code !== 'ENOENT';
  }
}

export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Non-2xx answers plus connection errors and timeouts: must be 0 for a valid run. */
  readonly failures: number;
}

export interface HttpLoad {
  readonly url: string;
  readonly connections: number;
  readonly durationS: number;
  readonly method?: 'GET' | 'POST';
  readonly body?: Buffer;
}

export function httpLoad(load: HttpLoad): Promise<LoadResult> {
  return LOAD_TOOL === 'wrk' ? wrkLoad(load) : autocannonLoad(load);
}

const DURATION_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

function wrkMs(output: string, percentile: string): number {
  const match = new RegExp(`^\\s+${percentile}%\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(output);
  return match ? Number(match[1]) * (DURATION_UNITS[match[2] as string] ?? Number.NaN) : Number.NaN;
}

async function wrkLoad(load: HttpLoad): Promise<LoadResult> {
  const args = ['-t1', `-c${load.connections}`, `-d${load.durationS}s`, '--latency'];
  if (load.method === 'POST') {
    const script = path.join(os.tmpdir(), `bench-post-${load.body?.length ?? 0}.lua`);
    const body = (load.body ?? Buffer.alloc(0)).toString('latin1');
    writeFileSync(script, `wrk.method = "POST"\nwrk.body = string.rep("${body[0] ?? 'p'}", ${body.length})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`);
    args.push('-s', script);
  }
  const { stdout } = await promisify(execFile)('wrk', [...args, load.url]);
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    requests,
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0),
    p50Ms: wrkMs(stdout, '50'),
    p99Ms: wrkMs(stdout, '99'),
    failures:
      Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0) +
      (socketErrors ? socketErrors.slice(1).reduce((sum, count) => sum + Number(count), 0) : 0),
  };
}

async function autocannonLoad(load: HttpLoad): Promise<LoadResult> {
  const result = await autocannon({
    url: load.url,
    connections: load.connections,
    duration: load.durationS,
    method: load.method ?? 'GET',
    ...(load.body ? { body: load.body, headers: { 'content-type': 'application/octet-stream' } } : {}),
  });
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** `connections` sockets each send a 64-byte message and wait for its echo, for `durationS`. */
export async function webSocketLoad(url: string, connections: number, durationS: number): Promise<LoadResult> {
  const payload = Buffer.alloc(64, 'w');
  const latencies: number[] = [];
  let failures = 0;
  const deadline = performance.now() + durationS * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const socket = new WebSocket(url);
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      while (performance.now() < deadline) {
        const sentAt = performance.now();
        const echoed = new Promise<boolean>((resolve) => {
          socket.once('message', (data: Buffer) => resolve(data.length === payload.length));
        });
        socket.send(payload);
        if (await echoed) latencies.push(performance.now() - sentAt);
        else failures++;
      }
      socket.close();
    }),
  );
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / durationS,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    failures,
  };
}

/** Latencies of one request at a time to `url` while `whileRunning` runs. */
export async function probeLatency(url: string, whileRunning: Promise<unknown>): Promise<{ p50Ms: number; p99Ms: number; count: number }> {
  let running = true;
  void whileRunning.finally(() => (running = false));
  const latencies: number[] = [];
  while (running) {
    const sentAt = performance.now();
    const response = await fetch(url);
    await response.arrayBuffer();
    latencies.push(performance.now() - sentAt);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  latencies.sort((a, b) => a - b);
  return { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), count: latencies.length };
}
