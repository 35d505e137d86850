// A real PgBouncer (the system's `pgbouncer`) in front of the test server, for the tests of what a
// transaction pooler changes. It runs as a non-root user, as PgBouncer demands, from a throwaway folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { freePort } from '../../supervisor/core/free-port.js';
import { eventually } from './supervisor-process.js';
import { findSystemTool, type SystemTool } from './system-tool.js';

export type PoolMode = 'session' | 'transaction';

export interface PgBouncer {
  readonly port: number;
  /** The connection string for `database` through the pooler (same user and password as the test server). */
  url(database: string): string;
  stop(): Promise<void>;
}

const PGBOUNCER: SystemTool = {
  name: 'PgBouncer',
  command: 'pgbouncer',
  pathVariable: 'PGBOUNCER_PATH',
  usualFolders: ['/usr/sbin'], // Debian's place, off a non-root user's PATH
  install: '`apt-get install pgbouncer` (Debian, Ubuntu), `brew install pgbouncer` (macOS), or set PGBOUNCER_PATH to its binary',
};

/** The PgBouncer binary for `tests` (see findSystemTool): undefined, after one line saying so, where there is none. */
export function findPgBouncer(tests: string): string | undefined {
  return findSystemTool(PGBOUNCER, tests);
}

async function accepts(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(undefined));
  });
}

/** Starts `binary` (from findPgBouncer) in `poolMode` in front of the suite's server; every database name passes through. */
export async function startPgBouncer(binary: string, poolMode: PoolMode = 'transaction'): Promise<PgBouncer> {
  const server = new URL(inject('adminDatabaseUrl'));
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pgbouncer-'));
  // Run as `postgres` when we are root (PgBouncer refuses root): that user writes its log and pid here.
  await chmod(dir, 0o777);
  const port = await freePort();
  const password = decodeURIComponent(server.password);
  const target = [`host=${server.hostname}`, `port=${server.port || 5432}`, `user=${decodeURIComponent(server.username) || 'postgres'}`];
  if (password) target.push(`password=${password}`);
  const config = path.join(dir, 'pgbouncer.ini');
  await writeFile(
    config,
    [
      '[databases]',
      `* = ${target.join(' ')}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      // Any user name is accepted; the server is reached as the user above.
      'auth_type = any',
      `pool_mode = ${poolMode}`,
      'max_client_conn = 1000',
      'default_pool_size = 20',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asUser = process.getuid?.() === 0 ? ['-u', 'postgres'] : [];
  const child: ChildProcess = spawn(binary, [...asUser, config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = once(child, 'exit');

  const log = async (): Promise<string> =>
    `${output.join('')}${await readFile(path.join(dir, 'pgbouncer.log'), 'utf8').catch(() => '')}`.split('\n').slice(-15).join('\n');
  try {
    await eventually(() => {
      if (child.exitCode !== null) throw new Error(`PgBouncer exited with code ${child.exitCode}`);
      return accepts(port);
    }, 15_000, 'PgBouncer to accept connections');
  } catch (error) {
    child.kill('SIGKILL');
    const detail = await log();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`PgBouncer (${binary}) did not start: ${(error as Error).message}\n${detail}`, { cause: error });
  }

  return {
    port,
    url(database) {
      const url = new URL(server.toString());
      url.port = String(port);
      url.pathname = `/${database}`;
      return url.toString();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
