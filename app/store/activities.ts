// The activity log: one row per change, written on the change's own connection inside its transaction.
import type pg from 'pg';
import { newestFirst, type PageRequest } from './pagination.js';

export type ActivityType =
  | 'message.created'
  | 'column.created'
  | 'column.updated'
  | 'column.deleted'
  | 'task.created'
  | 'task.updated'
  | 'task.moved'
  | 'task.deleted';

export type EntityType = 'message' | 'column' | 'task';

export interface Activity {
  readonly id: number;
  readonly type: ActivityType;
  readonly entityType: EntityType;
  readonly entityId: number;
  readonly payload: Record<string, unknown>;
  readonly createdAt: Date;
}

const COLUMNS = 'id, type, entity_type AS "entityType", entity_id AS "entityId", payload, created_at AS "createdAt"';

export async function recordActivity(
  client: pg.ClientBase,
  type: ActivityType,
  entityType: EntityType,
  entityId: number,
  payload: Record<string, unknown>,
): Promise<Activity> {
  const { rows } = await client.query<Activity>(
    `INSERT INTO activities (type, entity_type, entity_id, payload) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
    [type, entityType, entityId, JSON.stringify(payload)],
  );
  return rows[0]!;
}

/** Newest first; undefined when `before` names no activity. */
export function listActivities(client: pg.ClientBase | pg.Pool, page: PageRequest): Promise<Activity[] | undefined> {
  return newestFirst<Activity>(client, 'activities', COLUMNS, page);
}
