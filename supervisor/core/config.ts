// The only module that reads process.env: validates everything up front and returns one frozen object.
// A flag (`--port 8080`) wins over its variable (`PORT`); the defaults live in settings.ts.
import { accessSync, constants, statSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { findProjectMigrations } from './project-tools.js';
import { levels, type LevelWithSilent } from 'pino';
import { ErrorCodes, SupervisorError } from './errors.js';
import { defaultOf } from './settings.js';

export type LogFormat = 'json' | 'pretty' | 'auto';
export type MigrationLintMode = 'warn' | 'error' | 'off';
export type LogLevel = LevelWithSilent;
/** One subnet of TRUST_PROXY, as `net.BlockList#addSubnet` takes it. */
export interface Subnet {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}
export type TrustProxy = boolean | readonly Subnet[];
// pino's own levels, most severe first, and `silent` (its named export: the types of pino before 10.4 have no `pino.levels`).
const LOG_LEVELS: readonly LogLevel[] = [
  ...(Object.entries(levels.values)
    .sort(([, a], [, b]) => b - a)
    .map(([name]) => name) as LogLevel[]),
  'silent',
];

/** The supervisor's settings, every default applied. Durations are milliseconds. */
export interface Config {
  readonly isProduction: boolean;
  readonly port: number;
  readonly host: string;
  readonly databaseUrl: string;
  /** A direct connection for the supervisor's own work when DATABASE_URL goes through a transaction pooler. */
  readonly directUrl: string | undefined;
  readonly migrationsDir: string;
  readonly requiredTables: readonly string[];
  readonly appCommand: string;
  readonly appHealthPath: string;
  readonly migrateOnStart: boolean;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /** Shown as `releaseId` in /health; Render sets RENDER_GIT_COMMIT. */
  readonly releaseId: string | undefined;
  readonly dbWaitTimeoutMs: number;
  readonly dbConnectTimeoutMs: number;
  readonly migrationLockWaitTimeoutMs: number;
  readonly migrationLockTimeoutMs: number;
  readonly migrationStatementTimeoutMs: number;
  /** The lint of pending migrations at start: log risks, stop on an unaccepted one, or skip it. */
  readonly migrationLint: MigrationLintMode;
  /** While ready, time between two checks of the database; 0 disables them. */
  readonly dbCheckIntervalMs: number;
  readonly appStartTimeoutMs: number;
  readonly appStopTimeoutMs: number;
  readonly appRestartLimit: number;
  readonly appRestartWindowMs: number;
  readonly appRestartBackoffMs: number;
  readonly drainTimeoutMs: number;
  /** Time a client has to send a request's headers (also bounds a new connection that sends nothing). */
  readonly httpHeadersTimeoutMs: number;
  /** Time a client has to send a whole request, body included; 0 disables. */
  readonly httpRequestTimeoutMs: number;
  /** WebSocket tunnels open (or opening) at once; upgrades beyond it get 503. */
  readonly httpMaxWebSockets: number;
  /** Client connections open at once; undefined: derived from the descriptor limit (see connection-budget.ts). */
  readonly httpMaxConnections: number | undefined;
  /** Time a client may leave a response unread (no byte taken) before its connection is closed; 0 disables. */
  readonly httpSendTimeoutMs: number;
  /** Time a WebSocket may carry no byte either way before it is closed; 0 disables. */
  readonly httpWebSocketIdleTimeoutMs: number;
  /** Time from a request being sent to the app until its response headers arrive; past it, 504. 0 disables. */
  readonly appResponseTimeoutMs: number;
  /** How long a request may wait for the app's return while it restarts; 0: none is held. */
  readonly appHoldTimeoutMs: number;
  /** How many requests may wait at once for the app's return. */
  readonly appHoldMaxRequests: number;
  /** Whose forwarding headers (X-Forwarded-For and the like) are kept: every client's, none, or those of the subnets listed. */
  readonly trustProxy: TrustProxy;
  /** While ready: time between two polls of the app's health path. */
  readonly appHealthIntervalMs: number;
  /** Failed polls in a row before the app is out of rotation (`/health` 503). */
  readonly appHealthFailureThreshold: number;
  /** Failed polls in a row before the app is restarted; 0: never. */
  readonly appHealthRestartThreshold: number;
  /** Bearer token required on `/metrics`; set, it exposes `/metrics` (on the public port unless `metricsPort`). A secret. */
  readonly metricsToken: string | undefined;
  /** A separate port for `/metrics` on `metricsHost`; off the public port. */
  readonly metricsPort: number | undefined;
  readonly metricsHost: string;
}

/** Where the embedded development database keeps its cluster and listens. */
export interface EmbeddedDatabaseConfig {
  /** Absolute path. @default `.data/postgres` in the working directory */
  readonly dataDir: string;
  /** @default undefined: a free port on 127.0.0.1, chosen at each start */
  readonly port: number | undefined;
}

/**
 * What loadConfig returns. Without DATABASE_URL outside production, `embeddedDatabase` says where to run
 * a development database, and main.ts fills in `databaseUrl` before anything else reads it.
 */
export type LoadedConfig = Omit<Config, 'databaseUrl'> &
  (
    | { readonly databaseUrl: string; readonly embeddedDatabase: undefined }
    | { readonly databaseUrl: undefined; readonly embeddedDatabase: EmbeddedDatabaseConfig }
  );

// `table` or `schema.table`, each part a plain identifier or a double-quoted one (`"Messages"`).
const IDENTIFIER = String.raw`(?:[A-Za-z_][A-Za-z0-9_$]*|"(?:[^"]|"")+")`;
const TABLE_NAME = new RegExp(String.raw`^${IDENTIFIER}(?:\.${IDENTIFIER})?$`);

/** Values by variable name: the environment, or the flags given on the command line. */
export type Env = Readonly<Record<string, string | undefined>>;

// Collects every problem so that one run of the start command shows them all. A value missing from both
// the flags and the environment is the setting's default from settings.ts.
class EnvReader {
  readonly problems: string[] = [];
  constructor(
    private readonly env: Env,
    private readonly flags: Env = {},
  ) {}

  raw(name: string): string | undefined {
    const value = (this.flags[name] ?? this.env[name])?.trim();
    return value === '' ? undefined : value;
  }

  /** The given value, else the default. */
  private valueOf(name: string): string | undefined {
    return this.raw(name) ?? defaultOf(name);
  }

  string(name: string): string {
    return this.valueOf(name) ?? '';
  }

  integer(name: string, { min = 1, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const value = this.valueOf(name);
    if (value === undefined) return 0;
    const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      const expected = min === 0 ? 'a non-negative integer' : 'a positive integer';
      const range = max === Number.MAX_SAFE_INTEGER ? '' : ` no greater than ${max}`;
      this.problems.push(`Expected \`${name}\` to be ${expected}${range}, got \`${value}\``);
      return 0;
    }
    return parsed;
  }

  boolean(name: string): boolean {
    const value = this.valueOf(name)?.toLowerCase() ?? 'false';
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    this.problems.push(`Expected \`${name}\` to be \`true\` or \`false\`, got \`${this.raw(name)}\``);
    return false;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.valueOf(name) ?? '';
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`Expected \`${name}\` to be one of ${allowed.map((a) => `\`${a}\``).join(', ')}, got \`${value}\``);
    return defaultOf(name) as T;
  }

  /** A setting without a default that is an integer when given. */
  optionalInteger(name: string, limits: { min?: number; max?: number }): number | undefined {
    return this.raw(name) === undefined ? undefined : this.integer(name, limits);
  }
}

