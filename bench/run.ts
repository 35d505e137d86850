// `npm run bench`: the supervisor's cost side by side with the same app served bare, through a minimal node:http
// pipe and (when installed) through nginx, in one run. Cases are interleaved round by round and each figure is the
// median of the rounds, so that drift on a shared machine hits every case alike; compare the ratios.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { benchConfig } from './config.js';
import { CONNECTION_KINDS, measureConnectionMemory, type ConnectionMemoryRow } from './connection-memory.js';
import { LOAD_TOOL, httpLoad, probeLatency, webSocketLoad, type LoadResult } from './load.js';
import { setUpMemoryLimit, type MemoryLimit } from './memory-limit.js';
import { findNginx, nginxVersion, startNginx } from './nginx.js';
import { freePort } from '../supervisor/core/free-port.js';
import { PIPE_PROXY, ROOT, cpuMicros, rssMb, startInside, startProcess, startSupervisor, waitForPort, waitUntilReady } from './processes.js';
import { renderReport, type Measurements, type ProxyRow } from './report.js';
import { measureStartup, median, withDatabase } from './startup.js';

const { rounds: ROUNDS, durationS: DURATION_S } = benchConfig;
const CONNECTIONS = 32;
const WEBSOCKET_CONNECTIONS = 16;
const RESULTS = path.join(ROOT, 'bench/results/latest.md');

type Via = 'direct' | 'supervisor' | 'node:http pipe' | 'nginx';
type Target = { readonly name: Via; readonly port: number; readonly proxyPid?: number; readonly webSocket: boolean };
type Sample = { load: LoadResult; proxyCpu: number; upstreamCpu: number };

const ENDPOINTS = [
  { name: 'small JSON (~200 B)', path: '/small' },
  { name: '64 KiB response', path: '/large' },
  { name: '16 KiB POST echo', path: '/echo', method: 'POST' as const, body: Buffer.alloc(16 * 1024, 'p') },
];
const WEBSOCKET = 'WebSocket echo (64 B)';

// One load against one target, with the CPU that the proxy and the app spent on it per request (or message).
async function sample(target: Target, upstreamPid: number, run: () => Promise<LoadResult>): Promise<Sample> {
  const upstreamBefore = cpuMicros(upstreamPid);
  const proxyBefore = target.proxyPid ? cpuMicros(target.proxyPid) : 0;
  const load = await run();
  return {
    load,
    proxyCpu: target.proxyPid ? (cpuMicros(target.proxyPid) - proxyBefore) / load.requests : 0,
    upstreamCpu: (cpuMicros(upstreamPid) - upstreamBefore) / load.requests,
  };
}

function rows(endpoint: string, targets: readonly Target[], samples: Map<string, Sample[]>): ProxyRow[] {
  const direct = samples.get(`${endpoint}|direct`) ?? [];
  const directRps = median(direct.map((s) => s.load.rps));
  const directP99 = median(direct.map((s) => s.load.p99Ms));
  return targets.flatMap((target) => {
    const runs = samples.get(`${endpoint}|${target.name}`);
    if (!runs) return [];
    return [
      {
        endpoint,
        via: target.name,
        rps: median(runs.map((s) => s.load.rps)),
        p50Ms: median(runs.map((s) => s.load.p50Ms)),
        p99Ms: median(runs.map((s) => s.load.p99Ms)),
        rpsRatio: median(runs.map((s) => s.load.rps)) / directRps,
        p99Ratio: median(runs.map((s) => s.load.p99Ms)) / directP99,
        proxyCpuUs: target.proxyPid ? median(runs.map((s) => s.proxyCpu)) : undefined,
        upstreamCpuUs: median(runs.map((s) => s.upstreamCpu)),
        failures: runs.reduce((sum, s) => sum + s.load.failures, 0),
      },
    ];
  });
}

async function measureProxy(targets: readonly Target[], upstreamPid: number, supervisorPid: number, rssSamples: number[]): Promise<ProxyRow[]> {
  const samples = new Map<string, Sample[]>();
  const add = (key: string, value: Sample): void => void samples.set(key, [...(samples.get(key) ?? []), value]);
  const sampler = setInterval(() => rssSamples.push(rssMb(supervisorPid)), 200);
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order each round so that no case always runs first or last.
    const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
    for (const endpoint of ENDPOINTS) {
      for (const target of order) {
        const url = `http://127.0.0.1:${target.port}${endpoint.path}`;
        const result = await sample(target, upstreamPid, () => httpLoad({ url, connections: CONNECTIONS, durationS: DURATION_S, method: endpoint.method, body: endpoint.body }));
        add(`${endpoint.name}|${target.name}`, result);
        process.stderr.write(`  ${endpoint.name} via ${target.name}: ${Math.round(result.load.rps)} req/s p99 ${result.load.p99Ms} ms\n`);
      }
    }
    for (const target of order.filter((t) => t.webSocket)) {
      const result = await sample(target, upstreamPid, () => webSocketLoad(`ws://127.0.0.1:${target.port}/ws`, WEBSOCKET_CONNECTIONS, DURATION_S));
      add(`${WEBSOCKET}|${target.name}`, result);
      process.stderr.write(`  ${WEBSOCKET} via ${target.name}: ${Math.round(result.load.rps)} msg/s p99 ${result.load.p99Ms.toFixed(2)} ms\n`);
    }
  }
  clearInterval(sampler);
  return [...ENDPOINTS.map((e) => e.name), WEBSOCKET].flatMap((endpoint) => rows(endpoint, targets, samples));
}

