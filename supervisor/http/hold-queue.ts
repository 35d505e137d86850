// Requests (and WebSocket upgrades) that arrive while the app restarts wait here, bounded in count and time,
// instead of getting 503: the supervisor knows the app is coming back. They go on in arrival order once it answers
// its health path again; one over APP_HOLD_MAX_REQUESTS, or one that waited APP_HOLD_TIMEOUT_MS, is refused (503
// with Retry-After, as before). A held request's body is not read meanwhile: the client's socket is left to TCP's
// back-pressure, so holding costs no buffer beyond what Node has already read.

export interface Held {
  /** Sends it on (the app is back). */
  resume(): void;
  /** Answers it 503 (the wait is over, or the app is not coming back). */
  refuse(): void;
}

export interface HoldQueueOptions {
  /** How long one may wait. */
  readonly timeoutMs: number;
  /** How many may wait at once. */
  readonly maxRequests: number;
  /** Called for each one refused because the wait ran out or the queue was full. */
  readonly onRefused?: (reason: 'timeout' | 'full') => void;
}

export interface HoldQueue {
  /** Holds `held` under `key` (its response or socket); false when the queue is full (the caller refuses it). */
  hold(key: object, held: Held): boolean;
  /** Drops `key` without a word: its client went away. */
  forget(key: object): void;
  /** Resumes the one held under `key`, if it still waits. */
  resume(key: object): void;
  /** Resumes every one, oldest first. */
  resumeAll(): void;
  /** Refuses every one. */
  refuseAll(): void;
  readonly size: number;
}

export function createHoldQueue(options: HoldQueueOptions): HoldQueue {
  const waiting = new Map<object, { readonly held: Held; readonly timer: NodeJS.Timeout }>();

  function take(): { readonly held: Held; readonly timer: NodeJS.Timeout }[] {
    const all = [...waiting.values()];
    waiting.clear();
    for (const { timer } of all) clearTimeout(timer);
    return all;
  }

  return {
    hold(key, held) {
      if (waiting.size >= options.maxRequests) {
        options.onRefused?.('full');
        return false;
      }
      const timer = setTimeout(() => {
        waiting.delete(key);
        options.onRefused?.('timeout');
        held.refuse();
      }, options.timeoutMs);
      waiting.set(key, { held, timer });
      return true;
    },
    forget(key) {
      const entry = waiting.get(key);
      if (!entry) return;
      clearTimeout(entry.timer);
      waiting.delete(key);
    },
    resume(key) {
      const entry = waiting.get(key);
      if (!entry) return;
      clearTimeout(entry.timer);
      waiting.delete(key);
      entry.held.resume();
    },
    resumeAll() {
      for (const { held } of take()) held.resume();
    },
    refuseAll() {
      for (const { held } of take()) held.refuse();
    },
    get size() {
      return waiting.size;
    },
  };
}
