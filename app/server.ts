// Entry point (dist/app/server.js): reads the environment, listens on $HOST:$PORT, shuts down cleanly on SIGTERM.
import { createApp } from './app.js';
import { ConfigError, readConfig } from './config.js';
import { createDatabase } from './db.js';
import { createEventHub } from './events.js';
import { createHttpServer } from './http-server.js';
import { createLogger } from './logger.js';

async function main(): Promise<void> {
  let config;
  try {
    config = readConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    createLogger('info').fatal({ event: 'config_invalid', code: error.code, problems: error.problems }, error.message);
    process.exitCode = 78;
    return;
  }
  const logger = createLogger(config.logLevel);
  const db = createDatabase(config.databaseUrl, logger);
  const events = createEventHub();
  const app = createApp({ db, events, logger });
  const http = createHttpServer({ app, events, logger });

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: 'shutdown', signal }, 'shutting down: finishing in-flight requests');
    const { forced } = await http.close(config.shutdownTimeoutMs);
    if (forced) logger.warn({ event: 'shutdown_forced', afterMs: config.shutdownTimeoutMs }, 'cut connections that were still open');
    await db.end().catch((error: unknown) => logger.warn({ event: 'pool_end_failed', err: error }, 'could not close the pool'));
    logger.info({ event: 'stopped' }, 'stopped');
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      shutdown(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ event: 'shutdown_failed', err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }

  try {
    const address = await http.listen(config.port, config.host);
    logger.info({ event: 'listening', host: address.address, port: address.port }, `listening on ${address.address}:${address.port}`);
  } catch (error) {
    logger.fatal({ event: 'listen_failed', err: error }, `could not listen on ${config.host}:${config.port}`);
    await db.end().catch(() => {});
    process.exitCode = 1;
  }
}

await main();
