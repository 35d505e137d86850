// TLS with Postgres: the compiled supervisor against a real server that accepts only TLS, with certificates
// made for this run (tests/helpers/tls-server.ts); then the hint for each TLS failure, without a server.
import { once } from 'node:events';
import net from 'node:net';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../supervisor/core/config.js';
import { ErrorCodes } from '../../../supervisor/core/errors.js';
import { tlsFailure } from '../../../supervisor/database/tls.js';
import { permanentFailure, waitForDatabase } from '../../../supervisor/database/wait.js';
import { startServerWithoutTls, startTlsServer, type TlsServer } from '../../helpers/tls-server.js';
import { startSupervisor, type SupervisorProcess } from '../../helpers/supervisor-process.js';

const WAIT_BUDGET_MS = 30_000;

let server: TlsServer;
const running: SupervisorProcess[] = [];

beforeAll(async () => {
  server = await startTlsServer();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((sup) => sup.kill()));
});
afterAll(async () => {
  await server?.stop();
});

async function supervise(databaseUrl: string): Promise<SupervisorProcess> {
  const sup = await startSupervisor({ env: { DATABASE_URL: databaseUrl, DB_WAIT_TIMEOUT_MS: String(WAIT_BUDGET_MS) } });
  running.push(sup);
  return sup;
}

interface Failure {
  readonly code: number | null;
  readonly elapsedMs: number;
  readonly entry: Record<string, unknown>;
  readonly hint: string;
  readonly sup: SupervisorProcess;
}

