// Messages: the feed, read newest first, and new posts with their `message.created` activity.
import type pg from 'pg';
import { recordActivity, type Activity } from './activities.js';
import { newestFirst, type PageRequest } from './pagination.js';

export interface Message {
  readonly id: number;
  readonly author: string;
  readonly body: string;
  readonly createdAt: Date;
}

const COLUMNS = 'id, author, body, created_at AS "createdAt"';

/** Newest first; undefined when `before` names no message. */
export function listMessages(client: pg.ClientBase | pg.Pool, page: PageRequest): Promise<Message[] | undefined> {
  return newestFirst<Message>(client, 'messages', COLUMNS, page);
}

export async function createMessage(
  client: pg.ClientBase,
  input: { author: string; body: string },
): Promise<{ row: Message; activity: Activity }> {
  const { rows } = await client.query<Message>(`INSERT INTO messages (author, body) VALUES ($1, $2) RETURNING ${COLUMNS}`, [
    input.author,
    input.body,
  ]);
  const row = rows[0]!;
  const activity = await recordActivity(client, 'message.created', 'message', row.id, { author: row.author });
  return { row, activity };
}
