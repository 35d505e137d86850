// The answer to proxied paths while the app cannot take them: 503 with Retry-After (a status page for browsers,
// JSON for the rest), and 502 with Retry-After when the app dropped a request.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PHASE_CHECKS, type CheckName, type Phase, type PhaseSnapshot } from '../core/phases.js';
import { ErrorCodes } from '../core/errors.js';
import { viewFor, type DisclosureOptions, type StatusView } from './disclosure.js';

export const RETRY_AFTER_SECONDS = 5;

// Per phase: the status page's heading, and the message of the JSON answer. `ready` is here to be complete:
// the proxy has the app to send to then.
const PHASE_TEXT: Readonly<Record<Phase, { readonly title: string; readonly message: string }>> = {
  starting: { title: 'Starting', message: 'The service is starting; retry shortly.' },
  waiting_for_database: { title: 'Waiting for the database', message: 'The service is waiting for its database; retry shortly.' },
  migrating: { title: 'Applying database migrations', message: 'The service is applying database migrations; retry shortly.' },
  verifying_schema: { title: 'Checking the database schema', message: 'The service is checking its database schema; retry shortly.' },
  starting_app: { title: 'Starting the app', message: 'The service is starting its app; retry shortly.' },
  ready: { title: 'The app is not answering', message: 'The app is not answering at the moment; retry shortly.' },
  restarting_app: { title: 'Restarting the app', message: 'The app stopped, or stopped answering, and is out of rotation until it answers again; retry shortly.' },
  draining: { title: 'Shutting down', message: 'The service is shutting down; retry shortly.' },
  failed: { title: 'Start failed', message: 'The service failed to start; it stays unavailable until it is fixed and deployed again.' },
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function wantsHtml(req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

const STEPS: readonly (readonly [CheckName, string])[] = [
  ['database', 'Database'],
  ['migrations', 'Migrations'],
  ['schema', 'Schema'],
  ['app', 'App'],
];
const STEP_MARKS: Readonly<Record<string, string>> = { pass: '✓', fail: '✗', running: '●' };

function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

function lastErrorLine(view: StatusView): string {
  return view.lastErrorCode ? `<p class="error">Last error: <code>${escapeHtml(view.lastErrorCode)}</code></p>` : '';
}

// The four checks with what /health shows of them: their text with the full detail, else their code; the current
// phase's step shows as under way until its check says otherwise.
function stepList(view: StatusView): string {
  const current = PHASE_CHECKS[view.phase];
  const items = STEPS.map(([name, label]) => {
    const check = view.checks[name];
    const status = check?.status ?? (name === current ? 'running' : 'pending');
    const note = check?.output ?? check?.code;
    const small = note ? ` <small>${escapeHtml(note)}</small>` : '';
    return `<li data-status="${status}"><span aria-hidden="true">${STEP_MARKS[status] ?? '○'}</span> ${label}${small}</li>`;
  });
  return `<ol class="steps">${items.join('')}</ol>`;
}

/** The status page a browser gets while not ready; it reloads itself until the app's own page answers. */
function htmlPage(view: StatusView, now: number = Date.now()): string {
  const { title } = PHASE_TEXT[view.phase];
  const heading = view.phase === 'failed' ? title : `${title}…`;
  const detail = view.detail ? `<p class="detail">${escapeHtml(view.detail)}</p>` : '';
  const since = view.since.toISOString();
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${RETRY_AFTER_SECONDS}"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:12vh auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem;margin-bottom:.25rem}.detail{font-size:1.1rem;margin-top:0}
.error{background:#fdecea;border-left:4px solid #c62828;padding:.5rem .75rem}
.steps{list-style:none;padding:0}.steps li{margin:.2rem 0}.steps small,footer{color:#666}
[data-status=pass] span{color:#2e7d32}[data-status=fail] span{color:#c62828}[data-status=running] span{color:#1565c0}
[data-status=pending]{color:#888}</style>
</head><body><main role="status">
<h1>${escapeHtml(heading)}</h1>${detail}${lastErrorLine(view)}${stepList(view)}
<footer><small>Phase <code>${escapeHtml(view.phase)}</code> for ${formatElapsed(now - view.since.getTime())},
since <time datetime="${since}">${since.slice(11, 19)} UTC</time>. This page reloads itself every ${RETRY_AFTER_SECONDS} s.</small></footer>
</main></body></html>`;
}

/** 503 while not ready: a small self-refreshing page for browsers, JSON for everyone else; each shows the view for `req`. */
export function sendNotReady(req: IncomingMessage, res: ServerResponse, snapshot: PhaseSnapshot, disclosure?: DisclosureOptions): void {
  const html = wantsHtml(req);
  const view = viewFor(req, snapshot, disclosure);
  const body = html
    ? htmlPage(view)
    : JSON.stringify({ error: { code: ErrorCodes.NOT_READY, message: PHASE_TEXT[view.phase].message, phase: view.phase } });
  res.writeHead(503, {
    'content-type': html ? 'text/html; charset=utf-8' : 'application/json',
    'retry-after': String(RETRY_AFTER_SECONDS),
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

// The gate's own answers for a request that the app did not answer, or that cannot be sent to it: JSON, or a
// small page for browsers. 502, 503 and 504 are worth a retry (Retry-After); a 4xx is not.
const GATE_ERRORS = {
  400: { code: ErrorCodes.BAD_REQUEST, statusMessage: 'Bad Request', title: 'Bad request', message: 'The request is malformed.' },
  405: { code: ErrorCodes.METHOD_NOT_ALLOWED, statusMessage: 'Method Not Allowed', title: 'Method not allowed', message: 'This method is not served.' },
  408: { code: ErrorCodes.REQUEST_TIMEOUT, statusMessage: 'Request Timeout', title: 'Request timeout', message: 'The request did not arrive in time.' },
  413: { code: ErrorCodes.CONTENT_TOO_LARGE, statusMessage: 'Content Too Large', title: 'Content too large', message: 'A chunk extension is too large.' },
  414: { code: ErrorCodes.URI_TOO_LONG, statusMessage: 'URI Too Long', title: 'URI too long', message: 'The request target is too long.' },
  431: { code: ErrorCodes.HEADERS_TOO_LARGE, statusMessage: 'Request Header Fields Too Large', title: 'Headers too large', message: 'The request headers are too large (16 KiB at most).' },
  502: { code: ErrorCodes.APP_UNREACHABLE, statusMessage: 'Bad Gateway', title: 'The app did not answer', message: 'The app did not answer; retry shortly.' },
  503: { code: ErrorCodes.UNAVAILABLE, statusMessage: 'Service Unavailable', title: 'Unavailable', message: 'The service cannot take this connection now; retry shortly.' },
  504: { code: ErrorCodes.APP_RESPONSE_TIMEOUT, statusMessage: 'Gateway Timeout', title: 'The app took too long to answer', message: 'The app did not answer in time; retry shortly.' },
} as const;

export type GateErrorStatus = keyof typeof GATE_ERRORS;

/** The methods the supervisor passes on; TRACE (cross-site tracing) and CONNECT (tunnels) are answered 405. */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

/** The gate's answer as a raw response's parts, for a socket that is no longer an HTTP response (an upgrade). */
export function gateErrorBody(statusCode: GateErrorStatus, message: string = GATE_ERRORS[statusCode].message): { statusMessage: string; headers: string[]; body: string } {
  const { code, statusMessage } = GATE_ERRORS[statusCode];
  const headers = ['Content-Type', 'application/json'];
  if (statusCode >= 500) headers.push('Retry-After', String(RETRY_AFTER_SECONDS));
  if (statusCode === 405) headers.push('Allow', ALLOWED_METHODS);
  return { statusMessage, headers, body: JSON.stringify({ error: { code, message } }) };
}

/**
 * 400, 405, 502, 503 or 504 from the supervisor itself, `message` saying what was wrong. The connection stays open
 * (but after a 4xx): closing it under a client still sending its body would reset it, and the client could lose
 * the answer.
 */
export function sendGateError(req: IncomingMessage, res: ServerResponse, statusCode: GateErrorStatus, message: string = GATE_ERRORS[statusCode].message): void {
  const { code, title } = GATE_ERRORS[statusCode];
  const html = wantsHtml(req);
  const body = html
    ? `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex"><title>${title}</title></head>` +
      `<body><h1>${title}</h1><p>${escapeHtml(message)}</p></body></html>`
    : JSON.stringify({ error: { code, message } });
  const headers: Record<string, string | number> = {
    'content-type': html ? 'text/html; charset=utf-8' : 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  };
  if (statusCode < 500) headers.connection = 'close';
  else headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  if (statusCode === 405) headers.allow = ALLOWED_METHODS;
  res.writeHead(statusCode, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