function readDatabaseUrl(reader: EnvReader, isProduction: boolean): string {
  const value = reader.raw('DATABASE_URL');
  if (value === undefined) {
    const where = isProduction
      ? 'On Render, link the database in render.yaml (`fromDatabase` with `property: connectionString`).'
      : 'Set it to your Postgres server, e.g. `postgres://user:password@localhost:5432/mydb`.';
    reader.problems.push(`Expected \`DATABASE_URL\` to be set to a Postgres connection string. ${where}`);
    return '';
  }
  checkConnectionString(reader, 'DATABASE_URL', value);
  return value;
}

function checkConnectionString(reader: EnvReader, name: string, value: string): void {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || !['postgres:', 'postgresql:'].includes(url.protocol) || url.hostname === '') {
    // The value itself is never echoed: it may hold a password.
    reader.problems.push(
      `Expected \`${name}\` to be a connection string like \`postgres://user:password@host:5432/database\`, ` +
        'got a value that is not one (not shown: it may hold a password)',
    );
  }
  if (url) checkTlsFiles(reader, name, url);
}

// pg reads sslrootcert, sslcert and sslkey (relative to the working directory) when it parses the
// connection string: a file it cannot read is a setting to fix, named with its path (not a secret).
function checkTlsFiles(reader: EnvReader, name: string, url: URL): void {
  for (const parameter of ['sslrootcert', 'sslcert', 'sslkey']) {
    const file = url.searchParams.get(parameter);
    if (!file) continue;
    let why: string | undefined;
    try {
      accessSync(file, constants.R_OK);
      if (!statSync(file).isFile()) why = 'not a file';
    } catch (error) {
      const { code } = error as NodeJS.ErrnoException;
      why = code === 'ENOENT' ? 'no such file' : code;
    }
    if (why) reader.problems.push(`Expected \`${parameter}\` in \`${name}\` to name a file that can be read, got \`${file}\` (${why})`);
  }
}

