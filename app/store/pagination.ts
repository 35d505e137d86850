// Newest-first pages over an append-only table ordered by (created_at, id), with `before=<id>` as the cursor.
import type pg from 'pg';

export interface PageRequest {
  readonly limit: number;
  /** Only rows older than the row with this id. */
  readonly before?: number | undefined;
}

/**
 * Rows newest first, or undefined when `before` names no row.
 * The cursor row is compared in SQL, never read into JavaScript: a `Date` keeps milliseconds and
 * `created_at` keeps microseconds, so a round trip would skip rows of the cursor's millisecond.
 * `table` and `columns` come from the code, never from the request.
 */
export async function newestFirst<R extends pg.QueryResultRow>(
  client: pg.ClientBase | pg.Pool,
  table: 'messages' | 'activities',
  columns: string,
  page: PageRequest,
): Promise<R[] | undefined> {
  if (page.before === undefined) {
    const { rows } = await client.query<R>(`SELECT ${columns} FROM ${table} ORDER BY created_at DESC, id DESC LIMIT $1`, [page.limit]);
    return rows;
  }
  // With no cursor row the subquery is NULL and so is the comparison: no rows.
  const { rows } = await client.query<R>(
    `SELECT ${columns} FROM ${table}
     WHERE (created_at, id) < (SELECT created_at, id FROM ${table} WHERE id = $2)
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    [page.limit, page.before],
  );
  if (rows.length > 0) return rows;
  // An empty page is either the end of the feed or a cursor that names no row; only the end is an answer.
  const cursor = await client.query(`SELECT 1 FROM ${table} WHERE id = $1`, [page.before]);
  return cursor.rowCount === 0 ? undefined : rows;
}
