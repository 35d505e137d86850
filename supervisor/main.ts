// Wires the parts together: port first, then database, schema, app, and traffic once all are ready.
import type { AppSupervision } from './child/supervision.js';
import type { Config, EmbeddedDatabaseConfig, LoadedConfig } from './core/config.js';
import type { EmbeddedDatabase } from './database/embedded.js';
import { ErrorCodes, isSupervisorError, type ErrorCode } from './core/errors.js';
import type { Logging } from './core/logger.js';
import { createMetrics, metricsEnabled } from './operations/metrics.js';
import { bearerTokenCheck } from './http/bearer-token.js';
import { createPhaseMachine } from './core/phases.js';
import { createProxy } from './http/proxy.js';
import { createPublicServer } from './http/public-server.js';
import { createTeardown, handleStopCauses } from './shutdown.js';
import { passwordOf } from './core/redact.js';
import { announceSupervisor } from './operations/control-file.js';
import { sendNotReady } from './http/not-ready-page.js';
import { keepYoungGenerationSmall } from './core/young-generation.js';

export interface SupervisorOptions {
  readonly config: LoadedConfig;
  readonly logging: Logging;
  readonly exit: (code: number) => void;
}

// What /health may show of the failure in the failed step's check: the code, or, for a schema that is not what
// the app needs, the message, which names only tables and migrations (other messages may quote the database).
function failedCheckReason(error: unknown, code: ErrorCode): string {
  return isSupervisorError(error) && error.code === ErrorCodes.SCHEMA_INVALID ? error.message : code;
}

