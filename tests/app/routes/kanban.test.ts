import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMigratedDatabase, startApp, type RunningApp } from '../harness.js';

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
let app: RunningApp;

beforeAll(async () => {
  db = await createMigratedDatabase('app_kanban');
  app = await startApp(db.url);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});
beforeEach(() => db.reset());

interface Task {
  id: number;
  columnId: number;
  title: string;
  description: string;
  position: number;
}
interface Column {
  id: number;
  title: string;
  position: number;
  tasks: Task[];
}

async function createColumn(title: string): Promise<Column> {
  const response = await app.api('POST', '/api/kanban/columns', { title });
  expect(response.status).toBe(201);
  return response.body as Column;
}

async function createTask(columnId: number, title: string, description?: string): Promise<Task> {
  const response = await app.api('POST', '/api/kanban/tasks', { columnId, title, description });
  expect(response.status).toBe(201);
  return response.body as Task;
}

async function board(): Promise<Column[]> {
  const response = await app.api('GET', '/api/kanban/columns');
  expect(response.status).toBe(200);
  return response.body as Column[];
}

/** Task titles per column title, in order: what a person sees on the board. */
async function layout(): Promise<Record<string, string[]>> {
  const columns = await board();
  for (const column of columns) expect(column.tasks.map((task) => task.position)).toEqual(column.tasks.map((_, i) => i));
  expect(columns.map((column) => column.position)).toEqual(columns.map((_, i) => i));
  return Object.fromEntries(columns.map((column) => [column.title, column.tasks.map((task) => task.title)]));
}

async function activityTypes(): Promise<string[]> {
  const { rows } = await db.query<{ type: string }>('SELECT type FROM activities ORDER BY id');
  return rows.map((row) => row.type);
}

