// While the app serves, checks now and then that the database still answers, so that /health can show it.
// It only reports: the database is shared by every instance, and taking them all out of rotation at once
// because it is away would turn a database hiccup into a full outage with nothing left to answer.
import type { Logger } from 'pino';
import { pingDatabase } from './wait.js';

export type DatabaseState = { readonly reachable: true } | { readonly reachable: false; readonly reason: string };

export interface DatabaseWatchOptions {
  readonly databaseUrl: string;
  readonly connectTimeoutMs: number;
  /** Time between checks. */
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Called after every check with what it found. */
  readonly onState: (state: DatabaseState) => void;
}

/** Starts checking every `intervalMs`; the returned function stops it. A change of state is logged once. */
export function watchDatabase(options: DatabaseWatchOptions): () => void {
  const { logger } = options;
  let reachable = true;
  let checking = false;
  const check = async (): Promise<void> => {
    // A check slower than the interval: the next one waits its turn (each is bounded, see pingDatabase).
    if (checking) return;
    checking = true;
    try {
      await pingDatabase(options);
      if (!reachable) logger.info({ event: 'database_reachable' }, 'the database answers again');
      reachable = true;
      options.onState({ reachable: true });
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      if (reachable) logger.warn({ event: 'database_unreachable', reason, err: error }, `the database does not answer: ${(error as Error).message}`);
      reachable = false;
      options.onState({ reachable: false, reason });
    } finally {
      checking = false;
    }
  };
  const timer = setInterval(() => void check(), options.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
