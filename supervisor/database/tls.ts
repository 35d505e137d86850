// What went wrong with TLS, and which setting fixes it: each failure gets a hint for its own cause, and
// never the sslmode that just failed. pg's modes differ from libpq's: see docs/poolers-and-tls.md, "TLS".
import { describeTarget } from './connection.js';
import { ErrorCodes, SupervisorError } from '../core/errors.js';

/** The TLS parameters of a connection string, as pg reads them. */
interface TlsSettings {
  readonly sslmode: string | undefined;
  readonly sslrootcert: string | undefined;
  readonly sslcert: string | undefined;
  readonly sslkey: string | undefined;
  /** `uselibpqcompat=true`: libpq's meaning of each sslmode. */
  readonly libpqCompat: boolean;
}

/** The connection string's query parameters that decide TLS. */
function tlsSettingsOf(databaseUrl: string): TlsSettings {
  const params = new URL(databaseUrl).searchParams;
  const get = (name: string): string | undefined => params.get(name) || undefined;
  return {
    sslmode: get('sslmode'),
    sslrootcert: get('sslrootcert'),
    sslcert: get('sslcert'),
    sslkey: get('sslkey'),
    libpqCompat: params.get('uselibpqcompat') === 'true',
  };
}

/** What a TLS failure comes down to; each has its own hint. */
type TlsProblem = 'untrusted' | 'expired' | 'host_mismatch' | 'not_offered' | 'required' | 'client_certificate' | 'other';

// Node's (OpenSSL's) codes for a certificate chain that leads to no CA the client trusts.
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
// The server's TLS alerts when it rejects the client's certificate, or demands one that was not given.
const CLIENT_CERTIFICATE_ALERTS = /^ERR_SSL_(TLSV13_ALERT_CERTIFICATE_REQUIRED|SSLV3_ALERT_BAD_CERTIFICATE|TLSV1_ALERT_UNKNOWN_CA|SSLV3_ALERT_CERTIFICATE_)/;

// A code the server sent (28000, XX000), unlike Node's and OpenSSL's.
const SQLSTATE = /^(?=.*\d)[0-9A-Z]{5}$/;

// The network dropping the connection, during the TLS handshake too ("Client network socket disconnected before
// secure TLS connection was established"): another attempt may pass.
const NETWORK_DROPS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Classifies a connection error as a TLS problem; undefined when TLS is not what failed. */
function tlsProblemOf(error: unknown): TlsProblem | undefined {
  const { code = '', message = '' } = (error ?? {}) as { code?: string; message?: string };
  if (NETWORK_DROPS.has(code)) return undefined;
  if (UNTRUSTED.has(code)) return 'untrusted';
  if (EXPIRED.has(code)) return 'expired';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'host_mismatch';
  if (message === 'The server does not support SSL connections') return 'not_offered';
  // pg_hba.conf has only `hostssl` lines for this client: "no pg_hba.conf entry for host …, no encryption".
  if (code === '28000' && /no encryption|SSL off/.test(message)) return 'required';
  if (code === '28000' && /client certificate|certificate authentication/i.test(message)) return 'client_certificate';
  if (CLIENT_CERTIFICATE_ALERTS.test(code)) return 'client_certificate';
  if (/^(ERR_SSL_|ERR_TLS_|CERT_)/.test(code)) return 'other';
  // Any other mention of TLS, except in the server's own errors (SQLSTATE codes), such as a refused user's
  // "no pg_hba.conf entry …, SSL encryption".
  if (!SQLSTATE.test(code) && /\bSSL\b|\bTLS\b|certificate/i.test(message)) return 'other';
  return undefined;
}

// The names a certificate is valid for, from the error: `DNS:db.example.com, IP Address:10.0.0.5` →
// `db.example.com, 10.0.0.5` (Node's reason lists them too, or the certificate's CN when it has no altnames).
function certificateNames(error: unknown): string | undefined {
  const { cert, reason = '' } = error as { cert?: { subjectaltname?: string }; reason?: string };
  const names = cert?.subjectaltname ?? /(?:altnames|cert's list|cert's CN): (.*)$/.exec(reason)?.[1];
  const list = names?.replace(/\b(DNS|IP Address):/g, '').trim();
  return list ? list : undefined;
}

const NO_VERIFY = '`sslmode=no-verify` to encrypt without verifying the server';

// pg (before 9) treats these as verify-full: a user who chose them from libpq's documentation expects less.
function aliasNote({ sslmode, libpqCompat }: TlsSettings): string {
  return !libpqCompat && ['prefer', 'require', 'verify-ca'].includes(sslmode ?? '')
    ? ` (pg treats \`${sslmode}\` as verify-full: unlike libpq, it verifies the certificate.)`
    : '';
}

