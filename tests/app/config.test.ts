import { describe, expect, it } from 'vitest';
import { ConfigError, readConfig } from '../../app/config.js';

const DATABASE_URL = 'postgres://app:secret@db.example.com:5432/app?sslmode=require';

describe('readConfig', () => {
  it('applies the defaults', () => {
    expect(readConfig({ DATABASE_URL })).toEqual({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: DATABASE_URL,
      logLevel: 'info',
      shutdownTimeoutMs: 8000,
    });
  });

  it('reads PORT, HOST, LOG_LEVEL and SHUTDOWN_TIMEOUT_MS, and returns a frozen object', () => {
    const config = readConfig({ DATABASE_URL, PORT: '41234', HOST: '0.0.0.0', LOG_LEVEL: 'debug', SHUTDOWN_TIMEOUT_MS: '100' });
    expect(config).toMatchObject({ port: 41234, host: '0.0.0.0', logLevel: 'debug', shutdownTimeoutMs: 100 });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lists every problem at once, without repeating the connection string', () => {
    let error: unknown;
    try {
      readConfig({ DATABASE_URL: 'mysql://root:hunter22@localhost/app', PORT: '70000', LOG_LEVEL: 'chatty' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('APP_ERR_CONFIG_INVALID');
    expect((error as ConfigError).problems).toEqual([
      'Expected `LOG_LEVEL` to be one of fatal, error, warn, info, debug, trace, silent, got `chatty`',
      'Expected `PORT` to be an integer from 0 to 65535, got `70000`',
      'Expected `DATABASE_URL` to be a postgres:// or postgresql:// URL',
    ]);
    expect((error as Error).message).not.toContain('hunter22');
  });

  it('requires DATABASE_URL', () => {
    expect(() => readConfig({})).toThrow(/DATABASE_URL/);
  });
});
