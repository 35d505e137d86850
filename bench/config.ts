// The benchmark's settings, read from the environment in this one place.
import { ErrorCodes, SupervisorError } from '../supervisor/core/errors.js';

function integer(name: string, fallback: number, min: 0 | 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    const kind = min === 1 ? 'a positive integer' : 'an integer of 0 or more';
    throw new SupervisorError(ErrorCodes.CONFIG_INVALID, `Expected \`${name}\` to be ${kind}, got \`${raw}\``);
  }
  return value;
}

const positiveInteger = (name: string, fallback: number): number => integer(name, fallback, 1);

/** What `npm run bench` measures with; see docs/performance.md. */
export const benchConfig = Object.freeze({
  rounds: positiveInteger('BENCH_ROUNDS', 5),
  durationS: positiveInteger('BENCH_DURATION_S', 3),
  serverUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  /** `autocannon` forces it even when wrk is installed. */
  forceAutocannon: process.env.BENCH_LOAD === 'autocannon',
  /** `off` leaves nginx out even when it is installed. */
  skipNginx: process.env.BENCH_NGINX === 'off',
  startupRuns: positiveInteger('BENCH_STARTUP_RUNS', 7),
  /**
   * A memory limit for the Node processes, as on a small instance; 0: none. None by default: the supervisor's
   * memory must stay small on a large machine too, where V8 would otherwise size its heap by the machine.
   */
  memoryLimitMb: integer('BENCH_MEMORY_LIMIT_MB', 0, 0),
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
