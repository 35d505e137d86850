// Renders the benchmark's figures as Markdown, with the machine and versions, and the targets met or missed.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ROOT } from './processes.js';
import type { ConnectionMemoryRow } from './connection-memory.js';
import { checkTargets, proxyCostRatios } from './targets.js';

export interface ProxyRow {
  readonly endpoint: string;
  readonly via: string;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rpsRatio: number;
  readonly p99Ratio: number;
  /** CPU time of the proxy process per request (per message for WebSocket), µs; none for direct. */
  readonly proxyCpuUs?: number;
  readonly upstreamCpuUs?: number;
  readonly failures: number;
}

export interface Measurements {
  readonly proxy: readonly ProxyRow[];
  readonly health: { idleRps: number; idleP99Ms: number; underLoadP50Ms: number; underLoadP99Ms: number };
  /** The supervisor's highest RSS while the proxy rounds ran. */
  readonly loadRssMb: number;
  readonly connectionMemory: readonly ConnectionMemoryRow[];
  readonly startup: {
    /** User + system CPU of the supervisor's own process from exec to the `ready` transition, /health polled every 100 ms. */
    ownCpuToReadyMs: number;
    /** The same with no request before ready. */
    ownCpuToReadyUnpolledMs: number;
    rssAtReadyUnpolledMb: number;
    /** The same for the app's process, spawned by the supervisor, until ready. */
    appCpuToReadyMs: number;
    appStartMs: number;
    /** What the first /health after ready costs the supervisor. */
    firstHealthCpuMs: number;
    rssAtReadyMb: number;
    /** 1 s after the first /health answered. */
    rssOnceReadyMb: number;
    /** At the same moment, the supervisor's memory not shared with other processes (see processes.ts privateMb). */
    privateOnceReadyMb: number;
    /** The app's guard process (child/child-guard.ts), at the same moment. */
    guardRssOnceReadyMb: number;
    guardPrivateOnceReadyMb: number;
    portBoundMs: number;
    healthAnswersMs: number;
    readyUpToDateMs: number;
    ownShareUpToDateMs: number;
    readyEmptyMs: number;
    perMigrationMs: number;
  };
  readonly settings: {
    rounds: number;
    durationS: number;
    connections: number;
    webSocketConnections: number;
    loadTool: string;
    /** nginx's version when it ran as the third case. */
    nginx: string | undefined;
    /** The memory limit the Node processes ran under (see memory-limit.ts), if any. */
    memoryLimitMb: number | undefined;
    /** How long the whole run took. */
    elapsedS: number;
  };
}

export const fixed = (value: number | undefined, digits = 0): string => (value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));

