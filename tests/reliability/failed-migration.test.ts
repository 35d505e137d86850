// A migration fails halfway through a file of several statements, while a second instance waits for the lock.
// Extends the single-instance case in tests/supervisor/main.test.ts: no instance hangs, and a fixed file then deploys.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/supervisor-process.js';
import { recordFigure } from './figures.js';
import { errorsLogged, exitWithin, logged, useScenario } from './harness.js';

const scenario = useScenario('rel_migfail');
const LOCK_ID = '7262914153884315403';

const BROKEN = [
  '-- migrate:up',
  'CREATE TABLE half (id int PRIMARY KEY, label text);',
  "INSERT INTO half VALUES (1, 'one'), (2, 'two');",
  'ALTER TABLE kept ADD COLUMN note text;',
  'CREATE INDEX half_label ON half (label);',
  'INSERT INTO missing_table VALUES (1);',
  'CREATE TABLE never_reached (id int);',
  '',
].join('\n');
const FAILING_LINE = 6; // the file's line with INSERT INTO missing_table

describe('a migration that fails halfway through its file', () => {
  it('leaves nothing of it, keeps the earlier ones, names the file and line, exits non-zero, frees the lock; the fixed file then deploys', async () => {
    const db = await scenario.database();
    const dir = await scenario.tempDir();
    await writeFile(path.join(dir, '0001_kept.sql'), "CREATE TABLE kept (id int);\nINSERT INTO kept VALUES (1);\n");
    await writeFile(path.join(dir, '0002_broken.sql'), BROKEN);
    await writeFile(path.join(dir, '0003_after.sql'), 'CREATE TABLE after_broken (id int);\n');
    const env = { DATABASE_URL: db.url, MIGRATIONS_DIR: dir, REQUIRED_TABLES: 'kept,half,after_broken' };

    const startedAt = performance.now();
    const sups = await Promise.all([scenario.supervisor(env), scenario.supervisor(env)]);
    const exits = await Promise.all(sups.map((sup) => exitWithin(sup, 45_000)));
    recordFigure('migration fails halfway', 'start_to_failed_exit_2_instances', performance.now() - startedAt, 'ms');

    expect(exits.map((exit) => exit.code)).toEqual([1, 1]);
    for (const sup of sups) {
      expect(logged(sup, 'failed')).toEqual([
        expect.objectContaining({ code: 'SUP_ERR_MIGRATION_FAILED', msg: expect.stringContaining(`0002_broken failed at line ${FAILING_LINE} of 0002_broken.sql`) }),
      ]);
    }
    // Each instance tried it in turn under the lock; neither recorded any part of it.
    expect(sups.flatMap((sup) => logged(sup, 'migrated').map((entry) => entry.migration))).toEqual(['0001_kept']);
    expect((await db.query('SELECT name FROM schema_migrations ORDER BY name')).rows).toEqual([{ name: '0001_kept' }]);
    const objects = await db.query(
      "SELECT to_regclass('kept')::text AS kept, to_regclass('half')::text AS half, to_regclass('half_label')::text AS index, " +
        "to_regclass('never_reached')::text AS never_reached, to_regclass('after_broken')::text AS after_broken",
    );
    expect(objects.rows[0]).toEqual({ kept: 'kept', half: null, index: null, never_reached: null, after_broken: null });
    expect(await db.scalar("SELECT count(*)::int FROM information_schema.columns WHERE table_name = 'kept' AND column_name = 'note'")).toBe(0);
    expect(await db.scalar('SELECT count(*)::int FROM kept')).toBe(1);
    // No session of theirs is left (the server ends one moments after its process exits), so the lock is free.
    const sessions = "SELECT count(*)::int FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'supervisor'";
    await eventually(async () => ((await db.scalar(sessions)) === 0 ? true : undefined), 10_000, 'the supervisors\' sessions to end');
    expect(await db.advisoryLocks()).toBe(0);
    expect(await db.scalar(`SELECT pg_try_advisory_lock(${LOCK_ID}) AND pg_advisory_unlock(${LOCK_ID})`)).toBe(true);

    // The fix ships: the same file without the bad statement.
    await writeFile(path.join(dir, '0002_broken.sql'), BROKEN.replace('INSERT INTO missing_table VALUES (1);\n', ''));
    const fixed = await scenario.supervisor(env);
    await fixed.waitForPhase('ready');
    expect(logged(fixed, 'migrated').map((entry) => entry.migration)).toEqual(['0002_broken', '0003_after']);
    expect((await db.query('SELECT name FROM schema_migrations ORDER BY name')).rows.map((row) => row.name)).toEqual([
      '0001_kept',
      '0002_broken',
      '0003_after',
    ]);
    expect(await db.scalar('SELECT count(*)::int FROM half')).toBe(2);
    expect(errorsLogged(fixed)).toEqual([]);
  });
});