// The supervisor's own connection past a transaction pooler (Prisma's and Supabase's name for it).
function readDirectUrl(reader: EnvReader): string | undefined {
  const value = reader.raw('DIRECT_URL');
  if (value === undefined) return undefined;
  checkConnectionString(reader, 'DIRECT_URL', value);
  if (reader.raw('DATABASE_URL') === undefined) {
    reader.problems.push('Expected `DATABASE_URL` to be set with `DIRECT_URL`: the app connects with the first, the supervisor with the second');
  }
  return value;
}

/** The connection string of the supervisor's own work (wait, lock, migrations, checks): DIRECT_URL, else DATABASE_URL. */
export function ownDatabaseUrl(config: Pick<Config, 'databaseUrl' | 'directUrl'>): string {
  return config.directUrl ?? config.databaseUrl;
}

function readEmbeddedDatabase(reader: EnvReader, cwd: string): EmbeddedDatabaseConfig {
  return {
    dataDir: path.resolve(cwd, reader.string('EMBEDDED_DB_DIR')),
    port: reader.optionalInteger('EMBEDDED_DB_PORT', { min: 1, max: 65535 }),
  };
}

function readRequiredTables(reader: EnvReader): string[] {
  const tables = reader
    .string('REQUIRED_TABLES')
    .split(',')
    .map((table) => table.trim())
    .filter((table) => table !== '');
  for (const table of tables) {
    if (!TABLE_NAME.test(table)) {
      reader.problems.push(`Expected \`REQUIRED_TABLES\` entries to be \`table\` or \`schema.table\`, got \`${table}\``);
    }
  }
  return tables;
}

// The settings the supervisor and the migrate CLI share, so that both read them alike.
function readMigrationSettings(reader: EnvReader, cwd: string): Omit<MigrateConfig, 'databaseUrl'> {
  return {
    directUrl: readDirectUrl(reader),
    migrationsDir: readMigrationsDir(reader, cwd),
    requiredTables: readRequiredTables(reader),
    logLevel: reader.oneOf('LOG_LEVEL', LOG_LEVELS),
    dbConnectTimeoutMs: reader.integer('DB_CONNECT_TIMEOUT_MS'),
    migrationLockWaitTimeoutMs: reader.integer('MIGRATION_LOCK_WAIT_TIMEOUT_MS'),
    migrationLockTimeoutMs: reader.integer('MIGRATION_LOCK_TIMEOUT_MS', { min: 0 }),
    migrationStatementTimeoutMs: reader.integer('MIGRATION_STATEMENT_TIMEOUT_MS', { min: 0 }),
  };
}

