// The only app module that reads the environment: validates it once and returns one frozen object.

import { pino, type LevelWithSilent } from 'pino';

export type LogLevel = LevelWithSilent;
// pino's own levels, most severe first, and `silent`.
const LOG_LEVELS: readonly LogLevel[] = [
  ...(Object.entries(pino.levels.values)
    .sort(([, a], [, b]) => b - a)
    .map(([name]) => name) as LogLevel[]),
  'silent',
];

/** The app's settings, every default applied. */
export interface AppConfig {
  /** @default 3000 */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host: string;
  readonly databaseUrl: string;
  /** @default 'info' */
  readonly logLevel: LogLevel;
  /** How long SIGTERM waits for in-flight requests before closing what is left. @default 8000 */
  readonly shutdownTimeoutMs: number;
}

/** Thrown with every problem at once, so that one start shows them all. */
export class ConfigError extends Error {
  readonly code = 'APP_ERR_CONFIG_INVALID';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`Invalid configuration:\n- ${problems.join('\n- ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function readInteger(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    problems.push(`Expected \`${name}\` to be an integer from ${min} to ${max}, got \`${value}\``);
    return fallback;
  }
  return parsed;
}

function readDatabaseUrl(env: Env, problems: string[]): string {
  const value = env.DATABASE_URL?.trim();
  if (!value) {
    problems.push('Expected `DATABASE_URL` to be a PostgreSQL connection string, got nothing');
    return '';
  }
  let protocol: string | undefined;
  try {
    protocol = new URL(value).protocol;
  } catch {
    protocol = undefined;
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    // The value itself may hold a password, so it is not repeated here.
    problems.push('Expected `DATABASE_URL` to be a postgres:// or postgresql:// URL');
  }
  return value;
}

export function readConfig(env: Env = process.env): AppConfig {
  const problems: string[] = [];
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    problems.push(`Expected \`LOG_LEVEL\` to be one of ${LOG_LEVELS.join(', ')}, got \`${logLevel}\``);
  }
  const config: AppConfig = {
    port: readInteger(env, 'PORT', 3000, 0, 65535, problems),
    host: env.HOST?.trim() || '127.0.0.1',
    databaseUrl: readDatabaseUrl(env, problems),
    logLevel: (LOG_LEVELS as readonly string[]).includes(logLevel) ? (logLevel as LogLevel) : 'info',
    shutdownTimeoutMs: readInteger(env, 'SHUTDOWN_TIMEOUT_MS', 8000, 0, 600_000, problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
