// /api/kanban: the board, its columns and its tasks.
import { Router } from 'express';
import type { AppDeps } from '../app.js';
import { commitChange } from '../changes.js';
import { notFound } from '../errors.js';
import { createColumn, deleteColumn, readBoard, updateColumn } from '../store/kanban-columns.js';
import { createTask, deleteTask, updateTask } from '../store/kanban-tasks.js';
import { columnCreateBody, columnUpdateBody, idParams, parse, taskCreateBody, taskUpdateBody } from '../validation.js';

export function kanbanRouter(deps: AppDeps): Router {
  const router = Router();

  router.get('/columns', async (_req, res) => {
    res.json(await deps.db.transaction(readBoard, { isolation: 'repeatable read', readOnly: true }));
  });

  router.post('/columns', async (req, res) => {
    const input = parse(columnCreateBody, req.body, 'body');
    res.status(201).json(await commitChange(deps, (client) => createColumn(client, input)));
  });

  router.patch('/columns/:id', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const input = parse(columnUpdateBody, req.body, 'body');
    const column = await commitChange(deps, (client) => updateColumn(client, id, input));
    if (!column) throw notFound('column', id);
    res.json(column);
  });

  router.delete('/columns/:id', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const column = await commitChange(deps, (client) => deleteColumn(client, id));
    if (!column) throw notFound('column', id);
    res.status(204).end();
  });

  router.post('/tasks', async (req, res) => {
    const input = parse(taskCreateBody, req.body, 'body');
    res.status(201).json(await commitChange(deps, (client) => createTask(client, input)));
  });

  router.patch('/tasks/:id', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const input = parse(taskUpdateBody, req.body, 'body');
    const task = await commitChange(deps, (client) => updateTask(client, id, input));
    if (!task) throw notFound('task', id);
    res.json(task);
  });

  router.delete('/tasks/:id', async (req, res) => {
    const { id } = parse(idParams, req.params, 'params');
    const task = await commitChange(deps, (client) => deleteTask(client, id));
    if (!task) throw notFound('task', id);
    res.status(204).end();
  });

  return router;
}
