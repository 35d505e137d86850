// Builds the Express app from its dependencies, without listening (tests and server.ts do that).
import express, { type Express } from 'express';
import type { Logger } from 'pino';
import type { Database } from './db.js';
import type { EventHub } from './events.js';
import { errorHandler, routeNotFound } from './middleware/error-handler.js';
import { jsonBody } from './middleware/json-body.js';
import { requestLog } from './middleware/request-log.js';
import { activitiesRouter } from './routes/activities.js';
import { healthRouter } from './routes/health.js';
import { kanbanRouter } from './routes/kanban.js';
import { messagesRouter } from './routes/messages.js';
import { findPublicDir } from './static.js';

export interface AppDeps {
  readonly db: Database;
  readonly events: EventHub;
  readonly logger: Logger;
  /** Folder served at `/` (the board page). @default app/public, found at runtime */
  readonly publicDir?: string | undefined;
}

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');

  app.use(requestLog(deps.logger));
  app.use(healthRouter(deps));
  app.use('/api', jsonBody);
  app.use('/api/messages', messagesRouter(deps));
  app.use('/api/activities', activitiesRouter(deps));
  app.use('/api/kanban', kanbanRouter(deps));

  const publicDir = deps.publicDir ?? findPublicDir();
  if (publicDir) app.use(express.static(publicDir, { index: 'index.html' }));
  else deps.logger.warn({ event: 'no_public_dir' }, 'app/public not found; the board page is not served');

  app.use(routeNotFound);
  app.use(errorHandler(deps.logger));
  return app;
}
