// Polls the app's health path while it runs, the way a Kubernetes readiness and liveness probe would: out of
// rotation after `failureThreshold` failed polls in a row, back in at the first success, and restarted after
// `restartThreshold` (the caller stops and restarts it). An app that hangs without exiting is caught this way.
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

// One poll's limit: Kubernetes' default is 1 s; 2 s leaves room for a busy app. Never more than the interval.
const POLL_TIMEOUT_MS = 2_000;

export interface AppHealthOptions {
  readonly healthPath: string;
  /** Time between the end of one poll and the start of the next. @default 5000 (APP_HEALTH_INTERVAL_MS) */
  readonly intervalMs: number;
  /** Failed polls in a row before `onUnready`. @default 3 (APP_HEALTH_FAILURE_THRESHOLD) */
  readonly failureThreshold: number;
  /** Failed polls in a row before `onUnresponsive`; 0: never. @default 6 (APP_HEALTH_RESTART_THRESHOLD) */
  readonly restartThreshold: number;
  readonly logger: Logger;
  /** The app stopped answering: take it out of rotation. `reason` names the path and the count. */
  readonly onUnready: (reason: string) => void;
  /** It answers again after `onUnready`. */
  readonly onRecovered: () => void;
  /** It stayed unanswering up to `restartThreshold`: restart it. Polling has stopped. */
  readonly onUnresponsive: (reason: string) => void;
}

export interface AppHealth {
  /** Starts polling the app on `port` (stopping any earlier watch). */
  watch(port: number): void;
  /** Stops polling; a poll under way is abandoned without a report. */
  stop(): void;
}

/**
 * One GET of the app's health path on a connection of its own: its status, or the request's error (`code`
 * ECONNREFUSED while nothing listens). node:http rather than fetch: fetch loads Node's bundled undici, about a
 * fifth of the supervisor's CPU to ready, and a poll every few seconds for the life of the app should cost next to nothing.
 */
export function healthStatus(port: number, path: string, timeoutMs: number, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, signal, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
  });
}

// Undefined when the health path answered 200, else why not.
function poll(port: number, path: string, timeoutMs: number, signal: AbortSignal): Promise<string | undefined> {
  return healthStatus(port, path, timeoutMs, signal).then(
    (status) => (status === 200 ? undefined : `it answered ${status}`),
    (error: Error) => error.message,
  );
}

export function createAppHealth(options: AppHealthOptions): AppHealth {
  const { healthPath, intervalMs, failureThreshold, restartThreshold, logger } = options;
  const timeoutMs = Math.min(POLL_TIMEOUT_MS, intervalMs);
  let current: AbortController | undefined;

  async function run(port: number, signal: AbortSignal): Promise<void> {
    let failures = 0;
    for (;;) {
      await sleep(intervalMs, undefined, { signal }).catch(() => {});
      if (signal.aborted) return;
      const failure = await poll(port, healthPath, timeoutMs, signal);
      if (signal.aborted) return;
      if (failure === undefined) {
        if (failures >= failureThreshold) {
          logger.info({ event: 'app_health_recovered', failures }, `app answers ${healthPath} again`);
          options.onRecovered();
        }
        failures = 0;
        continue;
      }
      failures++;
      const reason = `no 200 on ${healthPath} ${failures} times in a row (last: ${failure})`;
      logger.warn({ event: 'app_health_failed', failures, reason: failure }, `app health poll failed: ${failure}`);
      if (failures === failureThreshold) options.onUnready(reason);
      if (restartThreshold > 0 && failures >= restartThreshold) {
        current = undefined;
        options.onUnresponsive(reason);
        return;
      }
    }
  }

  return {
    watch(port) {
      current?.abort();
      const controller = new AbortController();
      current = controller;
      void run(port, controller.signal);
    },
    stop() {
      current?.abort();
      current = undefined;
    },
  };
}
