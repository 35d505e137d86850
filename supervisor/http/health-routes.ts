// /health (readiness) and /health/live (liveness) in the IETF health-check draft's format.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { CheckName, PhaseMachine, PhaseSnapshot } from '../core/phases.js';
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

/** Registers both endpoints; they read the phase machine and keep no state of their own. */
export function registerHealthRoutes(app: FastifyInstance, phases: PhaseMachine, disclosure?: DisclosureOptions): void {
  app.get(HEALTH_PATH, async (request, reply) => {
    const { statusCode, body } = readinessReport(viewFor(request.raw, phases.snapshot(), disclosure));
    return reply.code(statusCode).header('content-type', HEALTH_CONTENT_TYPE).header('cache-control', 'no-store').send(body);
  });
  app.get(LIVENESS_PATH, async (_request, reply) => {
    const failed = phases.phase === 'failed';
    return reply
      .code(failed ? 503 : 200)
      .header('content-type', HEALTH_CONTENT_TYPE)
      .header('cache-control', 'no-store')
      .send({ status: failed ? 'fail' : 'pass', phase: phases.phase });
  });
}

/** 503 on plain node:http for either endpoint, when Fastify could not load (the start fails with it). */
export function sendHealthUnavailable(req: IncomingMessage, res: ServerResponse, snapshot: PhaseSnapshot, disclosure?: DisclosureOptions): void {
  const body = JSON.stringify({ ...readinessReport(viewFor(req, snapshot, disclosure)).body, status: 'fail' });
  res.writeHead(503, { 'content-type': HEALTH_CONTENT_TYPE, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}