/** Starts the supervisor; it ends the process itself through `exit`. */
export async function runSupervisor({ config, logging, exit }: SupervisorOptions): Promise<void> {
  const logger = logging.logger;
  const phases = createPhaseMachine(logger.child({ module: 'phases' }));
  const abortStartup = new AbortController();
  let app: AppSupervision | undefined;
  let embeddedDatabase: Promise<EmbeddedDatabase> | undefined;
  // The startup's database work (wait, migrations, checks): a stop waits for it to end (see shutdown.ts).
  let databaseWork: Promise<unknown> = Promise.resolve();
  // The database's setup (wait, migrations pending on disk, schema check): at the start, and before each reload.
  let prepareRelease: (() => Promise<void>) | undefined;

  // The embedded development database stops last, right before the process exits, however it exits. A
  // second signal (status above 128) exits at once: the database then shuts itself down (fast shutdown).
  const exitAfterDatabase = (code: number): void => {
    if (!embeddedDatabase || code > 128) return exit(code);
    void embeddedDatabase
      .then((database) => database.stop())
      .catch(() => {})
      .finally(() => exit(code));
  };

  // Created before the first transition so that every phase's time is counted; prom-client loads later.
  const metrics = metricsEnabled(config)
    ? createMetrics({
        config,
        currentPhase: () => phases.phase,
        openWebSockets: () => proxy.openTunnels,
        clientConnections: () => server.connections,
        holdCounts: () => proxy.holdCounts,
        logger: logger.child({ module: 'metrics' }),
      })
    : undefined;
  if (metrics) phases.onTransition(metrics.phaseChanged);
  // The full detail of /health and the status page is for requests with the metrics token; the rest see the public view.
  const disclosure = { carriesToken: bearerTokenCheck(config.metricsToken), releaseId: config.releaseId };

  const proxy = createProxy({
    getTarget: () => {
      const port = app?.childApp.port;
      return port !== undefined && (phases.phase === 'ready' || phases.phase === 'draining') ? { port } : undefined;
    },
    sendUnavailable: (req, res) => sendNotReady(req, res, phases.snapshot(), disclosure),
    isDraining: () => phases.phase === 'draining',
    logger: logger.child({ module: 'proxy' }),
    onResponse: metrics?.proxied,
    responseTimeoutMs: config.appResponseTimeoutMs,
    trustProxy: config.trustProxy,
    // Once the app was ready, a restart (not an app merely out of rotation) holds requests for its return.
    canHold: () => holding && readyOnce && (phases.phase === 'ready' || (phases.phase === 'restarting_app' && app?.restarting === true)),
    holdTimeoutMs: config.appHoldTimeoutMs,
    holdMaxRequests: config.appHoldMaxRequests,
  });
  const holding = config.appHoldTimeoutMs > 0 && config.appHoldMaxRequests > 0;
  let readyOnce = false;
  phases.onTransition(({ to }) => {
    if (to === 'ready') {
      if (!readyOnce) keepYoungGenerationSmall();
      readyOnce = true;
      proxy.resumeHeld();
    } else if (to === 'draining' || to === 'failed') {
      proxy.refuseHeld();
    }
  });
  const server = createPublicServer({
    phases,
    proxy,
    logger,
    limits: config,
    disclosure,
    metricsHandler: metrics?.publicHandler,
  });
  const teardown = createTeardown({
    phases,
    server: server.server,
    proxy,
    stopApp: async () => app?.stop(),
    databaseReleased: () => databaseWork,
    closeResources: async () => void (await Promise.all([server.close(), metrics?.close()])),
    drainTimeoutMs: config.drainTimeoutMs,
    appStopTimeoutMs: config.appStopTimeoutMs,
    logger: logger.child({ module: 'shutdown' }),
    abortStartup,
    exit: exitAfterDatabase,
  });
  handleStopCauses(teardown.stop, () => {
    if (app) void app.reload((oldPort) => proxy.portIdle(oldPort, config.drainTimeoutMs), prepareRelease).catch(fail);
    else logger.info({ event: 'app_reload_skipped', phase: phases.phase }, `reload asked in phase ${phases.phase}: only a running app reloads`);
  });

  async function fail(error: unknown): Promise<void> {
    if (phases.phase === 'draining' || phases.phase === 'failed') return; // already on the way out
    const code = isSupervisorError(error) ? error.code : ErrorCodes.UNEXPECTED;
    phases.fail(code, failedCheckReason(error, code));
    logger.error(
      { event: 'failed', code, err: error, hint: isSupervisorError(error) ? error.hint : undefined },
      `start failed: ${(error as Error).message}`,
    );
    await teardown.stop({ kind: 'failed' });
  }

  try {
    await server.listen(config.port, config.host);
  } catch (error) {
    return fail(error);
  }
  announceSupervisor(config.port);
  // prom-client loads now for the metrics (binding METRICS_PORT if set), beside the database work. Its failing fails
  // the supervisor, as a taken PORT does.
  void metrics?.start().catch(fail);

  // Without DATABASE_URL outside production: loaded only then, so a deploy neither needs nor starts it.
  async function startEmbeddedDatabase(settings: EmbeddedDatabaseConfig): Promise<string> {
    phases.describe('starting the embedded development database');
    const embedded = await import('./database/embedded.js');
    embeddedDatabase = embedded.startEmbeddedDatabase({
      ...settings,
      logger: logger.child({ module: 'embedded-database' }),
      signal: abortStartup.signal,
    });
    const { url } = await embeddedDatabase;
    logging.addSecrets([url, passwordOf(url)]);
    return url;
  }

  try {
    const runConfig: Config = {
      ...config,
      databaseUrl: config.embeddedDatabase ? await startEmbeddedDatabase(config.embeddedDatabase) : config.databaseUrl,
    };
    // pg, umzug and execa load only once the port is open, so that it answers within moments of the start.
    const [{ setUpDatabase, watchDatabaseWhileReady }, { createAppSupervision }] = await Promise.all([
      import('./database-setup.js'),
      import('./child/supervision.js'),
    ]);
    prepareRelease = async () => {
      databaseWork = setUpDatabase({ config: runConfig, phases, logger, signal: abortStartup.signal, metrics });
      await databaseWork;
    };
    await prepareRelease();
    if (!phases.transition('starting_app')) return;
    app = createAppSupervision({
      config: runConfig,
      phases,
      logging,
      signal: abortStartup.signal,
      onGiveUp: (error) => void fail(error),
      metrics,
    });
    await app.start();
    if (phases.transition('ready')) watchDatabaseWhileReady({ config: runConfig, phases, logger, signal: abortStartup.signal });
  } catch (error) {
    await fail(error);
  }
}
