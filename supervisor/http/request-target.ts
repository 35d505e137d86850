// The one parse of a request's target (RFC 9112, 3.2), made before anything else looks at it: the own paths are
// decided on its path, and the app only ever gets origin-form. A target the supervisor cannot parse by the
// strictest of the rules in play (RFC 3986, and WHATWG URL, which `new URL()` in an app applies) is refused,
// never forwarded as it came: a lenient router could still find a route in it that the supervisor did not see.
import net from 'node:net';

export type RequestTarget =
  /** `path` is origin-form (path and query); `authority` is the absolute-form target's, which replaces Host. */
  | { readonly ok: true; readonly path: string; readonly authority?: string }
  | { readonly ok: false; readonly reason: string };

const ABSOLUTE_FORM = /^https?:\/\/([^/?#]*)(.*)$/is;
const IP_LITERAL = /^\[([^\]]*)\](?::(\d*))?$/;
const REG_NAME_AND_PORT = /^([\w.~!$&'()*+,;=-]+)(?::(\d*))?$/;
// WHATWG URL reads a host whose last label is a number (`256.256.256.256`, `1.2.3.0x10`) as an IPv4 address.
const NUMERIC_LAST_LABEL = /(?:^|\.)(?:0x[\da-f]*|\d+)\.?$/i;

function refused(reason: string): RequestTarget {
  return { ok: false, reason };
}

function authorityProblem(authority: string): string | undefined {
  if (authority.includes('@')) return 'Credentials in the request target are not accepted.';
  const literal = IP_LITERAL.exec(authority);
  const [, host = '', port] = literal ?? REG_NAME_AND_PORT.exec(authority) ?? [];
  if (host === '') return 'The request target has no valid host.';
  if (literal ? !net.isIPv6(host) : NUMERIC_LAST_LABEL.test(host) && !net.isIPv4(host)) return 'The request target has no valid host.';
  if (port !== undefined && port !== '' && Number(port) > 65_535) return 'The request target has an invalid port.';
  return undefined;
}

/**
 * Origin-form (`/path?query`) as it came; absolute-form (`http://host/path`) reduced to origin-form with its
 * authority; anything else (`*`, authority-form, a relative or other-scheme target, a fragment) refused.
 */
export function parseRequestTarget(target: string): RequestTarget {
  if (target.charCodeAt(0) === 0x2f /* / */) return { ok: true, path: target };
  const absolute = ABSOLUTE_FORM.exec(target);
  if (!absolute) return refused(target === '*' ? 'The asterisk-form target (OPTIONS *) is not served.' : 'The request target is neither a path nor an http(s) URL.');
  const [, authority = '', rest = ''] = absolute;
  const problem = authorityProblem(authority);
  if (problem) return refused(problem);
  if (rest !== '' && rest[0] !== '/' && rest[0] !== '?') return refused('The request target has a fragment.');
  if (!URL.canParse(target)) return refused('The request target is not a valid URL.');
  return { ok: true, path: rest[0] === '/' ? rest : `/${rest}`, authority };
}
