// The metrics token as a request carries it (`Authorization: Bearer <token>`): it opens /metrics and the full detail
// of /health and the status page. One comparison for both, in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Whether a request carries the token. */
export type TokenCheck = (req: IncomingMessage) => boolean;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The check for `token`; without a token no request carries it. */
export function bearerTokenCheck(token: string | undefined): TokenCheck {
  if (token === undefined) return () => false;
  // Hashing both sides makes the comparison constant-time whatever the lengths.
  const expected = digest(token);
  return (req) => {
    const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1] as string), expected);
  };
}
