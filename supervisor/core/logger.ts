// One pino root logger for the supervisor and the child's output, secrets scrubbed at the root.
import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogFormat, LogLevel } from './config.js';
import { createScrubber } from './redact.js';

export interface LoggingOptions {
  readonly level: LogLevel;
  /** @default 'auto' — readable in a terminal, JSON otherwise (and always JSON in production). */
  readonly format: LogFormat;
  readonly isProduction: boolean;
  /** Values that must never be written (e.g. the database password). */
  readonly secrets: readonly (string | undefined)[];
  /** @default process.stdout */
  readonly output?: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The root logger plus a way to pass through lines that are already pino JSON (the child's). */
export interface Logging {
  readonly logger: Logger;
  /** Writes one complete JSON log line as it is (scrubbed), into the same output as the logger. */
  writeJsonLine(line: string): void;
}

function usePretty(options: LoggingOptions, output: { isTTY?: boolean }): boolean {
  if (options.format === 'auto') return !options.isProduction && output.isTTY === true;
  return options.format === 'pretty';
}

export async function createLogging(options: LoggingOptions): Promise<Logging> {
  const output = options.output ?? process.stdout;
  const scrub = createScrubber(options.secrets);
  // pino-pretty loads only for a terminal, never in production.
  const target: DestinationStream = usePretty(options, output)
    ? (await import('pino-pretty')).default({ destination: output, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'hostname' })
    : output;
  const destination: DestinationStream = { write: (chunk: string) => target.write(scrub(chunk)) };

  const logger = pino(
    {
      level: options.level,
      base: { pid: process.pid, name: 'supervisor' },
      redact: {
        paths: ['databaseUrl', '*.databaseUrl', 'password', '*.password', 'connectionString', '*.connectionString'],
        censor: '***',
      },
    },
    destination,
  );

  return {
    logger,
    writeJsonLine: (line) => destination.write(`${line}\n`),
  };
}
