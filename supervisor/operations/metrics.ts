// Prometheus metrics at /metrics, off unless METRICS_TOKEN or METRICS_PORT is set. prom-client loads only
// then, once the public port is open; what happens before it has loaded is queued and replayed.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type * as Prom from 'prom-client';
import type { Config } from '../core/config.js';
import { listen } from '../core/listen.js';
import { PHASES, type Phase, type PhaseChange } from '../core/phases.js';
import type { StartupMetrics } from '../core/startup-metrics.js';
import { bearerTokenCheck } from '../http/bearer-token.js';
import { METRICS_PATH, ownPathOf } from '../http/own-paths.js';
import { parseRequestTarget } from '../http/request-target.js';

export type MetricsConfig = Pick<Config, 'metricsToken' | 'metricsPort' | 'metricsHost'>;

export interface MetricsOptions {
  readonly config: MetricsConfig;
  readonly currentPhase: () => Phase;
  readonly openWebSockets: () => number;
  /** The public port's client connections: open now, and closed (shed) or refused at HTTP_MAX_CONNECTIONS so far. */
  readonly clientConnections: () => { readonly open: number; readonly shed: number; readonly refused: number };
  /** Requests held for the app's return, sent again after the app died under them, and refused from the hold. */
  readonly holdCounts: () => { readonly held: number; readonly retried: number; readonly refused: number };
  readonly logger: Logger;
}

export interface Metrics extends StartupMetrics {
  phaseChanged(change: PhaseChange): void;
  /** One proxied response; `startedAt` is `performance.now()` when its request arrived. */
  proxied(statusCode: number, startedAt: number): void;
  /** Answers `/metrics` on the public port; undefined when METRICS_PORT moves it to a port of its own. */
  readonly publicHandler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** Loads prom-client and, with METRICS_PORT, binds that port (SUP_ERR_PORT_IN_USE when taken). */
  start(): Promise<void>;
  close(): Promise<void>;
}

const STARTUP_PHASES: ReadonlySet<Phase> = new Set(['starting', 'waiting_for_database', 'migrating', 'verifying_schema', 'starting_app']);
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
// From a fast local answer to a slow page; requests above the last bucket land in +Inf.
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface Instruments {
  readonly registry: Prom.Registry;
  readonly phaseSeconds: Prom.Gauge<'phase'>;
  readonly migrationsApplied: Prom.Counter;
  readonly migrationSeconds: Prom.Gauge<'migration'>;
  readonly databaseAttempts: Prom.Counter<'outcome'>;
  readonly appRestarts: Prom.Counter;
  /** Per status class, indexed like STATUS_CLASSES: bound once so that a request pays no label lookup. */
  readonly requests: readonly Prom.Counter.Internal[];
  readonly latencies: readonly Prom.Histogram.Internal<'status_class'>[];
}

/** True when the configuration asks for metrics at all. */
export function metricsEnabled(config: MetricsConfig): boolean {
  return config.metricsToken !== undefined || config.metricsPort !== undefined;
}

