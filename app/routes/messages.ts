// GET/POST /api/messages: the message feed.
import { Router } from 'express';
import type { AppDeps } from '../app.js';
import { commitChange } from '../changes.js';
import { notFound } from '../errors.js';
import { createMessage, listMessages } from '../store/messages.js';
import { messageBody, pageQuery, parse } from '../validation.js';

export function messagesRouter(deps: AppDeps): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const page = parse(pageQuery, req.query, 'query');
    const messages = await listMessages(deps.db.pool, page);
    if (!messages) throw notFound('message', page.before!);
    res.json(messages);
  });

  router.post('/', async (req, res) => {
    const input = parse(messageBody, req.body, 'body');
    const message = await commitChange(deps, (client) => createMessage(client, input));
    res.status(201).json(message);
  });

  return router;
}
