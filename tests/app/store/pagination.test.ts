// Walking a feed page by page with `before=<id>` shows every row exactly once, even rows microseconds apart.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMigratedDatabase, startApp, type RunningApp } from '../harness.js';

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
let app: RunningApp;

beforeAll(async () => {
  db = await createMigratedDatabase('app_pagination');
  app = await startApp(db.url);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});
beforeEach(() => db.reset());

// Inserted in this order, so ids follow the list; most rows share one millisecond and differ by microseconds,
// and two pairs share a timestamp exactly, which leaves the id to order them.
const ROWS = [
  { label: 'a', createdAt: '2026-01-01 00:00:00.000300+00' },
  { label: 'b', createdAt: '2026-01-01 00:00:00.000100+00' },
  { label: 'c', createdAt: '2026-01-01 00:00:00.000300+00' },
  { label: 'd', createdAt: '2026-01-01 00:00:00.000200+00' },
  { label: 'e', createdAt: '2026-01-01 00:00:00.000999+00' },
  { label: 'f', createdAt: '2026-01-01 00:00:00.001000+00' },
  { label: 'g', createdAt: '2026-01-01 00:00:00.000100+00' },
  { label: 'h', createdAt: '2025-12-31 23:59:59.999999+00' },
] as const;

// Newest first by (created_at, id).
const NEWEST_FIRST = ['f', 'e', 'c', 'a', 'd', 'g', 'b', 'h'];

const FEEDS = [
  {
    path: '/api/messages',
    insert: "INSERT INTO messages (author, body, created_at) VALUES ('Ada', $1, $2) RETURNING id",
  },
  {
    path: '/api/activities',
    insert:
      "INSERT INTO activities (type, entity_type, entity_id, payload, created_at) VALUES ('message.created', 'message', 1, jsonb_build_object('label', $1::text), $2) RETURNING id",
  },
] as const;

/** Follows `before=<last id seen>` from the first page until an empty page; returns every id in the order seen. */
async function walk(path: string, limit: number): Promise<number[]> {
  const seen: number[] = [];
  for (let pages = 0; pages <= ROWS.length; pages++) {
    const query = seen.length === 0 ? `limit=${limit}` : `limit=${limit}&before=${seen.at(-1)}`;
    const response = await app.api('GET', `${path}?${query}`);
    expect(response.status).toBe(200);
    const ids = (response.body as { id: number }[]).map((row) => row.id);
    if (ids.length === 0) return seen;
    seen.push(...ids);
  }
  throw new Error(`${path} still had rows after ${ROWS.length + 1} pages: ${seen.join(', ')}`);
}

describe.each(FEEDS)('GET $path paged with before=<id>', ({ path, insert }) => {
  it.each([1, 2, 3, 50])('shows every row once, newest first, with limit=%i', async (limit) => {
    const ids = new Map<string, number>();
    for (const row of ROWS) {
      const { rows } = await db.query<{ id: number }>(insert, [row.label, row.createdAt]);
      ids.set(row.label, rows[0]!.id);
    }
    expect(await walk(path, limit)).toEqual(NEWEST_FIRST.map((label) => ids.get(label)));
  });
});
