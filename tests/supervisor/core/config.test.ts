import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../supervisor/core/config.js';

const base = { DATABASE_URL: 'postgres://app:pw@db.internal:5432/app', APP_COMMAND: 'node server.js' };

describe('loadConfig', () => {
  it('applies every default', () => {
    const config = loadConfig(base, '/srv/app');
    expect(config).toMatchObject({
      port: 10000,
      host: '0.0.0.0',
      migrationsDir: '/srv/app/migrations',
      requiredTables: [],
      appCommand: 'node server.js',
      appHealthPath: '/health',
      migrateOnStart: true,
      logLevel: 'info',
      dbWaitTimeoutMs: 300_000,
      drainTimeoutMs: 15_000,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads values and trims lists', () => {
    const config = loadConfig({ ...base, PORT: '8080', REQUIRED_TABLES: ' a , public.b ,', MIGRATE_ON_START: 'false', MIGRATION_STATEMENT_TIMEOUT_MS: '0' });
    expect(config.port).toBe(8080);
    expect(config.requiredTables).toEqual(['a', 'public.b']);
    expect(config.migrateOnStart).toBe(false);
    expect(config.migrationStatementTimeoutMs).toBe(0);
  });

  it('lists every problem in one error, never echoing the connection string', () => {
    let error: unknown;
    try {
      loadConfig({
        DATABASE_URL: 'mysql://root:hunter22@db/app',
        PORT: '70000',
        APP_HEALTH_PATH: 'health',
        MIGRATE_ON_START: 'maybe',
        LOG_LEVEL: 'loud',
        REQUIRED_TABLES: 'ok,drop table x',
        APP_START_TIMEOUT_MS: '1.5',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toMatchObject({ code: 'SUP_ERR_CONFIG_INVALID' });
    const message = (error as Error).message;
    expect(message).toContain('Expected `PORT` to be a positive integer no greater than 65535, got `70000`');
    expect(message).toContain('Expected `APP_HEALTH_PATH` to start with `/`, got `health`');
    expect(message).toContain('Expected `MIGRATE_ON_START` to be `true` or `false`, got `maybe`');
    expect(message).toContain('Expected `LOG_LEVEL` to be one of');
    expect(message).toContain('got `drop table x`');
    expect(message).toContain('Expected `APP_START_TIMEOUT_MS` to be a positive integer, got `1.5`');
    expect(message).toContain('`DATABASE_URL`');
    expect(message).not.toContain('hunter22');
  });

  it('takes a flag over its variable', () => {
    const config = loadConfig({ ...base, PORT: '8080', APP_HEALTH_PATH: '/up' }, '/srv/app', { PORT: '9090', APP_COMMAND: 'node other.js' });
    expect(config).toMatchObject({ port: 9090, appHealthPath: '/up', appCommand: 'node other.js' });
  });

  it('knows no app of its own: without an app command it says how to give one', () => {
    expect(() => loadConfig({ DATABASE_URL: base.DATABASE_URL })).toThrow(
      "Expected the app's command after `--` (e.g. `health-gate -- node server.js`) or in `APP_COMMAND`",
    );
  });

  it('requires DATABASE_URL in production and says how to set it on Render', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/fromDatabase/);
  });
});

describe('the edge and readiness settings', () => {
  it('default to a 60 s response timeout, 60 s send and WebSocket idle timeouts, and Kubernetes-like health polls', () => {
    expect(loadConfig(base)).toMatchObject({
      appResponseTimeoutMs: 60_000,
      httpSendTimeoutMs: 60_000,
      httpWebSocketIdleTimeoutMs: 60_000,
      appHealthIntervalMs: 5_000,
      appHealthFailureThreshold: 3,
      appHealthRestartThreshold: 6,
    });
  });

  it('trust forwarding headers by default on Render only, where its proxy sets them', () => {
    expect(loadConfig(base).trustProxy).toBe(false);
    expect(loadConfig({ ...base, RENDER: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ ...base, RENDER: 'true', TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ ...base, TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  });

  it('take the proxies as addresses, subnets and the names Express knows', () => {
    expect(loadConfig({ ...base, TRUST_PROXY: '10.0.0.0/8, 192.0.2.7 ,loopback,2001:db8::/32' }).trustProxy).toEqual([
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '192.0.2.7', prefix: 32, family: 'ipv4' },
      { address: '127.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
      { address: '2001:db8::', prefix: 32, family: 'ipv6' },
    ]);
  });

  it('take 0 to disable the response, send and idle timeouts and restarts for not answering', () => {
    expect(
      loadConfig({ ...base, APP_RESPONSE_TIMEOUT_MS: '0', APP_HEALTH_RESTART_THRESHOLD: '0', HTTP_SEND_TIMEOUT_MS: '0', HTTP_WEBSOCKET_IDLE_TIMEOUT_MS: '0' }),
    ).toMatchObject({ appResponseTimeoutMs: 0, appHealthRestartThreshold: 0, httpSendTimeoutMs: 0, httpWebSocketIdleTimeoutMs: 0 });
  });

  it('refuse a restart threshold below the failure threshold, a zero interval and a malformed trust list, all at once', () => {
    let message = '';
    try {
      loadConfig({ ...base, APP_HEALTH_FAILURE_THRESHOLD: '4', APP_HEALTH_RESTART_THRESHOLD: '2', APP_HEALTH_INTERVAL_MS: '0', TRUST_PROXY: '10.0.0.0/33,maybe' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('Expected `APP_HEALTH_RESTART_THRESHOLD` (2) to be 0 or no less than `APP_HEALTH_FAILURE_THRESHOLD` (4)');
    expect(message).toContain('Expected `APP_HEALTH_INTERVAL_MS` to be a positive integer, got `0`');
    expect(message).toContain('Expected `TRUST_PROXY` to be `true`, `false` or a list of addresses and subnets (`10.0.0.0/8`, `loopback`), got `10.0.0.0/33`');
    expect(message).toContain('got `maybe`');
  });
});

describe('REQUIRED_TABLES and MIGRATIONS_DIR as a user writes them', () => {
  it('accepts quoted and mixed-case names, plain or with a schema', () => {
    const config = loadConfig({ ...base, REQUIRED_TABLES: 'Messages, "Users", app."Order Items", public.users' });
    expect(config.requiredTables).toEqual(['Messages', '"Users"', 'app."Order Items"', 'public.users']);
    expect(() => loadConfig({ ...base, REQUIRED_TABLES: 'users; drop table x' })).toThrow('got `users; drop table x`');
  });

  it("takes a sequelize-cli project's .sequelizerc migrations-path when MIGRATIONS_DIR is unset", async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sequelizerc-'));
    try {
      await writeFile(path.join(dir, '.sequelizerc'), "const path = require('path');\nmodule.exports = { 'migrations-path': path.join('db', 'migrations') };\n");
      expect(loadConfig(base, dir).migrationsDir).toBe(path.join(dir, 'db/migrations'));
      expect(loadConfig({ ...base, MIGRATIONS_DIR: 'other' }, dir).migrationsDir).toBe(path.join(dir, 'other'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
