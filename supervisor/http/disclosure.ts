// What a request may see of the supervisor's state: /health, the status page and the not-ready answer all show
// the view decided here. Anonymous requests get the public view: the phase, each check's status, stable error
// codes and numbers (attempts, counts, times). Hosts, ports, database and file names, pids, the commit and raw
// error text map the system for an attacker and help nobody else, so they need the metrics token; the log always
// has them.
import type { IncomingMessage } from 'node:http';
import type { Check, CheckName, PhaseSnapshot } from '../core/phases.js';
import type { TokenCheck } from './bearer-token.js';

export type Disclosure = 'full' | 'public';

/** A snapshot as one request may see it; `releaseId` only with the full detail. */
export interface StatusView extends PhaseSnapshot {
  readonly releaseId?: string;
}

export interface DisclosureOptions {
  /**
   * Whether a request carries the metrics token: those get the full detail.
   * @default nobody does (no METRICS_TOKEN)
   */
  readonly carriesToken?: TokenCheck;
  /** The deployed commit (RENDER_GIT_COMMIT), shown as `releaseId` with the full detail. */
  readonly releaseId?: string;
}

function publicCheck({ status, time, code, observedValue, observedUnit }: Check): Check {
  // A number (attempts, migrations applied) says nothing about the system; a string could say anything.
  const observed = typeof observedValue === 'number' ? { observedValue, ...(observedUnit ? { observedUnit } : {}) } : {};
  return { status, time, ...(code ? { code } : {}), ...observed };
}

/** The one decision of what is shown: everything with `full`; without the phase's detail, the checks' text and the release with `public`. */
export function statusView(snapshot: PhaseSnapshot, disclosure: Disclosure, releaseId?: string): StatusView {
  if (disclosure === 'full') return { ...snapshot, ...(releaseId ? { releaseId } : {}) };
  const checks: Partial<Record<CheckName, Check>> = {};
  for (const [name, check] of Object.entries(snapshot.checks) as [CheckName, Check | undefined][]) {
    if (check) checks[name] = publicCheck(check);
  }
  return { phase: snapshot.phase, since: snapshot.since, detail: undefined, lastErrorCode: snapshot.lastErrorCode, checks };
}

/** The view for `req`: full when it carries the metrics token, public for everyone else (loopback included). */
export function viewFor(req: IncomingMessage, snapshot: PhaseSnapshot, options: DisclosureOptions = {}): StatusView {
  return statusView(snapshot, options.carriesToken?.(req) ? 'full' : 'public', options.releaseId);
}
