// Tasks: create, edit, move and delete, keeping positions dense (0..n-1) per column under concurrency.
//
// Locking: a change first locks the rows of the columns it touches, in id order, and only then the
// task. Whoever holds a column's lock is the only one who may add, remove or reorder its tasks.
import type pg from 'pg';
import { RetryTransaction } from '../db.js';
import { AppError, ErrorCodes } from '../errors.js';
import { recordActivity, type Activity } from './activities.js';
import { TASK_FIELDS, type Task } from './kanban-columns.js';
import { shiftedPosition } from './positions.js';

export interface TaskChanges {
  readonly title?: string | undefined;
  readonly description?: string | undefined;
  readonly columnId?: number | undefined;
  readonly position?: number | undefined;
}

function unknownColumn(columnId: number): AppError {
  return new AppError(ErrorCodes.INVALID_REFERENCE, `No column with id ${columnId}`, {
    details: [{ path: 'columnId', message: `No column with id ${columnId}` }],
  });
}

async function lockColumns(client: pg.ClientBase, ids: readonly number[]): Promise<Set<number>> {
  const { rows } = await client.query<{ id: number }>('SELECT id FROM kanban_columns WHERE id = ANY($1::integer[]) ORDER BY id FOR UPDATE', [
    [...new Set(ids)],
  ]);
  return new Set(rows.map((row) => row.id));
}

async function countTasks(client: pg.ClientBase, columnId: number): Promise<number> {
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::integer AS n FROM kanban_tasks WHERE column_id = $1', [columnId]);
  return rows[0]!.n;
}

/**
 * Locks the task's column (and `alsoColumnId`), then the task. Undefined when the task does not exist.
 * If the task moved to another column between the first read and the locks, the transaction starts over.
 */
async function lockTask(client: pg.ClientBase, id: number, alsoColumnId?: number): Promise<{ task: Task; locked: Set<number> } | undefined> {
  const { rows: seen } = await client.query<{ columnId: number }>('SELECT column_id AS "columnId" FROM kanban_tasks WHERE id = $1', [id]);
  if (!seen[0]) return undefined;
  const locked = await lockColumns(client, alsoColumnId === undefined ? [seen[0].columnId] : [seen[0].columnId, alsoColumnId]);
  const { rows } = await client.query<Task>(`SELECT ${TASK_FIELDS} FROM kanban_tasks WHERE id = $1 FOR UPDATE`, [id]);
  const task = rows[0];
  if (!task) return undefined;
  if (!locked.has(task.columnId)) throw new RetryTransaction(`task ${id} moved to another column meanwhile`);
  return { task, locked };
}

/** Adds a task at the end of its column; a column that does not exist is a 422. */
export async function createTask(
  client: pg.ClientBase,
  input: { columnId: number; title: string; description?: string | undefined },
): Promise<{ row: Task; activity: Activity }> {
  const locked = await lockColumns(client, [input.columnId]);
  if (!locked.has(input.columnId)) throw unknownColumn(input.columnId);
  const position = await countTasks(client, input.columnId);
  const { rows } = await client.query<Task>(
    `INSERT INTO kanban_tasks (column_id, title, description, position) VALUES ($1, $2, $3, $4) RETURNING ${TASK_FIELDS}`,
    [input.columnId, input.title, input.description ?? '', position],
  );
  const row = rows[0]!;
  const activity = await recordActivity(client, 'task.created', 'task', row.id, {
    title: row.title,
    columnId: row.columnId,
    position: row.position,
  });
  return { row, activity };
}

/** Where the task ends up: a position past the end of the target column means "last". */
async function targetOf(client: pg.ClientBase, task: Task, changes: TaskChanges): Promise<{ columnId: number; position: number }> {
  const columnId = changes.columnId ?? task.columnId;
  if (columnId === task.columnId) {
    const last = (await countTasks(client, columnId)) - 1;
    return { columnId, position: Math.min(changes.position ?? task.position, last) };
  }
  const count = await countTasks(client, columnId);
  return { columnId, position: Math.min(changes.position ?? count, count) };
}

async function moveTask(client: pg.ClientBase, task: Task, to: { columnId: number; position: number }): Promise<void> {
  if (to.columnId === task.columnId) {
    const shift = shiftedPosition(task.position, to.position);
    if (!shift) return;
    await client.query('UPDATE kanban_tasks SET position = position + $2 WHERE column_id = $1 AND position BETWEEN $3 AND $4', [
      task.columnId,
      shift.by,
      shift.from,
      shift.to,
    ]);
  } else {
    await client.query('UPDATE kanban_tasks SET position = position - 1 WHERE column_id = $1 AND position > $2', [task.columnId, task.position]);
    await client.query('UPDATE kanban_tasks SET position = position + 1 WHERE column_id = $1 AND position >= $2', [to.columnId, to.position]);
  }
}

/**
 * Edits and/or moves a task. Undefined when the task does not exist; `activity` is undefined when
 * nothing changed. A move writes `task.moved`, an edit in place `task.updated`.
 */
export async function updateTask(
  client: pg.ClientBase,
  id: number,
  changes: TaskChanges,
): Promise<{ row: Task; activity: Activity | undefined } | undefined> {
  const found = await lockTask(client, id, changes.columnId);
  if (!found) return undefined;
  const { task, locked } = found;
  if (changes.columnId !== undefined && !locked.has(changes.columnId)) throw unknownColumn(changes.columnId);

  const to = await targetOf(client, task, changes);
  const title = changes.title ?? task.title;
  const description = changes.description ?? task.description;
  const moved = to.columnId !== task.columnId || to.position !== task.position;
  const changed = [
    ...(title !== task.title ? ['title'] : []),
    ...(description !== task.description ? ['description'] : []),
    ...(to.columnId !== task.columnId ? ['columnId'] : []),
    ...(to.position !== task.position ? ['position'] : []),
  ];
  if (changed.length === 0) return { row: task, activity: undefined };

  await moveTask(client, task, to);
  const { rows } = await client.query<Task>(
    `UPDATE kanban_tasks SET title = $2, description = $3, column_id = $4, position = $5, updated_at = now()
     WHERE id = $1 RETURNING ${TASK_FIELDS}`,
    [id, title, description, to.columnId, to.position],
  );
  const row = rows[0]!;
  const payload = moved
    ? { title: row.title, changed, from: { columnId: task.columnId, position: task.position }, to }
    : { title: row.title, changed };
  const activity = await recordActivity(client, moved ? 'task.moved' : 'task.updated', 'task', id, payload);
  return { row, activity };
}

/** Deletes a task and closes the gap it leaves; undefined when it does not exist. */
export async function deleteTask(client: pg.ClientBase, id: number): Promise<{ row: Task; activity: Activity } | undefined> {
  const found = await lockTask(client, id);
  if (!found) return undefined;
  const { task } = found;
  await client.query('DELETE FROM kanban_tasks WHERE id = $1', [id]);
  await client.query('UPDATE kanban_tasks SET position = position - 1 WHERE column_id = $1 AND position > $2', [task.columnId, task.position]);
  const activity = await recordActivity(client, 'task.deleted', 'task', id, {
    title: task.title,
    columnId: task.columnId,
    position: task.position,
  });
  return { row: task, activity };
}
