// Keeps credentials out of everything the supervisor writes: log lines, child output, responses.

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+):([^\s@/"']+)@/gi;

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db` (any scheme, anywhere in the text). */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1:***@');
}

/** Builds a scrubber that also removes the given secret values, raw and URL-encoded, wherever they appear. */
export function createScrubber(secrets: readonly (string | undefined)[]): (text: string) => string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (!secret || secret.length < 4) continue; // too short to replace without mangling ordinary text
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
  }
  const ordered = [...needles].sort((a, b) => b.length - a.length);
  return (text) => {
    let result = redactUrlCredentials(text);
    for (const needle of ordered) {
      if (result.includes(needle)) result = result.replaceAll(needle, '***');
    }
    return result;
  };
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
