// Board columns: the board read, and column changes that keep column positions dense (0..n-1).
import type pg from 'pg';
import { recordActivity, type Activity } from './activities.js';
import { shiftedPosition } from './positions.js';

/**
 * Transaction-level advisory lock taken by every change to the set or order of columns, so that two
 * new columns never get the same position. Task changes never take it; they lock column rows instead.
 */
export const BOARD_LOCK_ID = '5920443719023571281';

export interface Column {
  readonly id: number;
  readonly title: string;
  readonly position: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface Task {
  readonly id: number;
  readonly columnId: number;
  readonly title: string;
  readonly description: string;
  readonly position: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface BoardColumn extends Column {
  readonly tasks: Task[];
}

export const COLUMN_FIELDS = 'id, title, position, created_at AS "createdAt", updated_at AS "updatedAt"';
export const TASK_FIELDS =
  'id, column_id AS "columnId", title, description, position, created_at AS "createdAt", updated_at AS "updatedAt"';

/** Columns in order, each with its tasks in order; run it in one snapshot (repeatable read). */
export async function readBoard(client: pg.ClientBase): Promise<BoardColumn[]> {
  const columns = await client.query<Column>(`SELECT ${COLUMN_FIELDS} FROM kanban_columns ORDER BY position, id`);
  const tasks = await client.query<Task>(`SELECT ${TASK_FIELDS} FROM kanban_tasks ORDER BY column_id, position, id`);
  const board = columns.rows.map((column) => ({ ...column, tasks: [] as Task[] }));
  const byId = new Map(board.map((column) => [column.id, column]));
  for (const task of tasks.rows) byId.get(task.columnId)?.tasks.push(task);
  return board;
}

async function lockBoard(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [BOARD_LOCK_ID]);
}

/** Locks every column row in id order: the order task changes use too, so the two never deadlock. */
async function lockAllColumns(client: pg.ClientBase): Promise<void> {
  await client.query('SELECT id FROM kanban_columns ORDER BY id FOR UPDATE');
}

async function findColumn(client: pg.ClientBase, id: number): Promise<Column | undefined> {
  const { rows } = await client.query<Column>(`SELECT ${COLUMN_FIELDS} FROM kanban_columns WHERE id = $1`, [id]);
  return rows[0];
}

export async function createColumn(client: pg.ClientBase, input: { title: string }): Promise<{ row: Column; activity: Activity }> {
  await lockBoard(client);
  const { rows } = await client.query<Column>(
    `INSERT INTO kanban_columns (title, position)
     VALUES ($1, (SELECT count(*)::integer FROM kanban_columns))
     RETURNING ${COLUMN_FIELDS}`,
    [input.title],
  );
  const row = rows[0]!;
  const activity = await recordActivity(client, 'column.created', 'column', row.id, { title: row.title, position: row.position });
  return { row, activity };
}

/** Renames and/or moves a column (a position past the end means "last"); undefined when it does not exist. */
export async function updateColumn(
  client: pg.ClientBase,
  id: number,
  input: { title?: string | undefined; position?: number | undefined },
): Promise<{ row: Column; activity: Activity | undefined } | undefined> {
  await lockBoard(client);
  await lockAllColumns(client);
  const before = await findColumn(client, id);
  if (!before) return undefined;
  const { rows: counted } = await client.query<{ n: number }>('SELECT count(*)::integer AS n FROM kanban_columns');
  const position = input.position === undefined ? before.position : Math.min(input.position, counted[0]!.n - 1);
  const title = input.title ?? before.title;
  const changed = [...(title !== before.title ? ['title'] : []), ...(position !== before.position ? ['position'] : [])];
  if (changed.length === 0) return { row: before, activity: undefined };

  const shift = shiftedPosition(before.position, position);
  if (shift) {
    await client.query(`UPDATE kanban_columns SET position = position + $1 WHERE position BETWEEN $2 AND $3`, [
      shift.by,
      shift.from,
      shift.to,
    ]);
  }
  const { rows } = await client.query<Column>(
    `UPDATE kanban_columns SET title = $2, position = $3, updated_at = now() WHERE id = $1 RETURNING ${COLUMN_FIELDS}`,
    [id, title, position],
  );
  const row = rows[0]!;
  const activity = await recordActivity(client, 'column.updated', 'column', id, {
    title: row.title,
    changed,
    ...(changed.includes('position') ? { position: { from: before.position, to: row.position } } : {}),
  });
  return { row, activity };
}

/** Deletes a column with its tasks and closes the gap; undefined when it does not exist. */
export async function deleteColumn(client: pg.ClientBase, id: number): Promise<{ row: Column; activity: Activity } | undefined> {
  await lockBoard(client);
  await lockAllColumns(client);
  const { rows: taskRows } = await client.query<{ id: number }>('SELECT id FROM kanban_tasks WHERE column_id = $1 ORDER BY position', [id]);
  const { rows } = await client.query<Column>(`DELETE FROM kanban_columns WHERE id = $1 RETURNING ${COLUMN_FIELDS}`, [id]);
  const row = rows[0];
  if (!row) return undefined;
  await client.query('UPDATE kanban_columns SET position = position - 1 WHERE position > $1', [row.position]);
  const activity = await recordActivity(client, 'column.deleted', 'column', id, {
    title: row.title,
    position: row.position,
    taskIds: taskRows.map((task) => task.id),
  });
  return { row, activity };
}
