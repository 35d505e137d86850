// The targets (issues 16 and 24), each met or missed by how much, and the supervisor's cost as a multiple of the
// reference proxies' in the same run.
import { fixed, type Measurements, type ProxyRow } from './report.js';

// p99 on two shared cores moves by this much between identical runs: a "regression" must exceed it.
const P99_NOISE = 1.2;

type Check = readonly [target: string, measured: string, verdict: string];

function percentOff(value: number, limit: number): string {
  return `${value > limit ? '+' : '−'}${fixed((Math.abs(value - limit) / limit) * 100)}%`;
}

/** Met with what to spare, or missed by how much, for a figure that must stay at or below `limit`. */
function atMost(value: number, limit: number, unit: string, digits = 0): string {
  if (!Number.isFinite(value)) return '**not measured**';
  const gap = `${fixed(Math.abs(value - limit), digits)}${unit}`;
  return value <= limit ? `met, ${gap} to spare` : `**missed** by ${gap} (${percentOff(value, limit)})`;
}

/** The same for a figure that must reach at least `limit`. */
function atLeast(value: number, limit: number, unit: string, digits = 2): string {
  if (!Number.isFinite(value)) return '**not measured**';
  const gap = `${fixed(Math.abs(value - limit), digits)}${unit}`;
  return value >= limit ? `met, ${gap} above` : `**missed** by ${gap} (${percentOff(value, limit)})`;
}

function cpu(m: Measurements, endpoint: string, via: string): number {
  return m.proxy.find((r) => r.endpoint === endpoint && r.via === via)?.proxyCpuUs ?? Number.NaN;
}

function supervisorRow(m: Measurements, endpoint: string): ProxyRow | undefined {
  return m.proxy.find((r) => r.endpoint === endpoint && r.via === 'supervisor');
}

/** The supervisor rows' `p99 ×direct` in an earlier results file, by endpoint. */
export function previousP99Ratios(markdown: string | undefined): Map<string, number> {
  const ratios = new Map<string, number>();
  const lines = markdown?.split('\n') ?? [];
  const header = lines.findIndex((line) => line.startsWith('| endpoint | via |'));
  if (header === -1) return ratios;
  const cells = (line: string): string[] => line.split('|').map((cell) => cell.trim());
  const column = cells(lines[header] as string).indexOf('p99 ×direct');
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const row = cells(line);
    if (row[2] === 'supervisor' && column > 0) ratios.set(row[1] as string, Number(row[column]));
  }
  return ratios;
}

function p99Checks(m: Measurements, previous: string | undefined): Check[] {
  const before = previousP99Ratios(previous);
  return m.proxy
    .filter((r) => r.via === 'supervisor')
    .map((r): Check => {
      const baseline = before.get(r.endpoint);
      const target = `p99 ×direct, ${r.endpoint}: no regression (≤ ${P99_NOISE}× the last run's)`;
      if (baseline === undefined || !Number.isFinite(baseline)) return [target, fixed(r.p99Ratio, 2), 'no earlier run on this machine and Node to compare with'];
      return [target, `${fixed(r.p99Ratio, 2)} (last run ${fixed(baseline, 2)})`, atMost(r.p99Ratio, baseline * P99_NOISE, '', 2)];
    });
}

/** Rows of the targets table. */
export function checkTargets(m: Measurements, previous: string | undefined): string[] {
  const s = m.startup;
  const webSocket = supervisorRow(m, 'WebSocket echo (64 B)')?.rpsRatio ?? Number.NaN;
  const perRequest = (endpoint: string, via: string, limit: number, label: string): Check => {
    const ratio = cpu(m, endpoint, 'supervisor') / cpu(m, endpoint, via);
    return [
      `proxy CPU/request ≤ ${limit}× ${label}, ${endpoint}`,
      `${fixed(ratio, 2)}× (${fixed(cpu(m, endpoint, 'supervisor'))} vs ${fixed(cpu(m, endpoint, via))} µs)`,
      atMost(ratio, limit, '×', 2),
    ];
  };
  const relayed = [...new Set(m.proxy.filter((r) => r.via === 'node:http pipe').map((r) => r.endpoint))];
  const checks: Check[] = [
    [
      "supervisor's own CPU, exec → ready ≤ 150 ms, /health polled every 100 ms",
      `${fixed(s.ownCpuToReadyMs)} ms (not polled: ${fixed(s.ownCpuToReadyUnpolledMs)} ms; the app's own: ${fixed(s.appCpuToReadyMs)} ms)`,
      atMost(s.ownCpuToReadyMs, 150, ' ms'),
    ],
    ['RSS at ready ≤ 60 MB, /health polled', `${fixed(s.rssAtReadyMb)} MB (not polled: ${fixed(s.rssAtReadyUnpolledMb)} MB)`, atMost(s.rssAtReadyMb, 60, ' MB')],
    ['RSS once ready ≤ 60 MB', `${fixed(s.rssOnceReadyMb)} MB`, atMost(s.rssOnceReadyMb, 60, ' MB')],
    [`RSS under load ≤ 100 MB${m.settings.memoryLimitMb ? ` (under a ${m.settings.memoryLimitMb} MB limit)` : ', no memory limit'}`, `${fixed(m.loadRssMb)} MB`, atMost(m.loadRssMb, 100, ' MB')],
    ...relayed.map((endpoint) => perRequest(endpoint, 'node:http pipe', 0.75, "the pipe's")),
    ...(m.settings.nginx ? relayed.map((endpoint) => perRequest(endpoint, 'nginx', 2, "nginx's (moonshot)")) : []),
    ['WebSocket relay ≥ 0.6× direct (64 B echo)', `${fixed(webSocket, 2)}×`, atLeast(webSocket, 0.6, '×')],
    ...p99Checks(m, previous),
    ['start → port < 300 ms', `${fixed(s.portBoundMs)} ms`, atMost(s.portBoundMs, 300, ' ms')],
    ['< 10 ms per trivial migration', `${fixed(s.perMigrationMs, 1)} ms`, atMost(s.perMigrationMs, 10, ' ms', 1)],
  ];
  return ['| target | measured | |', '|---|---|---|', ...checks.map(([target, measured, verdict]) => `| ${target} | ${measured} | ${verdict} |`)];
}

/** One line each: the supervisor's CPU per request as a multiple of the pipe's and of nginx's. */
export function proxyCostRatios(m: Measurements): string[] {
  const endpoints = [...new Set(m.proxy.map((r) => r.endpoint))];
  const multiples = (via: string): string =>
    endpoints
      .map((endpoint) => [endpoint, cpu(m, endpoint, 'supervisor') / cpu(m, endpoint, via)] as const)
      .filter(([, multiple]) => Number.isFinite(multiple))
      .map(([endpoint, multiple]) => `${endpoint} ${fixed(multiple, 1)}×`)
      .join(', ');
  const lines = [`Supervisor CPU per request as a multiple of the node:http pipe's: ${multiples('node:http pipe') || '–'}.`];
  if (m.settings.nginx) lines.push(`As a multiple of nginx's (${m.settings.nginx}, one process): ${multiples('nginx') || '–'}.`);
  return lines;
}
