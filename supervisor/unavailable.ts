// The answer to proxied paths while the app cannot take them: 503 (or 502) with Retry-After, HTML for browsers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PhaseSnapshot } from './phases.js';

export const RETRY_AFTER_SECONDS = 5;

const PHASE_TEXT: Readonly<Record<string, string>> = {
  starting: 'Starting',
  waiting_for_database: 'Waiting for the database',
  migrating: 'Applying database migrations',
  verifying_schema: 'Checking the database schema',
  starting_app: 'Starting the app',
  restarting_app: 'Restarting the app',
  draining: 'Shutting down',
  failed: 'Start failed',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function wantsHtml(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

function htmlPage(snapshot: PhaseSnapshot): string {
  const title = PHASE_TEXT[snapshot.phase] ?? snapshot.phase;
  const detail = snapshot.detail ? `<p>${escapeHtml(snapshot.detail)}</p>` : '';
  const lastError = snapshot.lastErrorCode ? `<p>Last error: <code>${escapeHtml(snapshot.lastErrorCode)}</code></p>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${RETRY_AFTER_SECONDS}"><meta name="viewport" content="width=device-width">
<title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem;color:#222}
small{color:#666}</style></head><body>
<h1>${escapeHtml(title)}…</h1>${detail}${lastError}
<p><small>Phase <code>${escapeHtml(snapshot.phase)}</code> since ${escapeHtml(snapshot.since.toISOString())}.
This page reloads by itself.</small></p></body></html>`;
}

/** 503 while not ready: a small self-refreshing page for browsers, JSON for everyone else. */
export function sendNotReady(req: IncomingMessage, res: ServerResponse, snapshot: PhaseSnapshot): void {
  const html = wantsHtml(req);
  const body = html
    ? htmlPage(snapshot)
    : JSON.stringify({ error: { code: 'NOT_READY', message: 'The service is starting; retry shortly.', phase: snapshot.phase } });
  res.writeHead(503, {
    'content-type': html ? 'text/html; charset=utf-8' : 'application/json',
    'retry-after': String(RETRY_AFTER_SECONDS),
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** 502 when the app did not answer the proxied request. */
export function sendBadGateway(req: IncomingMessage, res: ServerResponse): void {
  const body = JSON.stringify({ error: { code: 'BAD_GATEWAY', message: 'The app did not answer; retry shortly.' } });
  res.writeHead(502, {
    'content-type': 'application/json',
    'retry-after': String(RETRY_AFTER_SECONDS),
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
