// Runs one change in a transaction and, once it is committed, tells WebSocket clients about it.
import type pg from 'pg';
import type { Database } from './db.js';
import type { EventHub } from './events.js';
import type { Activity } from './store/activities.js';

/** What a store function returns for a change: the changed row and its activity (none when nothing changed). */
export interface Change<R> {
  readonly row: R;
  readonly activity: Activity | undefined;
}

/** The row, or undefined when `work` found nothing to change (the route answers 404). */
export async function commitChange<R>(
  deps: { readonly db: Database; readonly events: EventHub },
  work: (client: pg.PoolClient) => Promise<Change<R> | undefined>,
): Promise<R | undefined> {
  const change = await deps.db.transaction(work);
  if (!change) return undefined;
  if (change.activity) deps.events.publish({ type: change.activity.type, data: change.row, activity: change.activity });
  return change.row;
}
