// Positions stay dense (0..n-1) and unique per column when many changes race each other.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMigratedDatabase, startApp, type RunningApp } from '../harness.js';

let db: Awaited<ReturnType<typeof createMigratedDatabase>>;
let app: RunningApp;

beforeAll(async () => {
  db = await createMigratedDatabase('app_kanban_tasks');
  app = await startApp(db.url);
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
});
beforeEach(() => db.reset());

interface Column {
  id: number;
  position: number;
  tasks: { id: number; columnId: number; position: number }[];
}

// A fixed seed: the same sequence of moves on every run, but one that mixes every kind of move.
function random(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
}

async function setUp(columns: number, tasksPerColumn: number): Promise<{ columnIds: number[]; taskIds: number[] }> {
  const columnIds: number[] = [];
  const taskIds: number[] = [];
  for (let c = 0; c < columns; c++) {
    const column = await app.api('POST', '/api/kanban/columns', { title: `C${c}` });
    columnIds.push(column.body.id);
    for (let t = 0; t < tasksPerColumn; t++) {
      const task = await app.api('POST', '/api/kanban/tasks', { columnId: column.body.id, title: `T${c}.${t}` });
      taskIds.push(task.body.id);
    }
  }
  return { columnIds, taskIds };
}

/** Asserts positions are exactly 0..n-1 in every column, through the API and in the table; returns the board. */
async function expectDense(): Promise<Column[]> {
  const response = await app.api('GET', '/api/kanban/columns');
  expect(response.status).toBe(200);
  const board = response.body as Column[];
  for (const column of board) {
    expect(column.tasks.map((task) => task.position)).toEqual(column.tasks.map((_, i) => i));
    for (const task of column.tasks) expect(task.columnId).toBe(column.id);
  }
  const { rows } = await db.query<{ column_id: number; positions: number[] }>(
    'SELECT column_id, array_agg(position ORDER BY position) AS positions FROM kanban_tasks GROUP BY column_id',
  );
  for (const row of rows) expect(row.positions).toEqual(row.positions.map((_, i) => i));
  return board;
}

describe('concurrent task changes', () => {
  it('20 concurrent moves across and within columns all succeed and keep positions dense', async () => {
    const { columnIds, taskIds } = await setUp(3, 5);
    const next = random(42);
    for (let round = 0; round < 3; round++) {
      const moves = Array.from({ length: 20 }, () => {
        const body = next(3) === 0 ? { position: next(6) } : { columnId: columnIds[next(columnIds.length)], position: next(7) };
        return app.api('PATCH', `/api/kanban/tasks/${taskIds[next(taskIds.length)]}`, body);
      });
      const responses = await Promise.all(moves);
      expect(responses.map((response) => response.status)).toEqual(responses.map(() => 200));
      const board = await expectDense();
      expect(board.flatMap((column) => column.tasks.map((task) => task.id)).sort((a, b) => a - b)).toEqual(taskIds);
    }
  });

  it('the same task moved by 20 requests at once ends where the last one put it, once', async () => {
    const { columnIds, taskIds } = await setUp(2, 3);
    const target = taskIds[0]!;
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => app.api('PATCH', `/api/kanban/tasks/${target}`, { columnId: columnIds[i % 2], position: i % 4 })),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);
    const board = await expectDense();
    expect(board.flatMap((column) => column.tasks).filter((task) => task.id === target)).toHaveLength(1);
    expect(board.flatMap((column) => column.tasks)).toHaveLength(6);
  });

  it('20 concurrent creates in one column get positions 0..19', async () => {
    const { columnIds } = await setUp(1, 0);
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => app.api('POST', '/api/kanban/tasks', { columnId: columnIds[0], title: `new ${i}` })),
    );
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 201));
    expect(responses.map((response) => response.body.position).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    const [column] = await expectDense();
    expect(column!.tasks).toHaveLength(20);
  });

  it('creates, moves and deletes racing each other leave every column dense', async () => {
    const { columnIds, taskIds } = await setUp(3, 4);
    const next = random(7);
    const toDelete = new Set([taskIds[1]!, taskIds[5]!, taskIds[9]!, taskIds[10]!]);
    const requests = [
      ...[...toDelete].map((id) => app.api('DELETE', `/api/kanban/tasks/${id}`)),
      ...Array.from({ length: 6 }, (_, i) => app.api('POST', '/api/kanban/tasks', { columnId: columnIds[i % 3], title: `late ${i}` })),
      ...Array.from({ length: 14 }, () =>
        app.api('PATCH', `/api/kanban/tasks/${taskIds[next(taskIds.length)]}`, { columnId: columnIds[next(3)], position: next(6) }),
      ),
    ];
    const statuses = (await Promise.all(requests)).map((response) => response.status);
    // A move of a task that a racing DELETE removed first is a 404; nothing else may fail.
    expect(statuses.filter((status) => ![200, 201, 204, 404].includes(status))).toEqual([]);
    expect(statuses.slice(0, toDelete.size)).toEqual([204, 204, 204, 204]);
    const board = await expectDense();
    expect(board.flatMap((column) => column.tasks)).toHaveLength(12 - toDelete.size + 6);
  });

  it('a column deleted while its tasks are being moved leaves the rest of the board dense', async () => {
    const { columnIds, taskIds } = await setUp(3, 4);
    const next = random(99);
    const requests = [
      app.api('DELETE', `/api/kanban/columns/${columnIds[1]}`),
      ...Array.from({ length: 19 }, () =>
        app.api('PATCH', `/api/kanban/tasks/${taskIds[next(taskIds.length)]}`, { columnId: columnIds[next(3)], position: next(5) }),
      ),
    ];
    const statuses = (await Promise.all(requests)).map((response) => response.status);
    expect(statuses[0]).toBe(204);
    // Moves into the deleted column get 422, moves of its deleted tasks 404.
    expect(statuses.slice(1).filter((status) => ![200, 404, 422].includes(status))).toEqual([]);
    const board = await expectDense();
    expect(board.map((column) => column.position)).toEqual([0, 1]);
  });
});

describe('concurrent column changes', () => {
  it('20 concurrent column creates get positions 0..19', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => app.api('POST', '/api/kanban/columns', { title: `col ${i}` })));
    expect(responses.map((response) => response.status)).toEqual(responses.map(() => 201));
    const board = await expectDense();
    expect(board.map((column) => column.position)).toEqual([...Array(20).keys()]);
  });

  it('concurrent reorders, creates and deletes of columns keep column positions dense', async () => {
    const { columnIds } = await setUp(6, 1);
    const next = random(3);
    const requests = [
      app.api('DELETE', `/api/kanban/columns/${columnIds[2]}`),
      app.api('POST', '/api/kanban/columns', { title: 'new' }),
      ...Array.from({ length: 18 }, () => app.api('PATCH', `/api/kanban/columns/${columnIds[next(6)]}`, { position: next(7) })),
    ];
    const statuses = (await Promise.all(requests)).map((response) => response.status);
    expect(statuses.filter((status) => ![200, 201, 204, 404].includes(status))).toEqual([]);
    const board = await expectDense();
    expect(board.map((column) => column.position)).toEqual([0, 1, 2, 3, 4, 5]);
  });
});
