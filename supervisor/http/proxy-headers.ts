// Header rewriting for the proxy, done on the raw header lists that Node already has: building Node's
// header objects for every request costs more CPU than the rest of the proxy's own work.
import type { OutgoingHttpHeaders } from 'node:http';

// Hop-by-hop: they describe one connection, not the message. Transfer-Encoding is among them for responses:
// Node frames the response again for the client's own HTTP version (chunked for 1.1, to the close for 1.0).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);
const RESPONSE_HOP_BY_HOP = new Set([...HOP_BY_HOP, 'transfer-encoding']);
// What the message needs whatever a Connection header lists (`Connection: Content-Length` would drop the body).
const NEVER_LISTED = new Set(['host', 'content-length', 'transfer-encoding']);

/** The header names listed in Connection headers, lower-cased, but for those the message needs: they are hop-by-hop too. */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] as string).split(',')) {
      const trimmed = token.trim().toLowerCase();
      if (trimmed !== '' && !NEVER_LISTED.has(trimmed)) (tokens ??= new Set()).add(trimmed);
    }
  }
  return tokens;
}

export interface UpstreamRequestHeaders {
  /** Flat name/value list, as `http.request` takes it. */
  readonly headers: string[];
  readonly hasBody: boolean;
  /** More than one Host header: the request is refused (400), as the app and X-Forwarded-Host could read it differently. */
  readonly duplicateHost: boolean;
  /** No Host header (HTTP/1.0 may send none): the request to the app, in HTTP/1.1, needs one. */
  readonly missingHost: boolean;
}

export interface ClientInfo {
  readonly ip: string;
  readonly encrypted: boolean;
}

/**
 * The request's headers for the app: hop-by-hop ones dropped (kept for an upgrade, which needs them), the
 * client appended to X-Forwarded-For, X-Forwarded-Proto and -Host added. With `trustForwarded` (TRUST_PROXY),
 * the X-Forwarded-* a proxy in front set are kept; without, the client's are replaced (Forwarded dropped).
 */
export function upstreamRequestHeaders(raw: readonly string[], client: ClientInfo, upgrade: boolean, trustForwarded: boolean): UpstreamRequestHeaders {
  const listed = upgrade ? undefined : connectionTokens(raw);
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  let hasForwardedProto = false;
  let hasForwardedHost = false;
  let host: string | undefined;
  let hosts = 0;
  let hasBody = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (!upgrade && (HOP_BY_HOP.has(lower) || listed?.has(lower))) continue;
    switch (lower) {
      case 'x-forwarded-for':
        if (trustForwarded) forwardedFor = forwardedFor === undefined ? value : `${forwardedFor}, ${value}`;
        continue;
      case 'x-forwarded-proto':
        if (!trustForwarded) continue;
        hasForwardedProto = true;
        break;
      case 'x-forwarded-host':
        if (!trustForwarded) continue;
        hasForwardedHost = true;
        break;
      case 'forwarded':
        if (!trustForwarded) continue;
        break;
      case 'host':
        host = value;
        hosts++;
        break;
      case 'transfer-encoding':
        hasBody = true;
        break;
      case 'content-length':
        if (value !== '0') hasBody = true;
        break;
    }
    headers.push(name, value);
  }
  headers.push('X-Forwarded-For', forwardedFor === undefined ? client.ip : `${forwardedFor}, ${client.ip}`);
  if (!hasForwardedProto) headers.push('X-Forwarded-Proto', client.encrypted ? 'https' : 'http');
  if (!hasForwardedHost && host !== undefined) headers.push('X-Forwarded-Host', host);
  return { headers, hasBody, duplicateHost: hosts > 1, missingHost: hosts === 0 };
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

