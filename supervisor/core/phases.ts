// The supervisor's state machine: the phase lives here and only here; health, proxy and shutdown read it.
import type { Logger } from 'pino';
import type { ErrorCode } from './errors.js';

export const PHASES = [
  'starting',
  'waiting_for_database',
  'migrating',
  'verifying_schema',
  'starting_app',
  'ready',
  'restarting_app',
  'draining',
  'failed',
] as const;
export type Phase = (typeof PHASES)[number];

// Startup runs forward in order (`migrating` only when something is pending); every phase but `failed` may
// drain on a signal; every phase but `draining` may fail (while ready: the own routes or the metrics port failing).
const TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  starting: ['waiting_for_database', 'draining', 'failed'],
  waiting_for_database: ['migrating', 'verifying_schema', 'draining', 'failed'],
  migrating: ['verifying_schema', 'draining', 'failed'],
  verifying_schema: ['starting_app', 'draining', 'failed'],
  starting_app: ['ready', 'restarting_app', 'draining', 'failed'],
  ready: ['restarting_app', 'draining', 'failed'],
  restarting_app: ['ready', 'draining', 'failed'],
  draining: [],
  failed: [],
};

export type CheckName = 'database' | 'migrations' | 'schema' | 'app';
export type CheckStatus = 'pass' | 'warn' | 'fail';

/** The check each phase works on: under way while in it, failed when the start fails in it. */
export const PHASE_CHECKS: Readonly<Partial<Record<Phase, CheckName>>> = {
  waiting_for_database: 'database',
  migrating: 'migrations',
  verifying_schema: 'schema',
  starting_app: 'app',
  restarting_app: 'app',
};

/** One component's state, in the shape of the IETF health-check draft's `checks` entries. */
export interface Check {
  readonly status: CheckStatus;
  /** Short, safe text for operators: never a secret, never raw SQL. Shown only with the full detail. */
  readonly output?: string;
  /** The stable code of what made the check `fail` or `warn`, shown to everyone. */
  readonly code?: ErrorCode;
  readonly observedValue?: number | string;
  readonly observedUnit?: string;
  readonly time: string;
}

export interface PhaseSnapshot {
  readonly phase: Phase;
  readonly since: Date;
  readonly detail: string | undefined;
  readonly lastErrorCode: ErrorCode | undefined;
  readonly checks: Readonly<Partial<Record<CheckName, Check>>>;
}

/** One move of the state machine, as logged: `inPreviousMs` is the time spent in `from`. */
export interface PhaseChange {
  readonly from: Phase;
  readonly to: Phase;
  readonly inPreviousMs: number;
}

/** The single owner of the current phase and the per-component checks. */
export interface PhaseMachine {
  readonly phase: Phase;
  snapshot(): PhaseSnapshot;
  /** Moves to `next`; returns false (and changes nothing) when the move is not allowed from here. */
  transition(next: Phase, detail?: string): boolean;
  /** Updates what is happening inside the current phase, e.g. "applying 0003_create_kanban (3 of 3)". */
  describe(detail: string): void;
  setCheck(name: CheckName, check: Omit<Check, 'time'>): void;
  /** What went wrong last (an error code), shown until the phase moves on; see `transition`. */
  recordError(code: ErrorCode): void;
  /**
   * Records `code` as the last error and moves to `failed`, marking the check of the phase that failed (see
   * PHASE_CHECKS) `fail` with `code`, and with `reason` (default: the code) unless it already failed with a reason
   * of its own. Returns false, with only the code recorded, when `failed` cannot be reached from here.
   */
  fail(code: ErrorCode, reason?: string): boolean;
  isTerminal(): boolean;
  /** Calls `listener` after every transition (e.g. the metrics' phase timings). */
  onTransition(listener: (change: PhaseChange) => void): void;
}

// Moving forward past the trouble clears the last error; failing, draining or restarting keeps it on show.
const KEEPS_LAST_ERROR: ReadonlySet<Phase> = new Set(['failed', 'draining', 'restarting_app']);

export function canTransition(from: Phase, to: Phase): boolean {
  return TRANSITIONS[from].includes(to);
}

export function createPhaseMachine(logger: Logger, now: () => Date = () => new Date()): PhaseMachine {
  let phase: Phase = 'starting';
  let since = now();
  let detail: string | undefined;
  let lastErrorCode: ErrorCode | undefined;
  const checks: Partial<Record<CheckName, Check>> = {};
  const listeners: ((change: PhaseChange) => void)[] = [];

  function transition(next: Phase, nextDetail?: string): boolean {
    if (!canTransition(phase, next)) return false;
    const previous = phase;
    const at = now();
    const change: PhaseChange = { from: previous, to: next, inPreviousMs: at.getTime() - since.getTime() };
    logger.info({ event: 'phase', ...change }, `phase ${next}`);
    phase = next;
    since = at;
    detail = nextDetail;
    if (!KEEPS_LAST_ERROR.has(next)) lastErrorCode = undefined;
    for (const listener of listeners) listener(change);
    return true;
  }

  function setCheck(name: CheckName, check: Omit<Check, 'time'>): void {
    checks[name] = { ...check, time: now().toISOString() };
  }

  return {
    get phase() {
      return phase;
    },
    snapshot: () => ({ phase, since, detail, lastErrorCode, checks: { ...checks } }),
    transition,
    describe(nextDetail) {
      detail = nextDetail;
    },
    setCheck,
    recordError(code) {
      lastErrorCode = code;
    },
    fail(code, reason = code) {
      lastErrorCode = code;
      if (!canTransition(phase, 'failed')) return false;
      const step = PHASE_CHECKS[phase];
      const check = step ? checks[step] : undefined;
      if (step && check?.status === 'fail') checks[step] = { ...check, code };
      else if (step) setCheck(step, { status: 'fail', output: reason, code });
      // No detail: the code is the last error already, and shown as such.
      return transition('failed');
    },
    isTerminal: () => phase === 'draining' || phase === 'failed',
    onTransition(listener) {
      listeners.push(listener);
    },
  };
}
