// Header rewriting for the proxy, done on the raw header lists that Node already has: building Node's
// header objects for every request costs more CPU than the rest of the proxy's own work.
import type { OutgoingHttpHeaders } from 'node:http';

// Hop-by-hop: they describe one connection, not the message. Transfer-Encoding is among them for responses:
// Node frames the response again for the client's own HTTP version (chunked for 1.1, to the close for 1.0).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);
const RESPONSE_HOP_BY_HOP = new Set([...HOP_BY_HOP, 'transfer-encoding']);
// What the message needs whatever a Connection header lists (`Connection: Content-Length` would drop the body).
const NEVER_LISTED = new Set(['host', 'content-length', 'transfer-encoding']);

// Connection values that name no header to remove (nearly every message's), seen without splitting them.
const PLAIN_CONNECTION = new Set(['keep-alive', 'Keep-Alive', 'close', 'Close']);

/**
 * The header names listed in Connection headers, lower-cased, that are hop-by-hop only for being listed: neither
 * those the message needs nor those removed anyway.
 */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    const value = raw[i + 1] as string;
    if (PLAIN_CONNECTION.has(value)) continue;
    for (const token of value.split(',')) {
      const trimmed = token.trim().toLowerCase();
      if (trimmed !== '' && !NEVER_LISTED.has(trimmed) && !RESPONSE_HOP_BY_HOP.has(trimmed)) (tokens ??= new Set()).add(trimmed);
    }
  }
  return tokens;
}

export interface UpstreamRequestHeaders {
  /** Flat name/value list, as `http.request` takes it. */
  readonly headers: string[];
  readonly hasBody: boolean;
  /** The body is framed by Transfer-Encoding (chunked), not by Content-Length. */
  readonly chunked: boolean;
  /** The request has an Expect header (`100-continue`), which the app answers. */
  readonly hasExpect: boolean;
  /** More than one Host header: the request is refused (400), as the app and X-Forwarded-Host could read it differently. */
  readonly duplicateHost: boolean;
  /** No Host header (HTTP/1.0 may send none): the request to the app, in HTTP/1.1, needs one. */
  readonly missingHost: boolean;
}

export interface ClientInfo {
  readonly ip: string;
  readonly encrypted: boolean;
}

// What a proxy in front says about the client and the address it was reached at. From a proxy that is not trusted
// they are a client's say-so: every spelling a framework may read is removed (underscores too: some servers
// read `X_Forwarded_For` as `X-Forwarded-For`), and X-Forwarded-For, -Proto and -Host are set from the connection.
const FORWARDING = new Set([
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-ssl',
  'x-forwarded-scheme',
  'x-forwarded-server',
  'forwarded',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
  'x-original-url',
  'x-rewrite-url',
  'x-original-host',
]);

function isForwarding(lower: string): boolean {
  return FORWARDING.has(lower) || (lower.includes('_') && FORWARDING.has(lower.replaceAll('_', '-')));
}

/**
 * The request's headers for the app: hop-by-hop ones dropped (kept for an upgrade, which needs them), the
 * client appended to X-Forwarded-For, X-Forwarded-Proto and -Host added. With `trustForwarded` (the connection
 * comes from a proxy that TRUST_PROXY names), the forwarding headers it set are kept; without, they are removed
 * (see FORWARDING) and set anew. `authority`, from an absolute-form target, replaces Host (RFC 9112, 3.2.2).
 */
export function upstreamRequestHeaders(
  raw: readonly string[],
  client: ClientInfo,
  upgrade: boolean,
  trustForwarded: boolean,
  authority?: string,
): UpstreamRequestHeaders {
  const listed = upgrade ? undefined : connectionTokens(raw);
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  let hasForwardedProto = false;
  let hasForwardedHost = false;
  let host = authority;
  let hosts = 0;
  let hasBody = false;
  let chunked = false;
  let hasExpect = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (!upgrade && (HOP_BY_HOP.has(lower) || listed?.has(lower))) continue;
    if (!trustForwarded && isForwarding(lower)) continue;
    switch (lower) {
      case 'x-forwarded-for':
        forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        hasForwardedProto = true;
        break;
      case 'x-forwarded-host':
        hasForwardedHost = true;
        break;
      case 'host':
        hosts++;
        if (authority !== undefined) continue;
        host = value;
        break;
      case 'transfer-encoding':
        hasBody = true;
        chunked = true;
        break;
      case 'expect':
        hasExpect = true;
        break;
      case 'content-length':
        if (value !== '0') hasBody = true;
        break;
    }
    headers.push(name, value);
  }
  if (authority !== undefined) headers.push('Host', authority);
  headers.push('X-Forwarded-For', forwardedFor === undefined ? client.ip : `${forwardedFor}, ${client.ip}`);
  if (!hasForwardedProto) headers.push('X-Forwarded-Proto', client.encrypted ? 'https' : 'http');
  if (!hasForwardedHost && host !== undefined) headers.push('X-Forwarded-Host', host);
  return { headers, hasBody, chunked, hasExpect, duplicateHost: hosts > 1, missingHost: host === undefined };
}

/** The app's response headers for the client, hop-by-hop ones dropped; `Connection: close` while draining. */
export function downstreamResponseHeaders(raw: readonly string[], draining: boolean): OutgoingHttpHeaders {
  const listed = connectionTokens(raw);
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase();
    if (RESPONSE_HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    const value = raw[i + 1] as string;
    const existing = headers[lower];
    headers[lower] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  if (draining) headers.connection = 'close';
  return headers;
}