async function createInstruments(options: MetricsOptions): Promise<Instruments> {
  const prom = await import('prom-client');
  const registry = new prom.Registry();
  const registers = [registry];
  new prom.Gauge({
    name: 'supervisor_phase',
    help: 'The current phase: 1 for the phase the supervisor is in, 0 for the others.',
    labelNames: ['phase'],
    registers,
    collect() {
      const current = options.currentPhase();
      for (const phase of PHASES) this.set({ phase }, phase === current ? 1 : 0);
    },
  });
  new prom.Gauge({
    name: 'supervisor_websocket_connections',
    help: 'WebSocket connections tunnelled to the app and open now.',
    registers,
    collect() {
      this.set(options.openWebSockets());
    },
  });
  new prom.Gauge({
    name: 'supervisor_client_connections',
    help: 'Client connections open at the public port now.',
    registers,
    collect() {
      this.set(options.clientConnections().open);
    },
  });
  // A counter kept by the connection budget: each scrape reads its totals.
  new prom.Counter({
    name: 'supervisor_client_connections_shed_total',
    help: 'Client connections closed (reason="idle") or refused (reason="busy") at HTTP_MAX_CONNECTIONS.',
    labelNames: ['reason'],
    registers,
    collect() {
      const { shed, refused } = options.clientConnections();
      this.reset();
      this.inc({ reason: 'idle' }, shed);
      this.inc({ reason: 'busy' }, refused);
    },
  });
  new prom.Counter({
    name: 'supervisor_held_requests_total',
    help: 'Requests held while the app restarted (outcome="held"), sent again after it died under them ("retried"), or refused from the hold ("refused").',
    labelNames: ['outcome'],
    registers,
    collect() {
      const counts = options.holdCounts();
      this.reset();
      for (const outcome of ['held', 'retried', 'refused'] as const) this.inc({ outcome }, counts[outcome]);
    },
  });
  const requests = new prom.Counter({
    name: 'supervisor_proxy_requests_total',
    help: 'Requests proxied to the app, by the status class of the response.',
    labelNames: ['status_class'],
    registers,
  });
  const latencies = new prom.Histogram({
    name: 'supervisor_proxy_request_duration_seconds',
    help: 'Time from a proxied request to the end of its response, by status class.',
    labelNames: ['status_class'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const databaseAttempts = new prom.Counter({
    name: 'supervisor_database_attempts_total',
    help: 'Connection attempts while waiting for the database, by outcome.',
    labelNames: ['outcome'],
    registers,
  });
  for (const outcome of ['success', 'failure']) databaseAttempts.inc({ outcome }, 0);
  for (const statusClass of STATUS_CLASSES) {
    requests.inc({ status_class: statusClass }, 0);
    latencies.zero({ status_class: statusClass });
  }
  return {
    registry,
    phaseSeconds: new prom.Gauge({
      name: 'supervisor_startup_phase_duration_seconds',
      help: 'Time spent in each startup phase, set when the phase ends.',
      labelNames: ['phase'],
      registers,
    }),
    migrationsApplied: new prom.Counter({
      name: 'supervisor_migrations_applied_total',
      help: 'Migrations this process applied.',
      registers,
    }),
    migrationSeconds: new prom.Gauge({
      name: 'supervisor_migration_duration_seconds',
      help: 'How long each migration this process applied took.',
      labelNames: ['migration'],
      registers,
    }),
    databaseAttempts,
    appRestarts: new prom.Counter({
      name: 'supervisor_app_restarts_total',
      help: 'Restarts of the app after it exited on its own.',
      registers,
    }),
    requests: STATUS_CLASSES.map((statusClass) => requests.labels(statusClass)),
    latencies: STATUS_CLASSES.map((statusClass) => latencies.labels(statusClass)),
  };
}

function countRequest(target: Instruments, statusClass: number, seconds: number): void {
  target.requests[statusClass]?.inc();
  target.latencies[statusClass]?.observe(seconds);
}

function send(req: IncomingMessage, res: ServerResponse, statusCode: number, headers: Record<string, string>, body: string): void {
  res.writeHead(statusCode, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export function createMetrics(options: MetricsOptions): Metrics {
  const { config, logger } = options;
  let instruments: Instruments | undefined;
  let loaded: Promise<Instruments> | undefined;
  let privateServer: http.Server | undefined;
  const pending: ((target: Instruments) => void)[] = [];
  const record = (update: (target: Instruments) => void): void => (instruments ? update(instruments) : void pending.push(update));
  const carriesToken = bearerTokenCheck(config.metricsToken);

  function load(): Promise<Instruments> {
    loaded ??= createInstruments(options).then((created) => {
      instruments = created;
      for (const update of pending.splice(0)) update(created);
      return created;
    });
    return loaded;
  }

  // Without METRICS_TOKEN (METRICS_PORT alone) the private port is open to whoever reaches it.
  function authorized(req: IncomingMessage): boolean {
    return config.metricsToken === undefined || carriesToken(req);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    if (!authorized(req)) return send(req, res, 401, { 'www-authenticate': 'Bearer realm="metrics"' }, 'Unauthorized\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(req, res, 405, { allow: 'GET, HEAD' }, 'Method Not Allowed\n');
    void (async () => {
      const { registry } = await load();
      send(req, res, 200, { 'content-type': registry.contentType }, await registry.metrics());
    })().catch((error: unknown) => {
      logger.error({ event: 'metrics_failed', err: error }, `metrics could not be collected: ${(error as Error).message}`);
      if (!res.headersSent) send(req, res, 500, {}, 'Internal Server Error\n');
    });
  }

  async function listenPrivately(port: number, host: string): Promise<void> {
    const server = http.createServer((req, res) => {
      const target = parseRequestTarget(req.url ?? '/');
      if (target.ok && ownPathOf(target.path) === METRICS_PATH) return handle(req, res);
      send(req, res, 404, {}, 'Not Found\n');
    });
    await listen(server, port, host, 'METRICS_PORT');
    privateServer = server;
    logger.info({ event: 'metrics_listening', host, port }, `metrics on ${host}:${port}${METRICS_PATH}`);
  }

  return {
    phaseChanged({ from, inPreviousMs }) {
      if (STARTUP_PHASES.has(from)) record((target) => target.phaseSeconds.set({ phase: from }, inPreviousMs / 1000));
    },
    databaseAttempt(outcome) {
      record((target) => target.databaseAttempts.inc({ outcome }));
    },
    migrationApplied(name, durationMs) {
      record((target) => {
        target.migrationsApplied.inc();
        target.migrationSeconds.set({ migration: name }, durationMs / 1000);
      });
    },
    appRestarted() {
      record((target) => target.appRestarts.inc());
    },
    // The hot path: no allocation once prom-client has loaded.
    proxied(statusCode, startedAt) {
      const seconds = (performance.now() - startedAt) / 1000;
      const index = Math.min(Math.max(Math.floor(statusCode / 100) - 1, 0), STATUS_CLASSES.length - 1);
      if (instruments) countRequest(instruments, index, seconds);
      else pending.push((target) => countRequest(target, index, seconds));
    },
    publicHandler: config.metricsPort === undefined ? handle : undefined,
    async start() {
      await load();
      if (config.metricsPort !== undefined && !privateServer) await listenPrivately(config.metricsPort, config.metricsHost);
    },
    async close() {
      const server = privateServer;
      if (!server) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