// MIGRATIONS_DIR, else the folder the project's own migration tool names (see project-tools.ts), else `migrations`.
function readMigrationsDir(reader: EnvReader, cwd: string): string {
  const found = findProjectMigrations(cwd, reader.raw('NODE_ENV') ?? 'development');
  return path.resolve(cwd, reader.raw('MIGRATIONS_DIR') ?? found?.dir ?? reader.string('MIGRATIONS_DIR'));
}

function throwIfInvalid(reader: EnvReader): void {
  if (reader.problems.length > 0) {
    throw new SupervisorError(
      ErrorCodes.CONFIG_INVALID,
      `Invalid configuration:\n${reader.problems.map((problem) => `  - ${problem}`).join('\n')}`,
      { hint: 'Fix the settings listed above (variables or flags); `--help` lists each with its default.' },
    );
  }
}

/** What a client may hold at the public port: slow headers, endless bodies, unread responses, WebSockets. */
export type HttpLimits = Pick<
  Config,
  'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpMaxConnections' | 'httpMaxWebSockets' | 'httpSendTimeoutMs' | 'httpWebSocketIdleTimeoutMs'
>;

// Limits on what a client may hold at the public port (slow headers, endless bodies, WebSocket floods).
function readHttpLimits(reader: EnvReader): HttpLimits {
  // Above a platform load balancer's 60 s idle time: it may open a connection well before its first request.
  const httpHeadersTimeoutMs = reader.integer('HTTP_HEADERS_TIMEOUT_MS');
  // Node's default: ample for a large upload, yet a body that never ends is cut.
  const httpRequestTimeoutMs = reader.integer('HTTP_REQUEST_TIMEOUT_MS', { min: 0 });
  if (httpRequestTimeoutMs !== 0 && httpHeadersTimeoutMs > httpRequestTimeoutMs) {
    reader.problems.push(
      `Expected \`HTTP_HEADERS_TIMEOUT_MS\` (${httpHeadersTimeoutMs}) to be no greater than \`HTTP_REQUEST_TIMEOUT_MS\` (${httpRequestTimeoutMs})`,
    );
  }
  return {
    httpHeadersTimeoutMs,
    httpRequestTimeoutMs,
    httpMaxConnections: reader.optionalInteger('HTTP_MAX_CONNECTIONS', { min: 1 }),
    httpMaxWebSockets: reader.integer('HTTP_MAX_WEBSOCKETS'),
    httpSendTimeoutMs: reader.integer('HTTP_SEND_TIMEOUT_MS', { min: 0 }),
    httpWebSocketIdleTimeoutMs: reader.integer('HTTP_WEBSOCKET_IDLE_TIMEOUT_MS', { min: 0 }),
  };
}

// Polling the app while it runs: out of rotation after `failureThreshold` failures, restarted after `restartThreshold`.
function readAppHealth(reader: EnvReader): Pick<Config, 'appHealthIntervalMs' | 'appHealthFailureThreshold' | 'appHealthRestartThreshold'> {
  const appHealthFailureThreshold = reader.integer('APP_HEALTH_FAILURE_THRESHOLD');
  const appHealthRestartThreshold = reader.integer('APP_HEALTH_RESTART_THRESHOLD', { min: 0 });
  if (appHealthRestartThreshold !== 0 && appHealthRestartThreshold < appHealthFailureThreshold) {
    reader.problems.push(
      `Expected \`APP_HEALTH_RESTART_THRESHOLD\` (${appHealthRestartThreshold}) to be 0 or no less than \`APP_HEALTH_FAILURE_THRESHOLD\` (${appHealthFailureThreshold})`,
    );
  }
  return { appHealthIntervalMs: reader.integer('APP_HEALTH_INTERVAL_MS'), appHealthFailureThreshold, appHealthRestartThreshold };
}

