// Newest-first pages over an append-only table ordered by (created_at, id), with `before=<id>` as the cursor.
import type pg from 'pg';

export interface PageRequest {
  readonly limit: number;
  /** Only rows older than the row with this id. */
  readonly before?: number | undefined;
}

/**
 * Rows newest first, or undefined when `before` names no row.
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
  const cursor = await client.query<{ created_at: Date; id: number }>(`SELECT created_at, id FROM ${table} WHERE id = $1`, [page.before]);
  const from = cursor.rows[0];
  if (!from) return undefined;
  const { rows } = await client.query<R>(
    `SELECT ${columns} FROM ${table}
     WHERE (created_at, id) < ($2::timestamptz, $3::integer)
     ORDER BY created_at DESC, id DESC LIMIT $1`,
    [page.limit, from.created_at, from.id],
  );
  return rows;
}