function hintFor(problem: TlsProblem, error: unknown, settings: TlsSettings, host: string, variable: string): string {
  switch (problem) {
    case 'untrusted': {
      const code = (error as { code?: string }).code;
      const what =
        code === 'DEPTH_ZERO_SELF_SIGNED_CERT'
          ? 'is self-signed: give it'
          : 'is not signed by a CA that this connection trusts: give the CA that signed it (providers publish theirs)';
      if (settings.sslrootcert) {
        return `The server's certificate is not signed by the CA in sslrootcert (${settings.sslrootcert}): point sslrootcert in ${variable} at the CA that signed it, or use ${NO_VERIFY}.`;
      }
      return (
        `The server's certificate ${what} in ${variable} with ` +
        `\`sslmode=verify-full&sslrootcert=/path/to/ca.pem\`, or use ${NO_VERIFY}.${aliasNote(settings)}`
      );
    }
    case 'host_mismatch': {
      const names = certificateNames(error);
      const named = names ? `names ${names}, not ${host}` : `does not name ${host}`;
      return (
        `The server's certificate ${named}: put a host name that it names in ${variable}, ` +
        'or, to check the CA but not the host name, use `uselibpqcompat=true&sslmode=verify-ca` with `sslrootcert=/path/to/ca.pem`.'
      );
    }
    case 'expired': {
      const when = (error as { code?: string }).code === 'CERT_NOT_YET_VALID' ? 'is not valid yet' : 'has expired';
      return `The server's certificate ${when}: renew it on the server (or ask your provider), and check this machine's clock. As a stopgap, use ${NO_VERIFY}.`;
    }
    case 'not_offered': {
      // With pg, sslrootcert, sslcert or sslkey alone turn TLS on: removing sslmode is not enough then.
      const others = settings.sslrootcert || settings.sslcert || settings.sslkey;
      const change = settings.sslmode && !others ? `remove \`sslmode=${settings.sslmode}\` from ${variable} or set \`sslmode=disable\`` : `set \`sslmode=disable\` in ${variable}`;
      return `This server does not offer TLS: ${change} (e.g. Render's internal database URL needs no TLS; its external URL does).`;
    }
    case 'required': {
      const [verb, where] = settings.sslmode ? [`replace \`sslmode=${settings.sslmode}\` in ${variable} with`, ''] : ['add', ` to ${variable}`];
      return (
        `The server accepts only encrypted connections from here: ${verb} \`sslmode=verify-full\`${where} ` +
        `(with \`sslrootcert=/path/to/ca.pem\` when its certificate is not from a public CA), or ${NO_VERIFY}.`
      );
    }
    case 'client_certificate':
      return `The server wants a client certificate that it trusts: give it in ${variable} with \`sslcert=/path/to/client.crt&sslkey=/path/to/client.key\` (signed by a CA in the server's ssl_ca_file, its CN the user name).`;
    case 'other': {
      const options = [
        ['verify-full', '`sslmode=verify-full` (with `sslrootcert=/path/to/ca.pem` for a private CA) verifies the server'],
        ['no-verify', '`sslmode=no-verify` encrypts without verifying'],
        ['disable', '`sslmode=disable` turns TLS off'],
      ].filter(([mode]) => mode !== settings.sslmode);
      return `Check the TLS settings in ${variable}: ${options.map(([, text]) => text).join('; ')}.${aliasNote(settings)}`;
    }
  }
}

// pg reads these files when it parses the connection string; config.ts reports a missing one at load, so
// this covers only a file that went away since.
function unreadableFile(error: unknown, settings: TlsSettings, variable: string): SupervisorError | undefined {
  const { syscall, path: file, code } = error as { syscall?: string; path?: string; code?: string };
  if (syscall !== 'open' || file === undefined) return undefined;
  const parameter = (['sslrootcert', 'sslcert', 'sslkey'] as const).find((name) => settings[name] === file);
  if (!parameter) return undefined;
  return new SupervisorError(ErrorCodes.CONFIG_INVALID, `Cannot read the ${parameter} file named in ${variable}, \`${file}\` (${code})`, {
    cause: error,
    hint: `Fix ${parameter} in ${variable}: it must name a file that the supervisor can read.`,
  });
}

/**
 * A connection error that TLS settings caused, as SUP_ERR_DB_TLS_FAILED with a hint for its cause (or
 * SUP_ERR_CONFIG_INVALID for an unreadable certificate file); undefined for any other error.
 */
export function tlsFailure(error: unknown, databaseUrl: string, variable = 'DATABASE_URL'): SupervisorError | undefined {
  const settings = tlsSettingsOf(databaseUrl);
  const unreadable = unreadableFile(error, settings, variable);
  if (unreadable) return unreadable;
  const problem = tlsProblemOf(error);
  if (!problem) return undefined;
  const { host } = describeTarget(databaseUrl);
  const message = (error as { message?: string }).message ?? String(error);
  const summary = problem === 'required' ? `Postgres at ${host} requires TLS` : `TLS with Postgres at ${host} failed`;
  return new SupervisorError(ErrorCodes.DB_TLS_FAILED, `${summary}: ${message}`, {
    cause: error,
    hint: hintFor(problem, error, settings, new URL(databaseUrl).hostname, variable),
  });
}