describe('columns', () => {
  it('GET /api/kanban/columns answers an empty board', async () => {
    expect(await board()).toEqual([]);
  });

  it('POST adds columns at the end and answers 201 with the row', async () => {
    const todo = await createColumn('Todo');
    expect(todo).toEqual({
      id: expect.any(Number),
      title: 'Todo',
      position: 0,
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
    await createColumn('Doing');
    await createColumn('Done');
    expect(await layout()).toEqual({ Todo: [], Doing: [], Done: [] });
    expect((await board()).map((column) => column.title)).toEqual(['Todo', 'Doing', 'Done']);
    expect(await activityTypes()).toEqual(['column.created', 'column.created', 'column.created']);
  });

  it('PATCH renames a column and writes column.updated', async () => {
    const todo = await createColumn('Todo');
    const response = await app.api('PATCH', `/api/kanban/columns/${todo.id}`, { title: 'Backlog' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: todo.id, title: 'Backlog', position: 0 });
    expect(await activityTypes()).toEqual(['column.created', 'column.updated']);
  });

  it('PATCH with a position reorders the columns; past the end means last', async () => {
    const [a, , c] = [await createColumn('A'), await createColumn('B'), await createColumn('C')];
    expect((await app.api('PATCH', `/api/kanban/columns/${c!.id}`, { position: 0 })).body.position).toBe(0);
    expect((await board()).map((column) => column.title)).toEqual(['C', 'A', 'B']);
    expect((await app.api('PATCH', `/api/kanban/columns/${a!.id}`, { position: 99 })).body.position).toBe(2);
    expect((await board()).map((column) => column.title)).toEqual(['C', 'B', 'A']);
  });

  it('PATCH that changes nothing answers the row and writes no activity', async () => {
    const todo = await createColumn('Todo');
    const response = await app.api('PATCH', `/api/kanban/columns/${todo.id}`, { title: 'Todo', position: 0 });
    expect(response.status).toBe(200);
    expect(await activityTypes()).toEqual(['column.created']);
  });

  it('DELETE removes the column with its tasks, closes the gap and answers 204', async () => {
    const [a, b] = [await createColumn('A'), await createColumn('B'), await createColumn('C')];
    await createTask(b!.id, 'in B');
    await createTask(a!.id, 'in A');
    const response = await app.api('DELETE', `/api/kanban/columns/${b!.id}`);
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expect(await layout()).toEqual({ A: ['in A'], C: [] });
    const { rows } = await db.query("SELECT payload FROM activities WHERE type = 'column.deleted'");
    expect(rows).toEqual([{ payload: { title: 'B', position: 1, taskIds: [1] } }]);
  });

  it.each([
    ['PATCH', { title: 'x' }],
    ['DELETE', undefined],
  ])('%s of a column that does not exist answers 404', async (method, body) => {
    const response = await app.api(method, '/api/kanban/columns/4242', body);
    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({ code: 'APP_ERR_NOT_FOUND', message: 'No column with id 4242', details: [] });
  });

  it.each([
    ['POST', '/api/kanban/columns', { title: '' }, 'title'],
    ['POST', '/api/kanban/columns', { title: 'x'.repeat(201) }, 'title'],
    ['POST', '/api/kanban/columns', {}, 'title'],
    ['PATCH', '/api/kanban/columns/1', {}, ''],
    ['PATCH', '/api/kanban/columns/1', { position: -1 }, 'position'],
    ['PATCH', '/api/kanban/columns/1', { position: 'first' }, 'position'],
    ['PATCH', '/api/kanban/columns/abc', { title: 'x' }, 'id'],
    ['DELETE', '/api/kanban/columns/0', undefined, 'id'],
  ])('%s %s %j answers 400 naming %s', async (method, path, body, field) => {
    await createColumn('Todo');
    const response = await app.api(method, path, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('APP_ERR_VALIDATION');
    expect(response.body.error.details.map((detail: { path: string }) => detail.path)).toContain(field);
  });
});

describe('tasks', () => {
  it('POST adds a task at the end of its column and answers 201 with the row', async () => {
    const todo = await createColumn('Todo');
    const first = await createTask(todo.id, 'Write tests', 'with a real database');
    expect(first).toEqual({
      id: expect.any(Number),
      columnId: todo.id,
      title: 'Write tests',
      description: 'with a real database',
      position: 0,
      createdAt: expect.stringMatching(/Z$/),
      updatedAt: expect.stringMatching(/Z$/),
    });
    expect((await createTask(todo.id, 'Ship')).position).toBe(1);
    expect(await layout()).toEqual({ Todo: ['Write tests', 'Ship'] });
    expect((await board())[0]!.tasks[1]!.description).toBe('');
    expect(await activityTypes()).toEqual(['column.created', 'task.created', 'task.created']);
  });

  it('POST into a column that does not exist answers 422 and stores nothing', async () => {
    const response = await app.api('POST', '/api/kanban/tasks', { columnId: 777, title: 'Lost' });
    expect(response.status).toBe(422);
    expect(response.body.error).toEqual({
      code: 'APP_ERR_INVALID_REFERENCE',
      message: 'No column with id 777',
      details: [{ path: 'columnId', message: 'No column with id 777' }],
    });
    expect(await activityTypes()).toEqual([]);
  });

  it.each([
    [{ title: 'x' }, 'columnId'],
    [{ columnId: '1', title: 'x' }, 'columnId'],
    [{ columnId: 1.5, title: 'x' }, 'columnId'],
    [{ columnId: 1, title: '' }, 'title'],
    [{ columnId: 1, title: 'x', description: 5 }, 'description'],
    [{ columnId: 1, title: 'x', position: 0 }, ''],
  ])('POST %j answers 400 naming %s', async (body, field) => {
    await createColumn('Todo');
    const response = await app.api('POST', '/api/kanban/tasks', body);
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((detail: { path: string }) => detail.path)).toContain(field);
  });

  it('PATCH edits title and description in place and writes task.updated', async () => {
    const todo = await createColumn('Todo');
    const task = await createTask(todo.id, 'Draft');
    const response = await app.api('PATCH', `/api/kanban/tasks/${task.id}`, { title: 'Final', description: 'done soon' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: task.id, title: 'Final', description: 'done soon', position: 0, columnId: todo.id });
    expect(await activityTypes()).toEqual(['column.created', 'task.created', 'task.updated']);
  });

  it('PATCH with a position reorders within the column', async () => {
    const todo = await createColumn('Todo');
    const [a, , , d] = [await createTask(todo.id, 'a'), await createTask(todo.id, 'b'), await createTask(todo.id, 'c'), await createTask(todo.id, 'd')];
    await app.api('PATCH', `/api/kanban/tasks/${a!.id}`, { position: 2 });
    expect(await layout()).toEqual({ Todo: ['b', 'c', 'a', 'd'] });
    await app.api('PATCH', `/api/kanban/tasks/${d!.id}`, { position: 0 });
    expect(await layout()).toEqual({ Todo: ['d', 'b', 'c', 'a'] });
    const last = await app.api('PATCH', `/api/kanban/tasks/${d!.id}`, { position: 50 });
    expect(last.body.position).toBe(3);
    expect(await layout()).toEqual({ Todo: ['b', 'c', 'a', 'd'] });
  });

  it('PATCH with a columnId moves the task (to the end, or to the position given) and writes task.moved', async () => {
    const todo = await createColumn('Todo');
    const done = await createColumn('Done');
    const [a, b] = [await createTask(todo.id, 'a'), await createTask(todo.id, 'b'), await createTask(todo.id, 'c')];
    await createTask(done.id, 'x');
    const moved = await app.api('PATCH', `/api/kanban/tasks/${a!.id}`, { columnId: done.id });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id: a!.id, columnId: done.id, position: 1 });
    expect(await layout()).toEqual({ Todo: ['b', 'c'], Done: ['x', 'a'] });
    await app.api('PATCH', `/api/kanban/tasks/${b!.id}`, { columnId: done.id, position: 0, title: 'b!' });
    expect(await layout()).toEqual({ Todo: ['c'], Done: ['b!', 'x', 'a'] });
    const { rows } = await db.query("SELECT payload FROM activities WHERE type = 'task.moved' ORDER BY id");
    expect(rows.map((row) => row.payload)).toEqual([
      { title: 'a', changed: ['columnId', 'position'], from: { columnId: todo.id, position: 0 }, to: { columnId: done.id, position: 1 } },
      { title: 'b!', changed: ['title', 'columnId'], from: { columnId: todo.id, position: 0 }, to: { columnId: done.id, position: 0 } },
    ]);
  });

  it('PATCH to a column that does not exist answers 422 and changes nothing', async () => {
    const todo = await createColumn('Todo');
    const task = await createTask(todo.id, 'a');
    const response = await app.api('PATCH', `/api/kanban/tasks/${task.id}`, { columnId: 999 });
    expect(response.status).toBe(422);
    expect(response.body.error.code).toBe('APP_ERR_INVALID_REFERENCE');
    expect(await layout()).toEqual({ Todo: ['a'] });
    expect(await activityTypes()).toEqual(['column.created', 'task.created']);
  });

  it('DELETE removes the task, closes the gap, writes task.deleted and answers 204', async () => {
    const todo = await createColumn('Todo');
    const [, b] = [await createTask(todo.id, 'a'), await createTask(todo.id, 'b'), await createTask(todo.id, 'c')];
    const response = await app.api('DELETE', `/api/kanban/tasks/${b!.id}`);
    expect(response.status).toBe(204);
    expect(await layout()).toEqual({ Todo: ['a', 'c'] });
    expect((await activityTypes()).at(-1)).toBe('task.deleted');
  });

  it.each([
    ['PATCH', { title: 'x' }],
    ['DELETE', undefined],
  ])('%s of a task that does not exist answers 404', async (method, body) => {
    const response = await app.api(method, '/api/kanban/tasks/31337', body);
    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({ code: 'APP_ERR_NOT_FOUND', message: 'No task with id 31337', details: [] });
  });

  it.each([
    [{}, ''],
    [{ position: -1 }, 'position'],
    [{ columnId: null }, 'columnId'],
    [{ title: 'x'.repeat(201) }, 'title'],
    [{ description: 'x'.repeat(10_001) }, 'description'],
    [{ column_id: 2 }, ''],
  ])('PATCH %j answers 400 naming %s', async (body, field) => {
    const todo = await createColumn('Todo');
    const task = await createTask(todo.id, 'a');
    const response = await app.api('PATCH', `/api/kanban/tasks/${task.id}`, body);
    expect(response.status).toBe(400);
    expect(response.body.error.details.map((detail: { path: string }) => detail.path)).toContain(field);
  });
});
