// The app's one pino root logger: JSON lines on stdout, which the supervisor passes through as they are.
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

/** @param destination defaults to stdout */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { pid: process.pid, name: 'app' },
    redact: {
      paths: ['databaseUrl', '*.databaseUrl', 'password', '*.password', 'connectionString', '*.connectionString'],
      censor: '***',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
