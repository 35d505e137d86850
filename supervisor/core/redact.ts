// Keeps credentials out of everything the supervisor writes: log lines, child output, responses.
//
// A known secret (the database password, the metrics token) is removed wherever it appears, in every form a
// line can hold it: as it is, URL-encoded (`%40`, and `+` for a space), JSON-escaped (`\"`, `\\`, `\u00e9`), and
// JSON-escaped twice (an app's JSON printed inside the supervisor's own JSON line). A secret shorter than
// MIN_ANYWHERE is not searched for in free text: replacing every `ab` would mangle the log and, worse, tell its
// reader what the password is. It is still removed where credentials stand, as are all credentials there,
// known or not: the password of any URL (`scheme://user:…@`), and the value of a `password`, `passwd` or `pwd`
// field (`"password": "…"` in JSON, escaped or not, and `password=…` in keyword/value strings and queries).

const MIN_ANYWHERE = 4;
const MASK = '***';

// The user part stops where a URL's would; the password may hold JSON escapes (`\"`), as an app's JSON prints it.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"'\\]+):((?:\\.|[^\s@/"'\\])+)@/gi;
// `"password": "…"`, its quotes escaped any number of times (\2 is the opening quote of the value, escapes included).
const JSON_PASSWORD_FIELDS = /(\\*"(?:password|passwd|pwd)\\*"\s*:\s*(\\*"))(?:\\.|[^"\\])*?(?=\2)/gi;
const KEYWORD_PASSWORDS = /\b((?:password|passwd|pwd)\s*=\s*)('(?:\\.|[^'\\])*'|[^\s&;'",}]+)/gi;

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db` (any scheme, anywhere in the text). */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, `$1:${MASK}@`);
}

/** Every credential in a credential's place: URL passwords, `password` fields and `password=` values. */
export function redactCredentialFields(text: string): string {
  return redactUrlCredentials(text).replace(JSON_PASSWORD_FIELDS, `$1${MASK}`).replace(KEYWORD_PASSWORDS, `$1${MASK}`);
}

function jsonEscaped(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

/** The forms in which `secret` can appear in a line of text. */
export function secretForms(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  const once = jsonEscaped(secret);
  return [
    secret,
    encoded,
    encoded.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()),
    encoded.replaceAll('%20', '+'),
    once,
    jsonEscaped(once),
    // JSON that escapes every non-ASCII character (Python's json.dumps, for one).
    once.replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`),
  ];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Builds a scrubber for text: credentials in their places (any length), and the given secrets in every form. */
export function createScrubber(secrets: readonly (string | undefined)[]): (text: string) => string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < MIN_ANYWHERE) continue;
    for (const form of secretForms(secret)) needles.add(form);
  }
  // One pass over the line, longest form first (a form may contain a shorter one).
  const anywhere =
    needles.size === 0 ? undefined : new RegExp([...needles].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
  // Known secrets first: a field's pattern could end inside a value that is escaped twice and cut a secret in two.
  return (text) => redactCredentialFields(anywhere ? text.replace(anywhere, MASK) : text);
}

/** The password inside a connection string, if any (decoded), so that it can be scrubbed anywhere. */
export function passwordOf(connectionString: string | undefined): string | undefined {
  if (!connectionString) return undefined;
  try {
    const password = new URL(connectionString).password;
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}
