// The one place that decides whether a request is for the supervisor itself. An app's router is lenient
// (Express ignores case and a trailing slash, and an app that reads `new URL(req.url, base)` gets dot segments,
// `%2e%2e` and backslashes resolved as WHATWG URLs do), so
// an own path is recognised in every spelling that a router would also accept: none of them may reach
// the app, and none may reach the app's own /metrics around the token. Recognising more spellings than a
// given router does only keeps odd paths from the app; recognising fewer would let one through.

export const HEALTH_PATH = '/health';
export const LIVENESS_PATH = '/health/live';
export const METRICS_PATH = '/metrics';

export type OwnPath = typeof HEALTH_PATH | typeof LIVENESS_PATH | typeof METRICS_PATH;

const OWN_PATHS: ReadonlyMap<string, OwnPath> = new Map(([HEALTH_PATH, LIVENESS_PATH, METRICS_PATH] as const).map((path) => [path, path]));

/** The path of an origin-form target (see request-target.ts): the query and any fragment dropped. */
function targetPath(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

// Percent-decoded (where it decodes), compatibility-normalised and lower-cased (`%C5%BF` is ſ, which a Unicode
// case-insensitive match takes for s), backslashes as slashes, slashes collapsed, trailing slashes and dot
// segments resolved.
function canonical(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // A malformed escape is left as it is; the app's router sees the same.
  }
  const segments: string[] = [];
  for (const segment of decoded.normalize('NFKC').toLowerCase().split(/[/\\]/)) {
    if (segment === '..') segments.pop();
    else if (segment !== '' && segment !== '.') segments.push(segment);
  }
  return `/${segments.join('/')}`;
}

// An escape, a backslash or a dot segment: what could turn a path into an own path once resolved.
const MAY_RESOLVE = /[%\\]|\/\.{1,2}(?:\/|$)/;

/** The own path that `path` (an origin-form target, see parseRequestTarget) names, or undefined when it is the app's. */
export function ownPathOf(originForm: string): OwnPath | undefined {
  const path = targetPath(originForm);
  // The fast way out for the proxy's hot path: most app paths share no first letter with an own path, and have
  // nothing that could make them one once resolved (`/app.js` stays on the fast path).
  const second = path.charCodeAt(1) | 0x20;
  if (path.length > 1 && second !== 0x68 /* h */ && second !== 0x6d /* m */ && path[1] !== '/' && !MAY_RESOLVE.test(path)) {
    return undefined;
  }
  return OWN_PATHS.get(canonical(path));
}
