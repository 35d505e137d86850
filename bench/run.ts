// `npm run bench`: the supervisor's cost side by side with the same app served bare, in one run.
// Cases are interleaved round by round and each figure is the median of the rounds, so that drift on a
// shared machine hits every case alike; compare the ratios, not the absolute numbers.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { benchConfig } from './config.js';
import { LOAD_TOOL, httpLoad, probeLatency, webSocketLoad, type LoadResult } from './load.js';
import { freePort } from '../supervisor/core/free-port.js';
import { PIPE_PROXY, ROOT, between, cpuMicros, rssMb, startProcess, startSupervisor, waitForPort, waitUntilReady } from './processes.js';
import { renderReport, type Measurements, type ProxyRow } from './report.js';

const { rounds: ROUNDS, durationS: DURATION_S, serverUrl: SERVER_URL } = benchConfig;
const CONNECTIONS = 32;
const STARTUP_RUNS = 5;
const MIGRATION_COUNT = 500;

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

type Target = { name: 'direct' | 'supervisor' | 'node:http pipe'; port: number; proxyPid?: number };

async function measureProxy(targets: Target[], upstreamPid: number, supervisorPid: number, rssSamples: number[]): Promise<ProxyRow[]> {
  const endpoints = [
    { name: 'small JSON (~200 B)', path: '/small' },
    { name: '64 KiB response', path: '/large' },
    { name: '16 KiB POST echo', path: '/echo', method: 'POST' as const, body: Buffer.alloc(16 * 1024, 'p') },
  ];
  const samples = new Map<string, { load: LoadResult; proxyCpu: number; upstreamCpu: number }[]>();
  const sampler = setInterval(() => rssSamples.push(rssMb(supervisorPid)), 200);
  for (let round = 0; round < ROUNDS; round++) {
    for (const endpoint of endpoints) {
      // Rotate the order each round so that no case always runs first or last.
      const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
      for (const target of order) {
        const upstreamBefore = cpuMicros(upstreamPid);
        const proxyBefore = target.proxyPid ? cpuMicros(target.proxyPid) : 0;
        const load = await httpLoad({ url: `http://127.0.0.1:${target.port}${endpoint.path}`, connections: CONNECTIONS, durationS: DURATION_S, method: endpoint.method, body: endpoint.body });
        const proxyCpu = target.proxyPid ? (cpuMicros(target.proxyPid) - proxyBefore) / load.requests : 0;
        const upstreamCpu = (cpuMicros(upstreamPid) - upstreamBefore) / load.requests;
        const key = `${endpoint.name}|${target.name}`;
        samples.set(key, [...(samples.get(key) ?? []), { load, proxyCpu, upstreamCpu }]);
        process.stderr.write(`  ${endpoint.name} via ${target.name}: ${Math.round(load.rps)} req/s p99 ${load.p99Ms} ms\n`);
      }
    }
  }
  clearInterval(sampler);
  const rows: ProxyRow[] = [];
  for (const endpoint of endpoints) {
    const direct = samples.get(`${endpoint.name}|direct`) ?? [];
    for (const target of targets) {
      const runs = samples.get(`${endpoint.name}|${target.name}`) ?? [];
      rows.push({
        endpoint: endpoint.name,
        via: target.name,
        rps: median(runs.map((run) => run.load.rps)),
        p50Ms: median(runs.map((run) => run.load.p50Ms)),
        p99Ms: median(runs.map((run) => run.load.p99Ms)),
        rpsRatio: median(runs.map((run) => run.load.rps)) / median(direct.map((run) => run.load.rps)),
        p99Ratio: median(runs.map((run) => run.load.p99Ms)) / median(direct.map((run) => run.load.p99Ms)),
        proxyCpuUs: target.proxyPid ? median(runs.map((run) => run.proxyCpu)) : undefined,
        upstreamCpuUs: median(runs.map((run) => run.upstreamCpu)),
        failures: runs.reduce((sum, run) => sum + run.load.failures, 0),
      });
    }
  }
  return rows;
}

async function measureWebSocket(direct: number, supervised: number): Promise<ProxyRow[]> {
  const runs: Record<'direct' | 'supervisor', LoadResult[]> = { direct: [], supervisor: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, port] of round % 2 === 0 ? ([['direct', direct], ['supervisor', supervised]] as const) : ([['supervisor', supervised], ['direct', direct]] as const)) {
      runs[name].push(await webSocketLoad(`ws://127.0.0.1:${port}/ws`, 16, DURATION_S));
    }
  }
  const directRps = median(runs.direct.map((run) => run.rps));
  const directP99 = median(runs.direct.map((run) => run.p99Ms));
  return (['direct', 'supervisor'] as const).map((via) => ({
    endpoint: 'WebSocket echo (64 B)',
    via,
    rps: median(runs[via].map((run) => run.rps)),
    p50Ms: median(runs[via].map((run) => run.p50Ms)),
    p99Ms: median(runs[via].map((run) => run.p99Ms)),
    rpsRatio: median(runs[via].map((run) => run.rps)) / directRps,
    p99Ratio: median(runs[via].map((run) => run.p99Ms)) / directP99,
    failures: runs[via].reduce((sum, run) => sum + run.failures, 0),
  }));
}

