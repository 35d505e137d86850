// Every setting of the supervisor, once: its variable, its flag (derived from the variable), its default
// and what it means. config.ts reads the values with these defaults; `--help` prints this table.

export interface Setting {
  /** The environment variable; the flag is its kebab-case form (`APP_HEALTH_PATH` → `--app-health-path`). */
  readonly env: string;
  /** Read exactly as a value from the environment would be; undefined when the setting has none. */
  readonly default?: string;
  /** What `--help` shows as the default when there is no plain value. */
  readonly defaultText?: string;
  readonly help: string;
}

export interface SettingGroup {
  readonly title: string;
  readonly settings: readonly Setting[];
}

export const SETTING_GROUPS: readonly SettingGroup[] = [
  {
    title: 'The app',
    settings: [
      { env: 'APP_COMMAND', defaultText: 'the command after --', help: "the app's command line; it must listen on $PORT (and $HOST)" },
      { env: 'APP_HEALTH_PATH', default: '/health', help: "path on the app polled until it answers 200, and every APP_HEALTH_INTERVAL_MS while it runs (any path that answers 200 when the app is up)" },
      { env: 'APP_HEALTH_INTERVAL_MS', default: '5000', help: 'while ready, time between two polls of APP_HEALTH_PATH (each may take 2 s at most)' },
      { env: 'APP_HEALTH_FAILURE_THRESHOLD', default: '3', help: 'polls in a row that fail before /health turns 503 and traffic stops going to the app' },
      { env: 'APP_HEALTH_RESTART_THRESHOLD', default: '6', help: 'polls in a row that fail before the app is restarted (SIGTERM, then SIGKILL), counted like an exit; 0: never' },
      { env: 'APP_RESPONSE_TIMEOUT_MS', default: '60000', help: "time from the last bytes of a request sent to the app until its response headers arrive, then 504; 0 disables" },
      { env: 'APP_HOLD_TIMEOUT_MS', default: '10000', help: "once the app was ready, how long a request may wait for it while it restarts or reloads, then 503; 0: none waits" },
      { env: 'APP_HOLD_MAX_REQUESTS', default: '1000', help: 'requests (and WebSocket upgrades) that may wait for the app at once; one more gets 503' },
      { env: 'APP_START_TIMEOUT_MS', default: '60000', help: 'time the app has to answer its health path after it is spawned' },
      { env: 'APP_STOP_TIMEOUT_MS', default: '10000', help: 'time between SIGTERM and SIGKILL when the app is stopped' },
      { env: 'APP_RESTART_LIMIT', default: '5', help: 'unexpected exits allowed within APP_RESTART_WINDOW_MS; one more fails the supervisor' },
      { env: 'APP_RESTART_WINDOW_MS', default: '300000', help: 'the window of APP_RESTART_LIMIT' },
      { env: 'APP_RESTART_BACKOFF_MS', default: '500', help: 'delay before the first restart; doubles with each recent exit, at most 30 s' },
    ],
  },
  {
    title: 'Database and migrations',
    settings: [
      { env: 'DATABASE_URL', defaultText: 'none', help: "the app's Postgres connection string; required with NODE_ENV=production, otherwise an embedded development database is started" },
      { env: 'DIRECT_URL', defaultText: 'DATABASE_URL', help: "a direct connection string for the supervisor's own work (wait, lock, migrations, checks) when DATABASE_URL goes through a transaction pooler; the app still gets DATABASE_URL" },
      { env: 'MIGRATIONS_DIR', default: 'migrations', help: "folder of migrations (SQL files, JS/TS modules, or the migrations of sequelize-cli, Prisma, knex, drizzle-kit or node-pg-migrate), relative to the working directory; unset, the folder the project's tool names (.sequelizerc, prisma/schema.prisma, knexfile, drizzle.config, node-pg-migrate's -m)" },
      { env: 'REQUIRED_TABLES', defaultText: 'none', help: 'comma-separated tables (or schema.table) that must exist before ready' },
      { env: 'MIGRATE_ON_START', default: 'true', help: 'false: only verify that nothing is pending (migrations run in a pre-deploy step)' },
      { env: 'DB_WAIT_TIMEOUT_MS', default: '300000', help: 'how long to wait for the database to accept connections' },
      { env: 'DB_CONNECT_TIMEOUT_MS', default: '5000', help: "one connection attempt's limit, and its SELECT 1's (each database check too)" },
      { env: 'MIGRATION_LOCK_WAIT_TIMEOUT_MS', default: '300000', help: 'how long to wait while another instance migrates' },
      { env: 'MIGRATION_LOCK_TIMEOUT_MS', default: '10000', help: "lock_timeout for each migration's statements; 0 disables" },
      { env: 'MIGRATION_STATEMENT_TIMEOUT_MS', default: '600000', help: "statement_timeout for each migration's statements; 0 disables" },
      { env: 'MIGRATION_LINT', default: 'warn', help: 'the lint of pending SQL migrations at start: warn (log each risk), error (a risk nobody accepted stops the start) or off' },
      { env: 'DB_CHECK_INTERVAL_MS', default: '10000', help: 'while ready, time between two checks that the database answers (shown in /health, never taking readiness away); 0 disables' },
      { env: 'EMBEDDED_DB_DIR', default: '.data/postgres', help: 'data folder of the embedded development database' },
      { env: 'EMBEDDED_DB_PORT', defaultText: 'a free port', help: 'port of the embedded development database, on 127.0.0.1' },
    ],
  },
  {
    title: 'The public port',
    settings: [
      { env: 'PORT', default: '10000', help: 'public port' },
      { env: 'HOST', default: '0.0.0.0', help: 'public bind address' },
      { env: 'DRAIN_TIMEOUT_MS', default: '15000', help: 'on SIGTERM, how long requests under way may take before they are cut' },
      { env: 'HTTP_HEADERS_TIMEOUT_MS', default: '66000', help: "time a client has to send a request's headers" },
      { env: 'HTTP_REQUEST_TIMEOUT_MS', default: '300000', help: 'time a client has to send a whole request; 0 disables' },
      { env: 'HTTP_MAX_CONNECTIONS', defaultText: '(descriptor limit - 64) / 2', help: 'client connections open at once (each may hold one to the app too); at the limit a new one closes the oldest idle one, and is refused only when none is idle' },
      { env: 'HTTP_MAX_WEBSOCKETS', default: '10000', help: 'WebSocket connections open at once; more get 503' },
      { env: 'HTTP_SEND_TIMEOUT_MS', default: '60000', help: "time a client may leave a response (or a WebSocket's messages) unread, no byte taken, before its connection is closed (nginx's send_timeout); 0 disables" },
      { env: 'HTTP_WEBSOCKET_IDLE_TIMEOUT_MS', default: '60000', help: "time a WebSocket may carry no byte either way before it is closed (nginx's proxy_read_timeout); an app that keeps quiet WebSockets open pings within it (socket.io does every 25 s); 0 disables" },
      { env: 'TRUST_PROXY', defaultText: 'true on Render (RENDER is set), else false', help: "whose forwarding headers (X-Forwarded-For, -Proto, -Host, Forwarded, X-Real-IP…) reach the app: true (a proxy in front sets them), false (removed and set from the connection), or the proxies' addresses and subnets (10.0.0.0/8, loopback, uniquelocal)" },
    ],
  },
  {
    title: 'Operations',
    settings: [
      { env: 'NODE_ENV', defaultText: 'none', help: 'production: JSON logs (unless LOG_FORMAT=pretty), DATABASE_URL required' },
      { env: 'LOG_LEVEL', default: 'info', help: 'fatal, error, warn, info, debug, trace or silent' },
      { env: 'LOG_FORMAT', default: 'auto', help: 'json, pretty, or auto (pretty in a terminal outside production)' },
      { env: 'METRICS_TOKEN', defaultText: 'none', help: 'bearer token that enables /metrics on the public port, and shows the detail of /health and the status page (at least 16 characters)' },
      { env: 'METRICS_PORT', defaultText: 'none', help: 'serves /metrics on a port of its own instead, on METRICS_HOST' },
      { env: 'METRICS_HOST', default: '127.0.0.1', help: 'bind address of METRICS_PORT' },
      { env: 'RENDER_GIT_COMMIT', defaultText: "set by Render", help: 'shown as releaseId in /health to requests with the metrics token' },
    ],
  },
];

export const SETTINGS: readonly Setting[] = SETTING_GROUPS.flatMap((group) => group.settings);

/** `APP_HEALTH_PATH` → `app-health-path` (the flag's name without its dashes). */
export function flagName(env: string): string {
  return env.toLowerCase().replaceAll('_', '-');
}

const DEFAULTS: ReadonlyMap<string, string | undefined> = new Map(SETTINGS.map((setting) => [setting.env, setting.default]));

/** The default of a setting, as a value from the environment would read. */
export function defaultOf(env: string): string | undefined {
  return DEFAULTS.get(env);
}
