// GET /health for the supervisor and the platform: 200 once `SELECT 1` succeeds, 503 otherwise.
import { Router } from 'express';
import type { AppDeps } from '../app.js';
import { AppError, ErrorCodes, errorBody } from '../errors.js';

export function healthRouter(deps: AppDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    res.set('cache-control', 'no-store');
    try {
      await deps.db.ping();
      res.json({ status: 'ok' });
    } catch (error) {
      deps.logger.warn({ event: 'health_failed', err: error }, 'database check failed');
      res.status(503).set('retry-after', '5').json(errorBody(new AppError(ErrorCodes.DB_UNAVAILABLE, 'The database is unavailable')));
    }
  });
  return router;
}
