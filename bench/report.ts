// Renders the benchmark's figures as Markdown, with the machine and versions, and the targets met or missed.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ROOT } from './processes.js';

export interface ProxyRow {
  readonly endpoint: string;
  readonly via: string;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly rpsRatio: number;
  readonly p99Ratio: number;
  /** CPU time of the proxy process per request, µs (none for direct). */
  readonly proxyCpuUs?: number;
  readonly upstreamCpuUs?: number;
  readonly failures: number;
}

export interface Measurements {
  readonly proxy: readonly ProxyRow[];
  readonly health: { idleRps: number; idleP99Ms: number; underLoadP50Ms: number; underLoadP99Ms: number };
  readonly memory: { idleRssMb: number; loadRssMb: number };
  readonly startup: {
    portBoundMs: number;
    healthAnswersMs: number;
    readyUpToDateMs: number;
    ownShareUpToDateMs: number;
    readyEmptyMs: number;
    perMigrationMs: number;
  };
  readonly settings: { rounds: number; durationS: number; connections: number; loadTool: string };
}

const fixed = (value: number | undefined, digits = 0): string => (value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits));
const verdict = (ok: boolean): string => (ok ? 'met' : '**missed**');

function version(pkg: string): string {
  return (JSON.parse(readFileSync(`${ROOT}node_modules/${pkg}/package.json`, 'utf8')) as { version: string }).version;
}

function row(endpoint: string, via: string, rows: readonly ProxyRow[]): ProxyRow | undefined {
  return rows.find((r) => r.endpoint === endpoint && r.via === via);
}

export function renderReport(m: Measurements): string {
  const cpus = os.cpus();
  const lines = [
    `# Benchmark results`,
    '',
    `${new Date().toISOString().slice(0, 10)} · ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'} · ${Math.round(os.totalmem() / 2 ** 30)} GiB · ` +
      `Node ${process.version} · fastify ${version('fastify')} · pg ${version('pg')} · load from ${m.settings.loadTool} · ` +
      `${m.settings.rounds} interleaved rounds of ${m.settings.durationS} s, ${m.settings.connections} keep-alive connections, medians`,
    '',
    '## Proxy',
    '',
    '| endpoint | via | req/s | ×direct | p50 ms | p99 ms | p99 ×direct | proxy CPU µs/req | app CPU µs/req | failures |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...m.proxy.map(
      (r) =>
        `| ${r.endpoint} | ${r.via} | ${fixed(r.rps)} | ${fixed(r.rpsRatio, 2)} | ${fixed(r.p50Ms, 1)} | ${fixed(r.p99Ms, 1)} | ${fixed(r.p99Ratio, 2)} | ${fixed(r.proxyCpuUs)} | ${fixed(r.upstreamCpuUs)} | ${r.failures} |`,
    ),
    '',
    '## Health, startup, memory',
    '',
    '| figure | value |',
    '|---|---:|',
    `| /health req/s, idle | ${fixed(m.health.idleRps)} |`,
    `| /health p99, idle | ${fixed(m.health.idleP99Ms, 1)} ms |`,
    `| /health p50 / p99 while the proxy is under load | ${fixed(m.health.underLoadP50Ms, 1)} / ${fixed(m.health.underLoadP99Ms, 1)} ms |`,
    `| start → port accepting connections | ${fixed(m.startup.portBoundMs)} ms |`,
    `| start → /health answering | ${fixed(m.startup.healthAnswersMs)} ms |`,
    `| start → ready, up-to-date database | ${fixed(m.startup.readyUpToDateMs)} ms |`,
    `| … of which the supervisor's own share (without the app's start) | ${fixed(m.startup.ownShareUpToDateMs)} ms |`,
    `| start → ready, empty database (3 migrations) | ${fixed(m.startup.readyEmptyMs)} ms |`,
    `| one trivial migration (500 in a row) | ${fixed(m.startup.perMigrationMs, 1)} ms |`,
    `| supervisor RSS idle / under load | ${fixed(m.memory.idleRssMb)} / ${fixed(m.memory.loadRssMb)} MB |`,
    '',
    ...targets(m),
  ];
  return lines.join('\n');
}

function targets(m: Measurements): string[] {
  const small = row('small JSON (~200 B)', 'supervisor', m.proxy);
  const smallPipe = row('small JSON (~200 B)', 'node:http pipe', m.proxy);
  const large = row('64 KiB response', 'supervisor', m.proxy);
  const worstP99 = Math.max(...m.proxy.filter((r) => r.via === 'supervisor').map((r) => r.p99Ratio));
  const checks: [string, string, boolean][] = [
    ['small responses ≥ 0.8× direct', fixed(small?.rpsRatio, 2), (small?.rpsRatio ?? 0) >= 0.8],
    [
      'supervisor CPU/request below the node:http pipe\'s',
      `${fixed(small?.proxyCpuUs)} vs ${fixed(smallPipe?.proxyCpuUs)} µs`,
      (small?.proxyCpuUs ?? Infinity) < (smallPipe?.proxyCpuUs ?? 0),
    ],
    ['64 KiB responses ≥ 0.7× direct', fixed(large?.rpsRatio, 2), (large?.rpsRatio ?? 0) >= 0.7],
    ['p99 ≤ 1.5× direct (worst endpoint)', fixed(worstP99, 2), worstP99 <= 1.5],
    ['start → port < 300 ms', `${fixed(m.startup.portBoundMs)} ms`, m.startup.portBoundMs < 300],
    ['own share of start → ready < 150 ms', `${fixed(m.startup.ownShareUpToDateMs)} ms`, m.startup.ownShareUpToDateMs < 150],
    ['< 10 ms per trivial migration', `${fixed(m.startup.perMigrationMs, 1)} ms`, m.startup.perMigrationMs < 10],
    ['RSS < 80 MB idle', `${fixed(m.memory.idleRssMb)} MB`, m.memory.idleRssMb < 80],
    ['RSS < 120 MB under load', `${fixed(m.memory.loadRssMb)} MB`, m.memory.loadRssMb < 120],
  ];
  return ['## Targets', '', '| target | measured | |', '|---|---:|---|', ...checks.map(([name, value, ok]) => `| ${name} | ${value} | ${verdict(ok)} |`)];
}
