// Shared plumbing for the reliability scenarios: cleanup after each test, empty databases, supervisors, log queries.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startSupervisor, within, type ExitStatus, type SupervisorProcess } from '../helpers/supervisor-process.js';

export interface Scenario {
  /** An empty database of its own, dropped after the test. */
  database(): Promise<TestDatabase>;
  /** A supervisor process, SIGKILLed after the test if it still runs. */
  supervisor(env: Record<string, string | undefined>): Promise<SupervisorProcess>;
  /** A temporary directory, removed after the test. */
  tempDir(): Promise<string>;
  /** Runs `fn` after the test, before the databases are dropped. */
  defer(fn: () => Promise<void> | void): void;
}

export function useScenario(prefix: string): Scenario {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return {
    async database() {
      const db = await createTestDatabase(prefix);
      cleanups.push(() => db.drop());
      return db;
    },
    async supervisor(env) {
      const sup = await startSupervisor({ env });
      cleanups.push(() => sup.kill());
      return sup;
    },
    async tempDir() {
      const dir = await mkdtemp(path.join(os.tmpdir(), `${prefix}-`));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
    defer(fn) {
      cleanups.push(fn);
    },
  };
}

/** The supervisor's exit status, or a failure naming what it was doing if it has not exited in `timeoutMs`. */
export function exitWithin(sup: SupervisorProcess, timeoutMs: number): Promise<ExitStatus> {
  return within(sup.exited, timeoutMs, () => `still running after ${timeoutMs} ms; last lines:\n${sup.lines.slice(-15).join('\n')}`);
}

export function logged(sup: SupervisorProcess, event: string): Record<string, unknown>[] {
  return sup.entries().filter((entry) => entry.event === event);
}

/** Log entries at level error (50) or above. */
export function errorsLogged(sup: SupervisorProcess): Record<string, unknown>[] {
  return sup.entries().filter((entry) => Number(entry.level) >= 50);
}
