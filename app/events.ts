// In-process fan-out of committed changes to whoever listens (the WebSocket server).
import type { Activity } from './store/activities.js';

/** One committed change, as sent to WebSocket clients: `type` is the activity type, `data` the changed row. */
export interface ChangeEvent {
  readonly type: string;
  readonly data: unknown;
  readonly activity: Activity;
}

export interface EventHub {
  publish(event: ChangeEvent): void;
  /** Returns the function that unsubscribes. */
  subscribe(listener: (event: ChangeEvent) => void): () => void;
}

export function createEventHub(): EventHub {
  const listeners = new Set<(event: ChangeEvent) => void>();
  return {
    publish(event) {
      for (const listener of listeners) listener(event);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
