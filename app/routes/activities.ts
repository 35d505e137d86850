// GET /api/activities: the log of every change, newest first.
import { Router } from 'express';
import type { AppDeps } from '../app.js';
import { notFound } from '../errors.js';
import { listActivities } from '../store/activities.js';
import { pageQuery, parse } from '../validation.js';

export function activitiesRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/', async (req, res) => {
    const page = parse(pageQuery, req.query, 'query');
    const activities = await listActivities(deps.db.pool, page);
    if (!activities) throw notFound('activity', page.before!);
    res.json(activities);
  });
  return router;
}