const startedAt = performance.now();

async function main(): Promise<void> {
  const previous = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : undefined;
  const nginx = findNginx();
  const memoryLimit = setUpMemoryLimit();
  startInside(memoryLimit);
  try {
    await measureAndReport(previous, nginx, memoryLimit);
  } finally {
    memoryLimit?.remove();
  }
}

async function measureAndReport(previous: string | undefined, nginx: string | undefined, memoryLimit: MemoryLimit | undefined): Promise<void> {
  await withDatabase(async (url) => {
    process.stderr.write(`proxy: starting the supervisor, the reference pipe${nginx ? ' and nginx' : ''}\n`);
    const sup = await startSupervisor({ DATABASE_URL: url });
    await waitUntilReady(sup).catch(async (error: unknown) => {
      await sup.stop();
      throw error;
    });
    const appPid = Number(sup.entries.find((e) => e.event === 'app_ready')?.childPid);
    const appPort = Number(sup.entries.find((e) => e.event === 'app_spawn')?.port);
    const pipePort = await freePort();
    const pipe = startProcess(PIPE_PROXY, { PORT: String(pipePort), TARGET_PORT: String(appPort) });
    const nginxPort = await freePort();
    const nginxProcess = nginx ? startNginx(nginx, nginxPort, appPort) : undefined;
    await Promise.all([waitForPort(pipePort), nginxProcess && waitForPort(nginxPort)]);

    const rssSamples: number[] = [];
    const targets: Target[] = [
      { name: 'direct', port: appPort, webSocket: true },
      { name: 'supervisor', port: sup.port, proxyPid: sup.pid, webSocket: true },
      { name: 'node:http pipe', port: pipePort, proxyPid: pipe.pid!, webSocket: false },
      ...(nginxProcess ? [{ name: 'nginx' as const, port: nginxPort, proxyPid: nginxProcess.process.pid!, webSocket: true }] : []),
    ];
    let proxy: ProxyRow[];
    let idle: LoadResult;
    let underLoad: Awaited<ReturnType<typeof probeLatency>>;
    const connectionMemory: ConnectionMemoryRow[] = [];
    try {
      proxy = await measureProxy(targets, appPid, sup.pid, rssSamples);
      process.stderr.write('memory per connection\n');
      for (const kind of CONNECTION_KINDS) {
        for (const target of targets.filter((one) => one.webSocket)) {
          connectionMemory.push(await measureConnectionMemory(kind, target.name, target.port, target.proxyPid ?? appPid));
        }
      }
      process.stderr.write('health\n');
      idle = await httpLoad({ url: `http://127.0.0.1:${sup.port}/health`, connections: 8, durationS: DURATION_S });
      const load = httpLoad({ url: `http://127.0.0.1:${sup.port}/small`, connections: CONNECTIONS, durationS: DURATION_S });
      underLoad = await probeLatency(`http://127.0.0.1:${sup.port}/health`, load);
      await load;
    } finally {
      // Nothing the bench started outlives a failed run.
      pipe.kill('SIGTERM');
      nginxProcess?.stop();
      await sup.stop();
    }

    process.stderr.write('startup\n');
    const startup = await measureStartup(url);
    const measurements: Measurements = {
      proxy,
      health: { idleRps: idle.rps, idleP99Ms: idle.p99Ms, underLoadP99Ms: underLoad.p99Ms, underLoadP50Ms: underLoad.p50Ms },
      loadRssMb: Math.max(...rssSamples),
      connectionMemory,
      startup,
      settings: {
        rounds: ROUNDS,
        durationS: DURATION_S,
        connections: CONNECTIONS,
        webSocketConnections: WEBSOCKET_CONNECTIONS,
        loadTool: LOAD_TOOL,
        nginx: nginx && nginxVersion(nginx),
        memoryLimitMb: memoryLimit?.megabytes,
        elapsedS: (performance.now() - startedAt) / 1000,
      },
    };
    const report = renderReport(measurements, previous);
    process.stdout.write(`${report}\n`);
    await mkdir(path.dirname(RESULTS), { recursive: true });
    await writeFile(RESULTS, `${report}\n`);
  });
}

await main();
