// The supervisor's JSON logging (core/logger.ts) written into memory, for tests of what a module logs.
import { Writable } from 'node:stream';
import { createLogging, type Logging } from '../../supervisor/core/logger.js';

export interface CapturedLogging {
  readonly logging: Logging;
  /** The entries logged so far with this `event`. */
  events(event: string): Record<string, unknown>[];
}

export async function captureLogging(): Promise<CapturedLogging> {
  const lines: string[] = [];
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const logging = await createLogging({ level: 'info', format: 'json', isProduction: false, secrets: [], output });
  return {
    logging,
    events: (event) => lines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((entry) => entry.event === event),
  };
}
