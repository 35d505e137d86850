// Cancelling the statement a connection runs, on the real Postgres: the statement ends at once with the server's
// query_canceled, its transaction rolls back, and the connection stays usable; a client never connected is a no-op.
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelRunningStatement } from '../../../supervisor/database/cancel.js';
import { createTestDatabase, type TestDatabase } from '../../helpers/database.js';
import { eventually } from '../../helpers/supervisor-process.js';

let db: TestDatabase;
let client: pg.Client;

beforeEach(async () => {
  db = await createTestDatabase('cancel');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
});
afterEach(async () => {
  await client.end();
  await db.drop();
});

describe('cancelRunningStatement', () => {
  it('ends a running statement at once and rolls its transaction back, leaving the connection usable', async () => {
    await client.query('BEGIN');
    await client.query('CREATE TABLE made_before_the_cancel (id int)');
    const startedAt = Date.now();
    const sleeping = client.query('SELECT pg_sleep(30)').then(
      () => undefined,
      (error: { code?: string }) => error,
    );
    await eventually(async () => ((await db.scalar("SELECT count(*)::int FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'")) === 1 ? true : undefined), 10_000, 'the statement to run');
    await cancelRunningStatement(client, db.url, 5_000);
    expect(await sleeping).toMatchObject({ code: '57014' });
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    await client.query('ROLLBACK');
    expect(await db.scalar("SELECT to_regclass('made_before_the_cancel')")).toBeNull();
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('resolves at once for a client that never connected', async () => {
    const never = new pg.Client({ connectionString: db.url });
    const startedAt = Date.now();
    await cancelRunningStatement(never, db.url, 5_000);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });
});
