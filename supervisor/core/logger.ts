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
  /**
   * Log the process's warnings (pg's seven-line one about sslmode, deprecations) as `node_warning` entries
   * instead of Node's print to stderr, outside the log. For the process's own root logger only.
   * @default false
   */
  readonly processWarnings?: boolean;
}

/** The root logger plus a way to pass through lines that are already pino JSON (the child's). */
export interface Logging {
  readonly logger: Logger;
  /** Writes one complete JSON log line as it is (scrubbed), into the same output as the logger. */
  writeJsonLine(line: string): void;
  /** Scrubs these too from now on: secrets known only after the start (the embedded database's password). */
  addSecrets(secrets: readonly (string | undefined)[]): void;
}

function usePretty(options: LoggingOptions, output: { isTTY?: boolean }): boolean {
  if (options.format === 'auto') return !options.isProduction && output.isTTY === true;
  return options.format === 'pretty';
}

// Node's own listener prints each warning to stderr: the listeners present (in the CLI, only Node's) are
// replaced by one log entry per warning, its first line as `msg`. Without Node's listener (`--no-warnings`,
// NODE_NO_WARNINGS=1) warnings stay silenced, as asked.
function logProcessWarnings(logger: Logger): void {
  const printers = process.listeners('warning');
  if (printers.length === 0) return;
  for (const printer of printers) process.removeListener('warning', printer);
  process.on('warning', (warning: Error & { code?: string }) => {
    logger.warn(
      { event: 'node_warning', warning: { name: warning.name, code: warning.code, message: warning.message } },
      `${warning.name}: ${warning.message.split('\n', 1)[0]}`,
    );
  });
}

export async function createLogging(options: LoggingOptions): Promise<Logging> {
  const output = options.output ?? process.stdout;
  const secrets = [...options.secrets];
  let scrub = createScrubber(secrets);
  // pino-pretty loads only for pretty lines: a terminal outside production (auto), or LOG_FORMAT=pretty.
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

  if (options.processWarnings) logProcessWarnings(logger);
  return {
    logger,
    writeJsonLine: (line) => destination.write(`${line}\n`),
    addSecrets(more) {
      secrets.push(...more);
      scrub = createScrubber(secrets);
    },
  };
}
