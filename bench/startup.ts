// Startup: the supervisor's own CPU time and memory from exec to ready (read from /proc, with no request sent
// to it before ready, as on a cold start that nothing polls yet), its wall times, and migrations.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { benchConfig } from './config.js';
import { between, preciseCpuMicros, rssMb, startSupervisor, waitForEntry, waitForPort, waitUntilReady } from './processes.js';
import type { Measurements } from './report.js';

const MIGRATION_COUNT = 500;
const EMPTY_DATABASE_RUNS = 3;

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** A fresh database on the benchmark's server for `fn`, dropped after it. */
export async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: benchConfig.serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(benchConfig.serverUrl);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const settle = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface StartRun {
  readonly bound: number;
  readonly ready: number;
  readonly ownShare: number;
  readonly cpuMs: number;
  readonly rssAtReady: number;
  readonly appCpuMs: number;
  readonly appStartMs: number;
  readonly firstHealthCpuMs: number;
  readonly rssOnceReady: number;
}

/** One start on an up-to-date database: CPU and RSS read the moment the `ready` transition is logged. */
async function coldStart(url: string): Promise<StartRun> {
  const sup = await startSupervisor({ DATABASE_URL: url });
  await waitForPort(sup.port);
  const bound = performance.now() - sup.startedAt;
  await waitForEntry(sup, (e) => e.to === 'ready');
  const ready = performance.now() - sup.startedAt;
  const cpuMs = preciseCpuMicros(sup.pid) / 1000;
  const rssAtReady = rssMb(sup.pid);
  const appPid = Number(sup.entries.find((e) => e.event === 'app_ready')?.childPid);
  const appCpuMs = preciseCpuMicros(appPid) / 1000;
  const appStartMs = between(sup.entries, (e) => e.event === 'app_spawn', (e) => e.event === 'app_ready');
  // The platform's first health check after ready: what it costs the supervisor, and its memory after it.
  const beforeHealth = preciseCpuMicros(sup.pid);
  await (await fetch(`http://127.0.0.1:${sup.port}/health`)).arrayBuffer();
  const firstHealthCpuMs = (preciseCpuMicros(sup.pid) - beforeHealth) / 1000;
  await settle(1000);
  const rssOnceReady = rssMb(sup.pid);
  await sup.stop();
  return { bound, ready, ownShare: ready - appStartMs, cpuMs, rssAtReady, appCpuMs, appStartMs, firstHealthCpuMs, rssOnceReady };
}

async function answeredAfter(url: string): Promise<number> {
  const sup = await startSupervisor({ DATABASE_URL: url });
  const { answeredMs } = await waitUntilReady(sup);
  await sup.stop();
  return answeredMs;
}

async function readyOnEmptyDatabase(): Promise<number> {
  return withDatabase(async (url) => {
    const sup = await startSupervisor({ DATABASE_URL: url });
    const { readyMs } = await waitUntilReady(sup);
    await sup.stop();
    return readyMs;
  });
}

async function perTrivialMigration(): Promise<number> {
  return withDatabase(async (url) => {
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
}

/** `upToDateUrl` has had its migrations applied already. The first start warms the disk cache and is not counted. */
export async function measureStartup(upToDateUrl: string): Promise<Measurements['startup']> {
  await coldStart(upToDateUrl);
  const runs: StartRun[] = [];
  for (let run = 0; run < benchConfig.startupRuns; run++) {
    const result = await coldStart(upToDateUrl);
    runs.push(result);
    process.stderr.write(`  start ${run + 1}: own CPU ${result.cpuMs.toFixed(0)} ms, RSS ${result.rssAtReady.toFixed(0)} MB, ready after ${result.ready.toFixed(0)} ms\n`);
  }
  const answered = [];
  for (let run = 0; run < EMPTY_DATABASE_RUNS; run++) answered.push(await answeredAfter(upToDateUrl));
  const emptyReady = [];
  for (let run = 0; run < EMPTY_DATABASE_RUNS; run++) emptyReady.push(await readyOnEmptyDatabase());
  const of = (pick: (run: StartRun) => number): number => median(runs.map(pick));
  return {
    ownCpuToReadyMs: of((r) => r.cpuMs),
    appCpuToReadyMs: of((r) => r.appCpuMs),
    appStartMs: of((r) => r.appStartMs),
    firstHealthCpuMs: of((r) => r.firstHealthCpuMs),
    rssAtReadyMb: of((r) => r.rssAtReady),
    rssOnceReadyMb: of((r) => r.rssOnceReady),
    portBoundMs: of((r) => r.bound),
    healthAnswersMs: median(answered),
    readyUpToDateMs: of((r) => r.ready),
    ownShareUpToDateMs: of((r) => r.ownShare),
    readyEmptyMs: median(emptyReady),
    perMigrationMs: await perTrivialMigration(),
  };
}
