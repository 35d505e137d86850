// Which origin-form targets are the supervisor's own: every spelling that an app's router (Express, Fastify, or
// `new URL(req.url, base)`) could take for an own path, and nothing else. Absolute-form targets are reduced to
// origin-form first (request-target.test.ts).
import { describe, expect, it } from 'vitest';
import { HEALTH_PATH, LIVENESS_PATH, METRICS_PATH, ownPathOf } from '../../../supervisor/http/own-paths.js';

describe('ownPathOf', () => {
  it.each([
    // as written, with a query or a fragment
    ['/health', HEALTH_PATH],
    ['/health?verbose=1', HEALTH_PATH],
    ['/health#x', HEALTH_PATH],
    ['/health/live', LIVENESS_PATH],
    ['/metrics', METRICS_PATH],
    // case
    ['/HEALTH', HEALTH_PATH],
    ['/Health/Live', LIVENESS_PATH],
    ['/mEtRiCs', METRICS_PATH],
    // trailing and doubled slashes
    ['/health/', HEALTH_PATH],
    ['/metrics//', METRICS_PATH],
    ['//metrics', METRICS_PATH],
    ['/health//live', LIVENESS_PATH],
    // dot segments, plain and escaped
    ['/./metrics', METRICS_PATH],
    ['/app/../metrics', METRICS_PATH],
    ['/app/%2e%2e/metrics', METRICS_PATH],
    ['/health/./live/.', LIVENESS_PATH],
    ['/a/b/../../health/live/..', HEALTH_PATH],
    // percent-encoding, either hex case
    ['/%6detrics', METRICS_PATH],
    ['/%6Detrics', METRICS_PATH],
    ['/health%2flive', LIVENESS_PATH],
    ['/%68%65%61%6c%74%68', HEALTH_PATH],
    // backslashes, which WHATWG URLs read as slashes
    ['/app/..\\metrics', METRICS_PATH],
    ['/health\\live', LIVENESS_PATH],
    // characters that a Unicode case-insensitive match takes for ASCII letters (ſ is s, K the Kelvin sign is k)
    ['/metric%C5%BF', METRICS_PATH],
    ['/%EF%BD%8D%EF%BD%85%EF%BD%94%EF%BD%92%EF%BD%89%EF%BD%83%EF%BD%93', METRICS_PATH],
  ])('%s is %s', (target, expected) => {
    expect(ownPathOf(target)).toBe(expected);
  });

  it.each([
    '/',
    '/healthz',
    '/health-check',
    '/api/health',
    '/metrics.json',
    '/metricsx',
    '/health/live/more',
    '/health/liveness',
    '/app.js',
    '/static/health.css',
    '/health.',
    '/%zz/metrics',
  ])('%s is the app\'s', (target) => {
    expect(ownPathOf(target)).toBeUndefined();
  });
});
