// Startup: the supervisor's own CPU time and memory from exec to ready (read from /proc), its wall times, and
// migrations. A platform polls /health from the start on (Render every few seconds, Kubernetes' startup probe as
// often as every 100 ms): each start is measured polled every 100 ms from exec, a fresh connection per poll, and
// again with nothing sent to it before ready, the two kinds alternating.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { benchConfig } from './config.js';
import { between, parentPid, preciseCpuMicros, privateMb, rssMb, startSupervisor, waitForEntry, waitForPort, waitUntilReady } from './processes.js';
import type { Measurements } from './report.js';

const MIGRATION_COUNT = 500;
const POLL_EVERY_MS = 100;
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
  readonly privateOnceReady: number;
  readonly guardRssOnceReady: number;
  readonly guardPrivateOnceReady: number;
}

// GET /health on a connection of its own, as a platform's health check does; resolves once answered or refused.
function healthCheck(port: number): Promise<void> {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port, path: '/health', agent: false }, (response) => {
      response.resume();
      response.once('end', resolve);
    });
    request.once('error', () => resolve());
  });
}

/** Polls /health every POLL_EVERY_MS until the returned function is called. */
function pollHealth(port: number): () => void {
  let polling = true;
  void (async () => {
    while (polling) {
      await Promise.all([healthCheck(port), settle(POLL_EVERY_MS)]);
    }
  })();
  return () => (polling = false);
}

/** One start on an up-to-date database: CPU and RSS read the moment the `ready` transition is logged. */
async function coldStart(url: string, polled: boolean): Promise<StartRun> {
  const sup = await startSupervisor({ DATABASE_URL: url });
  const stopPolling = polled ? pollHealth(sup.port) : () => {};
  await waitForPort(sup.port);
  const bound = performance.now() - sup.startedAt;
  await waitForEntry(sup, (e) => e.to === 'ready');
  const ready = performance.now() - sup.startedAt;
  const cpuMs = preciseCpuMicros(sup.pid) / 1000;
  const rssAtReady = rssMb(sup.pid);
  stopPolling();
  const appPid = Number(sup.entries.find((e) => e.event === 'app_ready')?.childPid);
  const appCpuMs = preciseCpuMicros(appPid) / 1000;
  const appStartMs = between(sup.entries, (e) => e.event === 'app_spawn', (e) => e.event === 'app_ready');
  // The platform's first health check after ready: what it costs the supervisor, and its memory after it.
  const beforeHealth = preciseCpuMicros(sup.pid);
  await (await fetch(`http://127.0.0.1:${sup.port}/health`)).arrayBuffer();
  const firstHealthCpuMs = (preciseCpuMicros(sup.pid) - beforeHealth) / 1000;
  await settle(1000);
  const rssOnceReady = rssMb(sup.pid);
  // The app runs under the supervisor's guard process (child/child-guard.ts), the app's parent.
  const guardPid = parentPid(appPid);
  const memory = { privateOnceReady: privateMb(sup.pid), guardRssOnceReady: rssMb(guardPid), guardPrivateOnceReady: privateMb(guardPid) };
  await sup.stop();
  return { bound, ready, ownShare: ready - appStartMs, cpuMs, rssAtReady, appCpuMs, appStartMs, firstHealthCpuMs, rssOnceReady, ...memory };
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
  await coldStart(upToDateUrl, true);
  const runs: StartRun[] = [];
  const unpolledRuns: StartRun[] = [];
  for (let run = 0; run < benchConfig.startupRuns; run++) {
    for (const polled of run % 2 === 0 ? [true, false] : [false, true]) {
      const result = await coldStart(upToDateUrl, polled);
      (polled ? runs : unpolledRuns).push(result);
      const kind = polled ? 'polled' : 'unpolled';
      process.stderr.write(`  start ${run + 1}, ${kind}: own CPU ${result.cpuMs.toFixed(0)} ms, RSS ${result.rssAtReady.toFixed(0)} MB, ready after ${result.ready.toFixed(0)} ms\n`);
    }
  }
  const answered = [];
  for (let run = 0; run < EMPTY_DATABASE_RUNS; run++) answered.push(await answeredAfter(upToDateUrl));
  const emptyReady = [];
  for (let run = 0; run < EMPTY_DATABASE_RUNS; run++) emptyReady.push(await readyOnEmptyDatabase());
  const of = (pick: (run: StartRun) => number): number => median(runs.map(pick));
  return {
    ownCpuToReadyMs: of((r) => r.cpuMs),
    ownCpuToReadyUnpolledMs: median(unpolledRuns.map((r) => r.cpuMs)),
    rssAtReadyUnpolledMb: median(unpolledRuns.map((r) => r.rssAtReady)),
    appCpuToReadyMs: of((r) => r.appCpuMs),
    appStartMs: of((r) => r.appStartMs),
    firstHealthCpuMs: of((r) => r.firstHealthCpuMs),
    rssAtReadyMb: of((r) => r.rssAtReady),
    rssOnceReadyMb: of((r) => r.rssOnceReady),
    privateOnceReadyMb: of((r) => r.privateOnceReady),
    guardRssOnceReadyMb: of((r) => r.guardRssOnceReady),
    guardPrivateOnceReadyMb: of((r) => r.guardPrivateOnceReady),
    portBoundMs: of((r) => r.bound),
    healthAnswersMs: median(answered),
    readyUpToDateMs: of((r) => r.ready),
    ownShareUpToDateMs: of((r) => r.ownShare),
    readyEmptyMs: median(emptyReady),
    perMigrationMs: await perTrivialMigration(),
  };
}
