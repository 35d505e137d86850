// The benchmark's settings, read from the environment in this one place.
import { ErrorCodes, SupervisorError } from '../supervisor/core/errors.js';

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new SupervisorError(ErrorCodes.CONFIG_INVALID, `Expected \`${name}\` to be a positive integer, got \`${raw}\``);
  }
  return value;
}

/** What `npm run bench` measures with; see the README's Performance section. */
export const benchConfig = Object.freeze({
  rounds: positiveInteger('BENCH_ROUNDS', 5),
  durationS: positiveInteger('BENCH_DURATION_S', 3),
  serverUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  /** `autocannon` forces it even when wrk is installed. */
  forceAutocannon: process.env.BENCH_LOAD === 'autocannon',
});

/** Where a benchmark server (the upstream, the reference proxy) listens and forwards to. */
export function listenSettings(): { port: number; host: string; targetPort: number } {
  return {
    port: Number(process.env.PORT ?? 3000),
    host: process.env.HOST ?? '127.0.0.1',
    targetPort: Number(process.env.TARGET_PORT),
  };
}

/** The environment of a process the benchmark starts: its own plus `extra`. */
export function childEnv(extra: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}
