// The one parse of a request target: origin-form passes as it came, absolute-form becomes origin-form with its
// authority, and every target whose authority does not parse (by RFC 3986 and by WHATWG URL) is refused.
import { describe, expect, it } from 'vitest';
import { HEALTH_PATH, LIVENESS_PATH, METRICS_PATH, ownPathOf } from '../../../supervisor/http/own-paths.js';
import { parseRequestTarget } from '../../../supervisor/http/request-target.js';

describe('parseRequestTarget', () => {
  it.each(['/', '/metrics', '//metrics', '/a?b=c', '/x#y', '/%zz'])('passes the origin-form %s as it came', (target) => {
    expect(parseRequestTarget(target)).toEqual({ ok: true, path: target });
  });

  it.each([
    ['http://example.com/metrics', '/metrics', 'example.com'],
    ['HTTP://EXAMPLE.COM/HEALTH/', '/HEALTH/', 'EXAMPLE.COM'],
    ['https://example.com:8443/a/../b?c', '/a/../b?c', 'example.com:8443'],
    ['http://example.com', '/', 'example.com'],
    ['http://example.com?x=1', '/?x=1', 'example.com'],
    ['http://127.0.0.1:80/', '/', '127.0.0.1:80'],
    ['http://[::1]:3000/ws', '/ws', '[::1]:3000'],
    ['http://example.com:/x', '/x', 'example.com:'],
    ['http://under_score.example/x', '/x', 'under_score.example'],
  ])('reduces %s to origin-form %s with the authority %s', (target, path, authority) => {
    expect(parseRequestTarget(target)).toEqual({ ok: true, path, authority });
  });

  it.each([
    'http://x:99999/metrics',
    'http://x:65536/metrics',
    'http://256.256.256.256/metrics',
    'http://1.2.3.0x100/metrics',
    'http://999/metrics',
    'http://[x]/metrics',
    'http://[::1/metrics',
    'http:///metrics',
    'http://:80/metrics',
    'http://user@example.com/metrics',
    'http://user:pass@example.com/',
    'http://exa mple.com/',
    'http://ex%61mple.com/',
    'http://example.com#frag',
    'http:/metrics',
    'http:metrics',
    'ftp://example.com/metrics',
    'example.com:443',
    'metrics',
    '*',
    '',
  ])('refuses %s', (target) => {
    expect(parseRequestTarget(target)).toMatchObject({ ok: false, reason: expect.any(String) });
  });

  it.each([
    ['http://example.com/metrics', METRICS_PATH],
    ['HTTP://example.com:8080/Health/?x=1', HEALTH_PATH],
    ['https://example.com/app/../health/live', LIVENESS_PATH],
    ['http://example.com/%6detrics', METRICS_PATH],
    ['http://example.com/api/metrics', undefined],
  ])('decides the own path of %s on its path alone', (target, expected) => {
    const parsed = parseRequestTarget(target);
    expect(parsed.ok && ownPathOf(parsed.path)).toBe(expected);
  });
});