async function measureStartup(upToDateUrl: string): Promise<Measurements['startup']> {
  const bound: number[] = [];
  const answered: number[] = [];
  const ready: number[] = [];
  const ownShare: number[] = [];
  for (let run = 0; run < STARTUP_RUNS; run++) {
    const sup = await startSupervisor({ DATABASE_URL: upToDateUrl });
    await waitForPort(sup.port);
    bound.push(performance.now() - sup.startedAt);
    const times = await waitUntilReady(sup);
    answered.push(times.answeredMs);
    ready.push(times.readyMs);
    ownShare.push(times.readyMs - between(sup.entries, (e) => e.event === 'app_spawn', (e) => e.event === 'app_ready'));
    await sup.stop();
  }
  const emptyReady: number[] = [];
  for (let run = 0; run < 3; run++) {
    emptyReady.push(
      await withDatabase(async (url) => {
        const sup = await startSupervisor({ DATABASE_URL: url });
        const { readyMs } = await waitUntilReady(sup);
        await sup.stop();
        return readyMs;
      }),
    );
  }
  const perMigrationMs = await withDatabase(async (url) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-migrations-'));
    try {
      for (let i = 1; i <= MIGRATION_COUNT; i++) {
        await writeFile(path.join(dir, `${String(i).padStart(4, '0')}_t${i}.sql`), `CREATE TABLE t${i} (id integer PRIMARY KEY);`);
      }
      const sup = await startSupervisor({ DATABASE_URL: url, MIGRATIONS_DIR: dir, REQUIRED_TABLES: `t1,t${MIGRATION_COUNT}` });
      await waitUntilReady(sup);
      const migratingMs = between(sup.entries, (e) => e.to === 'migrating', (e) => e.to === 'verifying_schema');
      await sup.stop();
      return migratingMs / MIGRATION_COUNT;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  return {
    portBoundMs: median(bound),
    healthAnswersMs: median(answered),
    readyUpToDateMs: median(ready),
    ownShareUpToDateMs: median(ownShare),
    readyEmptyMs: median(emptyReady),
    perMigrationMs,
  };
}

async function main(): Promise<void> {
  await withDatabase(async (url) => {
    process.stderr.write('proxy: starting the supervisor and the reference proxy\n');
    const sup = await startSupervisor({ DATABASE_URL: url });
    await waitUntilReady(sup);
    const appPid = Number(sup.entries.find((e) => e.event === 'app_ready')?.childPid);
    const appPort = Number(sup.entries.find((e) => e.event === 'app_spawn')?.port);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idleRssMb = rssMb(sup.pid);
    const pipePort = await freePort();
    const pipe = startProcess(PIPE_PROXY, { PORT: String(pipePort), TARGET_PORT: String(appPort) });
    await waitForPort(pipePort);

    const rssSamples: number[] = [];
    const targets: Target[] = [
      { name: 'direct', port: appPort },
      { name: 'supervisor', port: sup.port, proxyPid: sup.pid },
      { name: 'node:http pipe', port: pipePort, proxyPid: pipe.pid! },
    ];
    const proxy = await measureProxy(targets, appPid, sup.pid, rssSamples);
    process.stderr.write('websocket\n');
    const webSocket = await measureWebSocket(appPort, sup.port);

    process.stderr.write('health\n');
    const idle = await httpLoad({ url: `http://127.0.0.1:${sup.port}/health`, connections: 8, durationS: DURATION_S });
    const load = httpLoad({ url: `http://127.0.0.1:${sup.port}/small`, connections: CONNECTIONS, durationS: DURATION_S });
    const underLoad = await probeLatency(`http://127.0.0.1:${sup.port}/health`, load);
    await load;
    pipe.kill('SIGTERM');
    await sup.stop();

    process.stderr.write('startup\n');
    const startup = await measureStartup(url);
    const measurements: Measurements = {
      proxy: [...proxy, ...webSocket],
      health: { idleRps: idle.rps, idleP99Ms: idle.p99Ms, underLoadP99Ms: underLoad.p99Ms, underLoadP50Ms: underLoad.p50Ms },
      memory: { idleRssMb, loadRssMb: Math.max(...rssSamples) },
      startup,
      settings: { rounds: ROUNDS, durationS: DURATION_S, connections: CONNECTIONS, loadTool: LOAD_TOOL },
    };
    const report = renderReport(measurements);
    process.stdout.write(`${report}\n`);
    await mkdir(path.join(ROOT, 'bench/results'), { recursive: true });
    await writeFile(path.join(ROOT, 'bench/results/latest.md'), `${report}\n`);
  });
}

await main();
