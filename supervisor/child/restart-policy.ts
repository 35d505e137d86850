// Decides whether a crashed app may restart and after how long: exponential backoff, a cap per window.

export interface RestartPolicyOptions {
  /** Crashes allowed within `windowMs`; one more means giving up. */
  readonly limit: number;
  readonly windowMs: number;
  /** Delay before the first restart; doubles with each recent crash. */
  readonly backoffMs: number;
  /** @default 30000 */
  readonly maxBackoffMs?: number;
  readonly now?: () => number;
}

export type RestartDecision =
  | { readonly restart: true; readonly delayMs: number; readonly recentCrashes: number }
  | { readonly restart: false; readonly recentCrashes: number };

export interface RestartPolicy {
  /** Records a crash now and says what to do about it. */
  recordCrash(): RestartDecision;
}

export function createRestartPolicy(options: RestartPolicyOptions): RestartPolicy {
  const now = options.now ?? Date.now;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let crashes: number[] = [];
  return {
    recordCrash() {
      const at = now();
      crashes = [...crashes.filter((time) => at - time < options.windowMs), at];
      const recentCrashes = crashes.length;
      if (recentCrashes > options.limit) return { restart: false, recentCrashes };
      const delayMs = Math.min(options.backoffMs * 2 ** (recentCrashes - 1), maxBackoffMs);
      return { restart: true, delayMs, recentCrashes };
    },
  };
}