// Metrics stay off unless a token or a private port is set, so a public URL exposes nothing by default.
function readMetrics(reader: EnvReader, publicPort: number): Pick<Config, 'metricsToken' | 'metricsPort' | 'metricsHost'> {
  const metricsToken = reader.raw('METRICS_TOKEN');
  // The value is never echoed: it is a secret. Header-safe characters only, long enough not to be guessed.
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,}$/.test(metricsToken)) {
    reader.problems.push(
      'Expected `METRICS_TOKEN` to be at least 16 printable ASCII characters without spaces (not shown: it is a secret)',
    );
  }
  const metricsPort = reader.optionalInteger('METRICS_PORT', { min: 1, max: 65535 });
  if (metricsPort !== undefined && metricsPort === publicPort) {
    reader.problems.push(`Expected \`METRICS_PORT\` to differ from \`PORT\` (${publicPort})`);
  }
  return { metricsToken, metricsPort, metricsHost: reader.string('METRICS_HOST') };
}

// The names Express's `trust proxy` takes for ranges of addresses.
const NAMED_SUBNETS: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

function subnetOf(entry: string): Subnet | undefined {
  const [address = '', prefixText, extra] = entry.split('/');
  const version = net.isIP(address);
  if (version === 0 || extra !== undefined) return undefined;
  const bits = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d+$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

// TRUST_PROXY: true, false, or the proxies' addresses and subnets. Unset, it is true on Render (which sets
// RENDER, and whose proxy sets the forwarding headers) and false elsewhere, where a client may reach the port
// directly and would choose them.
function readTrustProxy(reader: EnvReader): TrustProxy {
  const value = reader.raw('TRUST_PROXY');
  if (value === undefined) return reader.raw('RENDER') !== undefined;
  if (/^(true|false|1|0|yes|no)$/i.test(value)) return reader.boolean('TRUST_PROXY');
  const subnets: Subnet[] = [];
  for (const entry of value.split(',').map((part) => part.trim()).filter(Boolean)) {
    const named = NAMED_SUBNETS[entry.toLowerCase()];
    const parsed = (named ?? [entry]).map(subnetOf);
    if (parsed.every((subnet) => subnet !== undefined)) subnets.push(...parsed);
    else reader.problems.push(`Expected \`TRUST_PROXY\` to be \`true\`, \`false\` or a list of addresses and subnets (\`10.0.0.0/8\`, \`loopback\`), got \`${entry}\``);
  }
  return Object.freeze(subnets);
}

function readAppCommand(reader: EnvReader): string {
  const command = reader.string('APP_COMMAND');
  if (command === '') {
    reader.problems.push("Expected the app's command after `--` (e.g. `health-gate -- node server.js`) or in `APP_COMMAND`");
  }
  return command;
}

/**
 * Reads and validates the settings, `flags` (by variable name) over `env`; throws SUP_ERR_CONFIG_INVALID
 * listing every problem.
 */
export function loadConfig(env: Env = process.env, cwd: string = process.cwd(), flags: Env = {}): LoadedConfig {
  const reader = new EnvReader(env, flags);
  const isProduction = reader.raw('NODE_ENV') === 'production';
  // Only development may go without DATABASE_URL: then an embedded database is started (never in production).
  const embeddedDatabase = readEmbeddedDatabase(reader, cwd);
  const database =
    isProduction || reader.raw('DATABASE_URL') !== undefined
      ? { databaseUrl: readDatabaseUrl(reader, isProduction), embeddedDatabase: undefined }
      : { databaseUrl: undefined, embeddedDatabase };
  const appHealthPath = reader.string('APP_HEALTH_PATH');
  if (!appHealthPath.startsWith('/')) {
    reader.problems.push(`Expected \`APP_HEALTH_PATH\` to start with \`/\`, got \`${appHealthPath}\``);
  }

  const port = reader.integer('PORT', { min: 1, max: 65535 });
  const config: LoadedConfig = {
    isProduction,
    port,
    host: reader.string('HOST'),
    ...database,
    ...readMigrationSettings(reader, cwd),
    appCommand: readAppCommand(reader),
    appHealthPath,
    migrateOnStart: reader.boolean('MIGRATE_ON_START'),
    migrationLint: reader.oneOf<MigrationLintMode>('MIGRATION_LINT', ['warn', 'error', 'off']),
    dbCheckIntervalMs: reader.integer('DB_CHECK_INTERVAL_MS', { min: 0 }),
    logFormat: reader.oneOf<LogFormat>('LOG_FORMAT', ['json', 'pretty', 'auto']),
    releaseId: reader.raw('RENDER_GIT_COMMIT'),
    dbWaitTimeoutMs: reader.integer('DB_WAIT_TIMEOUT_MS'),
    appStartTimeoutMs: reader.integer('APP_START_TIMEOUT_MS'),
    appStopTimeoutMs: reader.integer('APP_STOP_TIMEOUT_MS'),
    appRestartLimit: reader.integer('APP_RESTART_LIMIT'),
    appRestartWindowMs: reader.integer('APP_RESTART_WINDOW_MS'),
    appRestartBackoffMs: reader.integer('APP_RESTART_BACKOFF_MS'),
    drainTimeoutMs: reader.integer('DRAIN_TIMEOUT_MS'),
    appResponseTimeoutMs: reader.integer('APP_RESPONSE_TIMEOUT_MS', { min: 0 }),
    appHoldTimeoutMs: reader.integer('APP_HOLD_TIMEOUT_MS', { min: 0 }),
    appHoldMaxRequests: reader.integer('APP_HOLD_MAX_REQUESTS', { min: 0 }),
    trustProxy: readTrustProxy(reader),
    ...readAppHealth(reader),
    ...readHttpLimits(reader),
    ...readMetrics(reader, port),
  };

  throwIfInvalid(reader);
  return Object.freeze({ ...config, requiredTables: Object.freeze(config.requiredTables) });
}

/** PORT alone (`health-gate reload`), from `flags` over this process's environment. */
export function loadPortWithFlags(flags: Env): number {
  const reader = new EnvReader(process.env, flags);
  const port = reader.integer('PORT', { min: 1, max: 65535 });
  throwIfInvalid(reader);
  return port;
}

/** The start command's settings: this process's environment and working directory, `flags` over them. */
export function loadConfigWithFlags(flags: Env): LoadedConfig {
  return loadConfig(process.env, process.cwd(), flags);
}

/** The migrate CLI's settings: it binds no port and runs no app, so their variables are not checked. */
export type MigrateConfig = Pick<
  Config,
  | 'databaseUrl'
  | 'directUrl'
  | 'migrationsDir'
  | 'requiredTables'
  | 'logLevel'
  | 'dbConnectTimeoutMs'
  | 'migrationLockWaitTimeoutMs'
  | 'migrationLockTimeoutMs'
  | 'migrationStatementTimeoutMs'
>;

/** Like loadConfig, for the migrate CLI; DATABASE_URL is always required (it starts no database of its own). */
export function loadMigrateConfig(env: Env = process.env, cwd: string = process.cwd(), flags: Env = {}): MigrateConfig {
  const reader = new EnvReader(env, flags);
  const config = {
    databaseUrl: readDatabaseUrl(reader, reader.raw('NODE_ENV') === 'production'),
    ...readMigrationSettings(reader, cwd),
  };
  throwIfInvalid(reader);
  return Object.freeze({ ...config, requiredTables: Object.freeze(config.requiredTables) });
}

/** MIGRATIONS_DIR alone, for `migrate create`, which needs no database. */
export function loadMigrationsDir(env: Env = process.env, cwd: string = process.cwd(), flags: Env = {}): string {
  return readMigrationsDir(new EnvReader(env, flags), cwd);
}

/** The migrate CLI's settings from this process's environment and working directory, `flags` over them. */
export function loadMigrateConfigWithFlags(flags: Env): MigrateConfig {
  return loadMigrateConfig(process.env, process.cwd(), flags);
}

/** MIGRATIONS_DIR from this process's environment and working directory, `flags` over them. */
export function loadMigrationsDirWithFlags(flags: Env): string {
  return loadMigrationsDir(process.env, process.cwd(), flags);
}
