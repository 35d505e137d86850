// Header rewriting for the proxy, done on the raw header lists that Node already has: building Node's
// header objects for every request costs more CPU than the rest of the proxy's own work.
import type { OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

/** The header names listed in Connection headers, lower-cased: they are hop-by-hop too. */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] as string).split(',')) {
      const trimmed = token.trim().toLowerCase();
      if (trimmed !== '') (tokens ??= new Set()).add(trimmed);
    }
  }
  return tokens;
}

export interface UpstreamRequestHeaders {
  /** Flat name/value list, as `http.request` takes it. */
  readonly headers: string[];
  readonly hasBody: boolean;
}

export interface ClientInfo {
  readonly ip: string;
  readonly encrypted: boolean;
}

/**
 * The request's headers for the app: hop-by-hop ones dropped (kept for an upgrade, which needs them),
 * the client appended to X-Forwarded-For, X-Forwarded-Proto and -Host added unless a proxy in front set them.
 */
export function upstreamRequestHeaders(raw: readonly string[], client: ClientInfo, upgrade: boolean): UpstreamRequestHeaders {
  const listed = upgrade ? undefined : connectionTokens(raw);
  const headers: string[] = [];
  let forwardedFor: string | undefined;
  let hasForwardedProto = false;
  let hasForwardedHost = false;
  let host: string | undefined;
  let hasBody = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (!upgrade && (HOP_BY_HOP.has(lower) || listed?.has(lower))) continue;
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
        host = value;
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
  return { headers, hasBody };
}

/** The app's response headers for the client, hop-by-hop ones dropped; `Connection: close` while draining. */
export function downstreamResponseHeaders(raw: readonly string[], draining: boolean): OutgoingHttpHeaders {
  const listed = connectionTokens(raw);
  const headers: Record<string, string | string[]> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    const value = raw[i + 1] as string;
    const existing = headers[lower];
    headers[lower] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  if (draining) headers.connection = 'close';
  return headers;
}