// Starts the supervisor on `databaseUrl` and expects it to give up: exit 1 with one `failed` entry, at
// the first attempt, every line JSON and none with the password.
async function failedStart(databaseUrl: string): Promise<Failure> {
  const started = Date.now();
  const sup = await supervise(databaseUrl);
  const { code } = await sup.exited;
  const elapsedMs = Date.now() - started;
  const entry = sup.entries().find((line) => line.event === 'failed') ?? {};
  expect(code).toBe(1);
  expect(elapsedMs).toBeLessThan(WAIT_BUDGET_MS / 3);
  expect(sup.entries().filter((line) => line.event === 'database_unavailable')).toEqual([]); // no retries
  expect(sup.lines.filter((line) => !isJson(line))).toEqual([]);
  expect(sup.lines.filter((line) => line.includes(server.password))).toEqual([]);
  return { code, elapsedMs, entry, hint: String(entry.hint), sup };
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

describe('the supervisor with a Postgres that requires TLS', () => {
  it('gets ready with sslmode=verify-full and the CA in sslrootcert', async () => {
    const sup = await supervise(server.url({ sslmode: 'verify-full', sslrootcert: server.caFile }));
    await sup.waitForPhase('ready');
    expect(sup.entries().filter((line) => line.event === 'node_warning')).toEqual([]);
    expect(sup.lines.filter((line) => line.includes(server.password))).toEqual([]);
  });

  it('fails at once on a CA that did not sign the server certificate, naming the right fixes', async () => {
    const { entry, hint } = await failedStart(server.url({ sslmode: 'verify-full', sslrootcert: server.otherCaFile }));
    expect(entry).toMatchObject({ level: 50, code: ErrorCodes.DB_TLS_FAILED });
    expect(hint).toContain(`sslrootcert (${server.otherCaFile})`);
    expect(hint).toContain('sslmode=no-verify');
    expect(hint).not.toContain('sslmode=require');
  });

  it('fails at once on a host name that the certificate does not name, saying which it names', async () => {
    const { entry, hint } = await failedStart(server.url({ sslmode: 'verify-full', sslrootcert: server.caFile }, '127.0.0.1'));
    expect(entry).toMatchObject({ code: ErrorCodes.DB_TLS_FAILED });
    expect(String(entry.msg)).toContain("does not match certificate's altnames");
    expect(hint).toContain('names localhost, not 127.0.0.1');
  });

  it('explains that pg verifies with sslmode=require, and logs pg\'s warning as one JSON entry', async () => {
    const { entry, hint, sup } = await failedStart(server.url({ sslmode: 'require' }));
    expect(entry).toMatchObject({ code: ErrorCodes.DB_TLS_FAILED });
    expect(hint).toContain('sslrootcert=/path/to/ca.pem');
    expect(hint).toContain('sslmode=no-verify');
    expect(hint).not.toContain('sslmode=require');
    const warnings = sup.entries().filter((line) => line.event === 'node_warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, warning: { name: 'Warning' } });
    expect((warnings[0]?.warning as { message: string }).message).toContain("'prefer', 'require', and 'verify-ca' are treated as aliases for 'verify-full'");
  });

  it('says that the server requires TLS when a plain connection is refused (not a wrong password)', async () => {
    const { entry, hint } = await failedStart(server.url());
    expect(entry).toMatchObject({ code: ErrorCodes.DB_TLS_FAILED });
    expect(String(entry.msg)).toContain('no encryption');
    expect(hint).toContain('add `sslmode=verify-full` to DATABASE_URL');
  });

  it('says to turn TLS off for a server that offers none', async () => {
    const plain = await startServerWithoutTls();
    try {
      const { entry, hint } = await failedStart(`postgres://postgres:${server.password}@127.0.0.1:${plain.port}/app?sslmode=verify-full`);
      expect(entry).toMatchObject({ code: ErrorCodes.DB_TLS_FAILED });
      expect(hint).toContain('set `sslmode=disable`');
    } finally {
      await plain.stop();
    }
  });

  it('reports a missing sslrootcert file as a configuration error naming it, exit 78 before anything else', async () => {
    const missing = `${server.caFile}.missing`;
    const started = Date.now();
    const sup = await supervise(server.url({ sslmode: 'verify-full', sslrootcert: missing }));
    expect((await sup.exited).code).toBe(78);
    expect(Date.now() - started).toBeLessThan(10_000);
    const output = sup.lines.join('\n');
    expect(output).toContain(ErrorCodes.CONFIG_INVALID);
    expect(output).toContain(`Expected \`sslrootcert\` in \`DATABASE_URL\` to name a file that can be read, got \`${missing}\` (no such file)`);
    expect(output).not.toContain(server.password);
    expect(sup.entries()).toEqual([]); // before logging, the port, or the database
  });
});

describe('the TLS files named in a connection string', () => {
  const base = { APP_COMMAND: 'node server.js', DATABASE_URL: 'postgres://app:hunter22@db/app' };

  it('are checked in DATABASE_URL and DIRECT_URL, every problem listed, no password shown', () => {
    const directory = process.cwd();
    let message = '';
    try {
      loadConfig({
        ...base,
        DATABASE_URL: `${base.DATABASE_URL}?sslmode=verify-full&sslrootcert=/nowhere/ca.pem`,
        DIRECT_URL: `postgres://app:hunter22@db/app?sslcert=/nowhere/client.crt&sslkey=${encodeURIComponent(directory)}`,
      });
    } catch (error) {
      expect(error).toMatchObject({ code: ErrorCodes.CONFIG_INVALID });
      message = (error as Error).message;
    }
    expect(message).toContain('Expected `sslrootcert` in `DATABASE_URL` to name a file that can be read, got `/nowhere/ca.pem` (no such file)');
    expect(message).toContain('Expected `sslcert` in `DIRECT_URL` to name a file that can be read, got `/nowhere/client.crt` (no such file)');
    expect(message).toContain(`Expected \`sslkey\` in \`DIRECT_URL\` to name a file that can be read, got \`${directory}\` (not a file)`);
    expect(message).not.toContain('hunter22');
  });

  it('pass when they can be read', () => {
    expect(() => loadConfig({ ...base, DATABASE_URL: `${base.DATABASE_URL}?sslrootcert=${encodeURIComponent(server.caFile)}` })).not.toThrow();
  });
});

// Errors shaped as Node and pg raise them, for the hints without a server.
const tlsError = (code: string, message: string, extra: object = {}): Error => Object.assign(new Error(message), { code, ...extra });
const url = (query = ''): string => `postgres://app:pw@db.example.com:5432/app${query}`;

describe('the hint for each TLS failure', () => {
  it.each(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY'])(
    '%s: give the CA with sslrootcert, or no-verify; never sslmode=require',
    (code) => {
      for (const mode of ['require', 'prefer', 'verify-ca', 'verify-full']) {
        const failure = tlsFailure(tlsError(code, 'self-signed certificate'), url(`?sslmode=${mode}`));
        expect(failure?.code).toBe(ErrorCodes.DB_TLS_FAILED);
        expect(failure?.hint).toContain('`sslmode=verify-full&sslrootcert=/path/to/ca.pem`');
        expect(failure?.hint).toContain('`sslmode=no-verify`');
        expect(failure?.hint).not.toContain('sslmode=require');
        if (mode !== 'verify-full') expect(failure?.hint).toContain(`pg treats \`${mode}\` as verify-full`);
      }
    },
  );

  it('names the sslrootcert file when it holds the wrong CA', () => {
    const failure = tlsFailure(tlsError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), url('?sslrootcert=/etc/ca.pem'));
    expect(failure?.hint).toContain('not signed by the CA in sslrootcert (/etc/ca.pem)');
  });

  it('names the host names that a mismatched certificate is valid for', () => {
    const error = tlsError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", {
      cert: { subjectaltname: 'DNS:db.example.com, IP Address:10.0.0.5' },
    });
    const failure = tlsFailure(error, url('?sslmode=verify-full').replace('db.example.com', '10.0.0.9'));
    expect(failure?.hint).toContain('names db.example.com, 10.0.0.5, not 10.0.0.9');
    expect(failure?.hint).toContain('uselibpqcompat=true&sslmode=verify-ca');
  });

  it('says to renew an expired certificate', () => {
    expect(tlsFailure(tlsError('CERT_HAS_EXPIRED', 'certificate has expired'), url())?.hint).toContain('has expired: renew it');
    expect(tlsFailure(tlsError('CERT_NOT_YET_VALID', 'certificate is not yet valid'), url())?.hint).toContain('is not valid yet');
  });

  it('says to turn TLS off for a server without it: sslmode=disable when a certificate file alone turns TLS on', () => {
    const refused = new Error('The server does not support SSL connections');
    expect(tlsFailure(refused, url('?sslmode=require'))?.hint).toContain('remove `sslmode=require` from DATABASE_URL or set `sslmode=disable`');
    const withCa = tlsFailure(refused, url('?sslrootcert=/etc/ca.pem'))?.hint;
    expect(withCa).toContain('set `sslmode=disable`');
    expect(withCa).not.toContain('remove');
  });

  it('tells a refused plain connection (no encryption) from a refused user', () => {
    const plain = tlsError('28000', 'no pg_hba.conf entry for host "10.0.0.9", user "app", database "app", no encryption');
    expect(permanentFailure(plain, url())).toMatchObject({ code: ErrorCodes.DB_TLS_FAILED });
    expect(permanentFailure(plain, url('?sslmode=disable'))?.hint).toContain('replace `sslmode=disable` in DATABASE_URL with `sslmode=verify-full`');
    const encrypted = tlsError('28000', 'no pg_hba.conf entry for host "10.0.0.9", user "app", database "app", SSL encryption');
    expect(permanentFailure(encrypted, url('?sslmode=no-verify'))).toMatchObject({ code: ErrorCodes.DB_AUTH_FAILED });
  });

  it('asks for a client certificate when the server wants one', () => {
    const failure = tlsFailure(tlsError('28000', 'connection requires a valid client certificate'), url('?sslmode=verify-full'));
    expect(failure).toMatchObject({ code: ErrorCodes.DB_TLS_FAILED });
    expect(failure?.hint).toContain('sslcert=/path/to/client.crt&sslkey=/path/to/client.key');
  });

  it('names the setting that holds the connection string, and never suggests the mode that failed', () => {
    const failure = permanentFailure(tlsError('ERR_SSL_WRONG_VERSION_NUMBER', 'SSL routines::wrong version number'), url('?sslmode=no-verify'), 'DIRECT_URL');
    expect(failure?.hint).toContain('Check the TLS settings in DIRECT_URL');
    expect(failure?.hint).not.toContain('sslmode=no-verify');
  });

  it('reports a certificate file that cannot be read as a configuration error naming it', () => {
    const gone = Object.assign(new Error("ENOENT: no such file or directory, open '/etc/ca.pem'"), { code: 'ENOENT', syscall: 'open', path: '/etc/ca.pem' });
    const failure = tlsFailure(gone, url('?sslrootcert=/etc/ca.pem'));
    expect(failure).toMatchObject({ code: ErrorCodes.CONFIG_INVALID });
    expect(failure?.message).toContain('sslrootcert file named in DATABASE_URL, `/etc/ca.pem`');
  });

  it('leaves other errors alone', () => {
    expect(tlsFailure(tlsError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.9:5432'), url('?sslmode=verify-full'))).toBeUndefined();
    expect(tlsFailure(tlsError('28P01', 'password authentication failed for user "app"'), url())).toBeUndefined();
  });
});

describe('a TLS handshake the network drops', () => {
  it('is retried as any dropped connection, not taken for a TLS setting to fix', async () => {
    // Says yes to TLS, then drops the connection in the middle of the handshake.
    const dropper = net.createServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => socket.write('S', () => setTimeout(() => socket.destroy(), 10)));
    });
    dropper.listen(0, '127.0.0.1');
    await once(dropper, 'listening');
    const { port } = dropper.address() as net.AddressInfo;
    const databaseUrl = `postgres://app:pw@127.0.0.1:${port}/app?sslmode=no-verify`;
    const attempts: string[] = [];
    try {
      const error = await waitForDatabase({
        databaseUrl,
        timeoutMs: 1_500,
        connectTimeoutMs: 1_000,
        minDelayMs: 50,
        maxDelayMs: 100,
        logger: pino({ level: 'silent' }),
        onAttemptFailed: (_attempt, reason) => attempts.push(reason),
      }).catch((failure: unknown) => failure);
      expect(error).toMatchObject({ code: ErrorCodes.DB_UNAVAILABLE });
      expect(attempts.length).toBeGreaterThan(1);
      expect(attempts[0]).toBe('ECONNRESET');
    } finally {
      dropper.close();
    }
  });
});

