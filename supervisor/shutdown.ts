// SIGTERM/SIGINT: drain in-flight requests, stop the app, close what is open, exit 0. A second signal exits at once.
import type { Server } from 'node:http';
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { PhaseMachine } from './core/phases.js';
import type { Proxy } from './http/proxy.js';

export interface ShutdownOptions {
  readonly phases: PhaseMachine;
  readonly server: Server;
  readonly proxy: Proxy;
  /** Stops the app (SIGTERM, then SIGKILL after its own deadline). */
  readonly stopApp: () => Promise<void>;
  /** Closes what else is open (the public server, the metrics port); given at most CLOSE_TIMEOUT_MS. */
  readonly closeResources: () => Promise<void>;
  readonly drainTimeoutMs: number;
  readonly logger: Logger;
  /** Aborted when shutdown begins: a startup still waiting gives up, and no app is spawned after it. */
  readonly abortStartup: AbortController;
  readonly exit: (code: number) => void;
}

const CLOSE_TIMEOUT_MS = 2_000;

/** Drains and exits 0; used for signals and callable directly. */
export function createShutdown(options: ShutdownOptions): { begin(signal: NodeJS.Signals): Promise<void> } {
  const { phases, server, proxy, logger } = options;
  let started = false;

  async function begin(signal: NodeJS.Signals): Promise<void> {
    if (started) {
      logger.warn({ event: 'shutdown_forced', signal }, `second ${signal}: exiting now`);
      options.exit(128 + constants.signals[signal]);
      return;
    }
    started = true;
    const startedAt = Date.now();
    phases.transition('draining', `${signal} received`);
    options.abortStartup.abort();
    logger.info({ event: 'shutdown', signal, inFlight: proxy.inFlight }, `${signal}: draining`);

    server.close();
    server.closeIdleConnections();
    const drained = await proxy.drained(options.drainTimeoutMs);
    if (!drained) {
      logger.warn({ event: 'drain_timeout', cut: proxy.inFlight, afterMs: options.drainTimeoutMs }, 'requests still running at the drain deadline; closing them');
    }
    server.closeAllConnections();
    await options.stopApp();
    proxy.close();
    await Promise.race([options.closeResources().catch(() => {}), sleep(CLOSE_TIMEOUT_MS)]);
    logger.info({ event: 'shutdown_complete', durationMs: Date.now() - startedAt }, 'stopped');
    options.exit(0);
  }

  return { begin };
}

/** Routes SIGTERM and SIGINT to `begin`. */
export function handleSignals(begin: (signal: NodeJS.Signals) => Promise<void>): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => void begin(signal));
  }
}