function version(pkg: string): string {
  return (JSON.parse(readFileSync(`${ROOT}node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version;
}

function proxyTable(m: Measurements): string[] {
  const pipe = (endpoint: string): number | undefined => m.proxy.find((r) => r.endpoint === endpoint && r.via === 'node:http pipe')?.proxyCpuUs;
  const nginx = (endpoint: string): number | undefined => m.proxy.find((r) => r.endpoint === endpoint && r.via === 'nginx')?.proxyCpuUs;
  return [
    '| endpoint | via | req/s | ×direct | p50 ms | p99 ms | p99 ×direct | proxy CPU µs/req | ×pipe | ×nginx | app CPU µs/req | failures |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...m.proxy.map((r) => {
      const cpu = r.proxyCpuUs;
      const overPipe = cpu === undefined ? undefined : cpu / (pipe(r.endpoint) ?? Number.NaN);
      const overNginx = cpu === undefined ? undefined : cpu / (nginx(r.endpoint) ?? Number.NaN);
      return `| ${r.endpoint} | ${r.via} | ${fixed(r.rps)} | ${fixed(r.rpsRatio, 2)} | ${fixed(r.p50Ms, 2)} | ${fixed(r.p99Ms, 2)} | ${fixed(r.p99Ratio, 2)} | ${fixed(cpu)} | ${fixed(overPipe, 2)} | ${fixed(overNginx, 2)} | ${fixed(r.upstreamCpuUs)} | ${r.failures} |`;
    }),
  ];
}

function startupTable(m: Measurements): string[] {
  const s = m.startup;
  return [
    '| figure | value |',
    '|---|---:|',
    `| **supervisor's own CPU, exec → ready** (user + system of its process, up-to-date database), /health polled every 100 ms / not polled | ${fixed(s.ownCpuToReadyMs)} / ${fixed(s.ownCpuToReadyUnpolledMs)} ms |`,
    `| the app's own CPU until ready / its start (spawn → health check answered) | ${fixed(s.appCpuToReadyMs)} ms / ${fixed(s.appStartMs)} ms |`,
    `| supervisor CPU for the first /health after ready | ${fixed(s.firstHealthCpuMs)} ms |`,
    `| start → port accepting connections | ${fixed(s.portBoundMs)} ms |`,
    `| start → /health answering | ${fixed(s.healthAnswersMs)} ms |`,
    `| start → ready, up-to-date database | ${fixed(s.readyUpToDateMs)} ms |`,
    `| … of which the supervisor's own share (without the app's start) | ${fixed(s.ownShareUpToDateMs)} ms |`,
    `| start → ready, empty database (3 migrations) | ${fixed(s.readyEmptyMs)} ms |`,
    `| one trivial migration (500 in a row) | ${fixed(s.perMigrationMs, 1)} ms |`,
    `| supervisor RSS at ready (polled / not polled) / once ready (after the first /health) / under load | ${fixed(s.rssAtReadyMb)} / ${fixed(s.rssAtReadyUnpolledMb)} / ${fixed(s.rssOnceReadyMb)} / ${fixed(m.loadRssMb)} MB |`,
    `| … of the RSS once ready, not shared with other processes (the node binary's pages are shared with the app's Node) | ${fixed(s.privateOnceReadyMb)} MB |`,
    `| the app's guard process (between the supervisor and the app), RSS / not shared, once ready | ${fixed(s.guardRssOnceReadyMb)} / ${fixed(s.guardPrivateOnceReadyMb)} MB |`,
    `| /health req/s, idle | ${fixed(m.health.idleRps)} |`,
    `| /health p99, idle | ${fixed(m.health.idleP99Ms, 1)} ms |`,
    `| /health p50 / p99 while the proxy is under load | ${fixed(m.health.underLoadP50Ms, 1)} / ${fixed(m.health.underLoadP99Ms, 1)} ms |`,
  ];
}

/** The report; `previous` is the last results file, whose p99 ratios are the baseline for "no regression" when it ran on the same machine and Node. */
function connectionMemoryTable(m: Measurements): string[] {
  return [
    'RSS growth per open connection, and what the process still held 10 s after they closed (800 of each kind; for direct, the app\'s process).',
    '',
    '| connections | via | KB each | MB kept after close |',
    '|---|---|---:|---:|',
    ...m.connectionMemory.map((row) => `| ${row.kind} | ${row.via} | ${fixed(row.perConnectionKb, 1)} | ${fixed(row.keptAfterMb, 1)} |`),
  ];
}

export function renderReport(m: Measurements, previous?: string): string {
  const cpus = os.cpus();
  const { settings } = m;
  const machine = `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'} · ${Math.round(os.totalmem() / 2 ** 30)} GiB · Node ${process.version}`;
  // p99 moves with the machine and Node's version: only a run on the same is a baseline.
  const baseline = previous?.split('\n', 3)[2]?.includes(` · ${machine} · `) ? previous : undefined;
  return [
    `# Benchmark results`,
    '',
    `${new Date().toISOString().slice(0, 10)} · ${machine} · pg ${version('pg')} · ${settings.nginx ?? 'no nginx'} · load from ${settings.loadTool} · ` +
      `${settings.rounds} interleaved rounds of ${settings.durationS} s, ${settings.connections} keep-alive connections ` +
      `(${settings.webSocketConnections} for WebSocket), medians · ` +
      (settings.memoryLimitMb ? `the Node processes under a ${settings.memoryLimitMb} MB memory limit` : 'no memory limit') +
      ` · the run took ${fixed(settings.elapsedS / 60, 1)} min`,
    '',
    '## Proxy',
    '',
    ...proxyTable(m),
    '',
    ...proxyCostRatios(m),
    '',
    '## Memory per connection',
    '',
    ...connectionMemoryTable(m),
    '',
    '## Startup, memory, health',
    '',
    ...startupTable(m),
    '',
    '## Targets',
    '',
    ...checkTargets(m, baseline),
  ].join('\n');
}
