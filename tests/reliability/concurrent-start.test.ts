// Several instances start at once on one empty database (a scaled service deploying): one migrates, the others wait.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { healthOf, type SupervisorProcess } from '../helpers/supervisor-process.js';
import { recordFigure } from './figures.js';
import { errorsLogged, exitWithin, logged, useScenario } from './harness.js';

const scenario = useScenario('rel_concurrent');
const MIGRATIONS = ['0001_create_messages', '0002_create_activities', '0003_create_kanban'];

async function readyWithin(sup: SupervisorProcess, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const health = await healthOf(sup.url).catch(() => undefined);
    if (health?.status === 200) return performance.now();
    if (sup.process.exitCode !== null) throw new Error(`exited with ${sup.process.exitCode}:\n${sup.lines.slice(-10).join('\n')}`);
    if (performance.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms:\n${sup.lines.slice(-10).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('supervisors starting at once on one empty database', () => {
  it.each([4, 8])('%i instances all become ready, every migration applied exactly once, no error logged', { timeout: 150_000 }, async (count) => {
    const db = await scenario.database();
    const startedAt = performance.now();
    const sups = await Promise.all(Array.from({ length: count }, () => scenario.supervisor({ DATABASE_URL: db.url })));
    const readyAt = await Promise.all(sups.map((sup) => readyWithin(sup, 120_000)));
    recordFigure(`${count} supervisors start at once`, `all_ready_${count}_instances`, Math.max(...readyAt) - startedAt, 'ms');

    const history = await db.query<{ name: string; n: number }>('SELECT name, count(*)::int AS n FROM schema_migrations GROUP BY name ORDER BY name');
    expect(history.rows).toEqual(MIGRATIONS.map((name) => ({ name, n: 1 })));
    const applied = sups.flatMap((sup) => logged(sup, 'migrated').map((entry) => entry.migration));
    expect(applied.sort()).toEqual(MIGRATIONS);
    expect(sups.filter((sup) => logged(sup, 'migrated').length > 0)).toHaveLength(1);
    expect(sups.flatMap((sup) => errorsLogged(sup))).toEqual([]);
    expect(await db.advisoryLocks()).toBe(0);
    for (const sup of sups) expect((await fetch(`${sup.url}/status/200`)).status).toBe(200);

    for (const sup of sups) sup.process.kill('SIGTERM');
    const exits = await Promise.all(sups.map((sup) => exitWithin(sup, 60_000)));
    expect(exits.map((exit) => exit.code)).toEqual(sups.map(() => 0));
  });
});
