// The command's entry (bin/health-gate.js) as npm links it: a start through it to ready, Node's own modules
// compiled from the code cache Node embeds. A V8 flag set before they load would make V8 reject that cache (a
// start ~20% dearer); Node reports each module's cache accepted or rejected under NODE_DEBUG_NATIVE=CODE_CACHE.
// The database is up to date, so that no helper process (the SQL parser runs with a V8 flag of its own) starts.
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../helpers/database.js';
import { applyMigrations } from '../../helpers/migrate.js';
import { eventually, startSupervisor } from '../../helpers/supervisor-process.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('bin/health-gate.js', () => {
  it("starts to ready with Node's own modules compiled from their embedded code cache", async () => {
    const db = await createTestDatabase('bin');
    cleanups.push(() => db.drop());
    await applyMigrations(db.url);
    const sup = await startSupervisor({ via: 'bin', env: { DATABASE_URL: db.url, NODE_DEBUG_NATIVE: 'CODE_CACHE' } });
    cleanups.push(() => sup.kill());

    // Its own log line, not /health: a port taken by another test's supervisor in between would answer that.
    await sup.waitForLog((entry) => entry.event === 'phase' && entry.to === 'ready');

    // Node's verdict on child_process (loaded to spawn the app) shows that its report is there to read.
    const verdicts = (): string[] => sup.lines.filter((line) => /^Code cache of \S+ \(\w+\) is (accepted|rejected)$/.test(line));
    await eventually(
      () => (verdicts().some((line) => line.startsWith('Code cache of child_process ')) ? true : undefined),
      10_000,
      "Node's verdict on child_process's code cache",
    ).catch((error: Error) => {
      throw new Error(`${error.message}; the output so far:\n${sup.lines.slice(0, 60).join('\n')}`);
    });
    expect(verdicts().filter((line) => line.endsWith('is rejected'))).toEqual([]);
  });
});
