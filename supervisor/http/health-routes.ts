// /health (readiness) and /health/live (liveness) in the IETF health-check draft's format.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CheckName, PhaseMachine } from '../core/phases.js';
import { ErrorCodes } from '../core/errors.js';
import { viewFor, type DisclosureOptions, type StatusView } from './disclosure.js';
import { HEALTH_PATH, LIVENESS_PATH } from './own-paths.js';

export const HEALTH_CONTENT_TYPE = 'application/health+json';
const CHECK_NAMES: readonly CheckName[] = ['database', 'migrations', 'schema', 'app'];
const COMPONENT_TYPES: Readonly<Record<CheckName, string>> = {
  database: 'datastore',
  migrations: 'component',
  schema: 'component',
  app: 'system',
};

export interface HealthBody {
  readonly status: 'pass' | 'warn' | 'fail';
  readonly phase: string;
  readonly since: string;
  readonly output?: string;
  readonly releaseId?: string;
  readonly checks: Record<string, unknown[]>;
}

/**
 * The readiness report of a view (see disclosure.ts): 200 only in `ready`, 503 in every other phase. Ready with a
 * check that is not `pass` (the database not answering the last check) is `warn`: still 200, so that a shared
 * dependency's outage does not take every instance out of rotation at once.
 */
export function readinessReport(view: StatusView): { statusCode: number; body: HealthBody } {
  const ready = view.phase === 'ready';
  const checks: Record<string, unknown[]> = {};
  for (const name of CHECK_NAMES) {
    const check = view.checks[name] ?? { status: 'warn', output: 'not checked yet' };
    checks[name] = [{ componentType: COMPONENT_TYPES[name], ...check }];
  }
  const output = [view.detail, view.lastErrorCode].filter(Boolean).join('; ');
  return {
    statusCode: ready ? 200 : 503,
    body: {
      status: !ready ? 'fail' : Object.values(view.checks).every((check) => check?.status === 'pass') ? 'pass' : 'warn',
      phase: view.phase,
      since: view.since.toISOString(),
      ...(output ? { output } : {}),
      ...(view.releaseId ? { releaseId: view.releaseId } : {}),
      checks,
    },
  };
}

function send(req: IncomingMessage, res: ServerResponse, statusCode: number, body: object, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(statusCode, { 'content-type': HEALTH_CONTENT_TYPE, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(req.method === 'HEAD' ? undefined : json);
}

/**
 * Answers /health or /health/live (`ownPath`, in its one spelling) from the phase machine, keeping no state of its
 * own: GET and HEAD, 405 for other methods. Plain node:http: a platform polls /health from the start on, and a
 * framework loaded for two routes would be a large part of the supervisor's start.
 */
export function answerHealthRoute(req: IncomingMessage, res: ServerResponse, ownPath: typeof HEALTH_PATH | typeof LIVENESS_PATH, phases: PhaseMachine, disclosure?: DisclosureOptions): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const message = `${ownPath} answers GET and HEAD.`;
    return send(req, res, 405, { error: { code: ErrorCodes.METHOD_NOT_ALLOWED, message } }, { allow: 'GET, HEAD', 'content-type': 'application/json' });
  }
  if (ownPath === HEALTH_PATH) {
    const { statusCode, body } = readinessReport(viewFor(req, phases.snapshot(), disclosure));
    return send(req, res, statusCode, body);
  }
  const failed = phases.phase === 'failed';
  send(req, res, failed ? 503 : 200, { status: failed ? 'fail' : 'pass', phase: phases.phase });
}
