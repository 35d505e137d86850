import { afterAll, afterEach, beforeAll } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.js';
import { applyMigrations } from './migrate.js';
import { startSupervisor, type SupervisorProcess } from './supervisor-process.js';

export interface SupervisorFixture {
  /** The file's database, migrated to the latest schema. */
  readonly db: () => TestDatabase;
  /** Starts a supervisor on that database (behind `prefix`, if given); it is killed after the test if it still runs. */
  start(env?: Record<string, string>, via?: 'node' | 'npm', prefix?: readonly string[]): Promise<SupervisorProcess>;
}

/** One migrated database for a test file, and cleanup of every supervisor a test starts. */
export function useSupervisorFixture(prefix: string): SupervisorFixture {
  let db: TestDatabase | undefined;
  const running: SupervisorProcess[] = [];
  beforeAll(async () => {
    db = await createTestDatabase(prefix);
    await applyMigrations(db.url);
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((sup) => sup.kill()));
  });
  afterAll(async () => {
    await db?.drop();
  });
  const current = (): TestDatabase => {
    if (!db) throw new Error('the fixture database exists only inside tests');
    return db;
  };
  return {
    db: current,
    async start(env = {}, via = 'node', prefix = undefined) {
      const sup = await startSupervisor({ via, env: { DATABASE_URL: current().url, ...env }, ...(prefix ? { prefix } : {}) });
      running.push(sup);
      return sup;
    },
  };
}
