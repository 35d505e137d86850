// Cuts connections that stall: a client that stops reading what it is sent (HTTP_SEND_TIMEOUT_MS, as nginx's
// send_timeout: the time between two writes that make progress, not the whole response) and a WebSocket tunnel
// with no byte in either direction (HTTP_WEBSOCKET_IDLE_TIMEOUT_MS, as nginx's proxy_read_timeout). One sweep over
// the open connections, a fraction of the shorter timeout apart: no timer per connection, none per write.
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

export interface StallWatchOptions {
  /** The client connections open now. */
  readonly connections: Iterable<Socket>;
  /** The WebSocket tunnels open now. */
  readonly tunnels: () => Iterable<Socket>;
  /** 0 disables. */
  readonly sendTimeoutMs: number;
  /** 0 disables. */
  readonly webSocketIdleTimeoutMs: number;
  readonly logger: Logger;
}

// What a connection had done at the last sweep that saw it change, and when.
interface Progress {
  readonly count: number;
  readonly since: number;
}
const kSent = Symbol('bytes sent to the client');
const kActivity = Symbol('bytes through the tunnel');
type WatchedSocket = Socket & { [kSent]?: Progress; [kActivity]?: Progress };

/** True when `count` has not moved for `timeoutMs` (as of `now`); records a move. */
function stalled(socket: WatchedSocket, key: typeof kSent | typeof kActivity, count: number, now: number, timeoutMs: number): boolean {
  const last = socket[key];
  if (last === undefined || last.count !== count) {
    socket[key] = { count, since: now };
    return false;
  }
  return now - last.since >= timeoutMs;
}

/** Starts the sweep; the returned function stops it. */
export function watchStalls(options: StallWatchOptions): () => void {
  const { sendTimeoutMs, webSocketIdleTimeoutMs, logger } = options;
  const shortest = Math.min(...[sendTimeoutMs, webSocketIdleTimeoutMs].filter((timeout) => timeout > 0));
  if (!Number.isFinite(shortest)) return () => {};

  function sweep(): void {
    const now = performance.now();
    if (sendTimeoutMs > 0) {
      for (const socket of options.connections as Iterable<WatchedSocket>) {
        const waiting = socket.writableLength;
        if (waiting === 0) {
          socket[kSent] = undefined;
          continue;
        }
        // Bytes the system took so far: what was written, less what still waits to go.
        if (stalled(socket, kSent, socket.bytesWritten - waiting, now, sendTimeoutMs)) {
          logger.info({ event: 'send_timeout', waitingBytes: waiting, afterMs: sendTimeoutMs }, `a client read nothing for ${sendTimeoutMs} ms; connection closed`);
          socket.destroy();
        }
      }
    }
    if (webSocketIdleTimeoutMs > 0) {
      for (const socket of options.tunnels() as Iterable<WatchedSocket>) {
        if (stalled(socket, kActivity, socket.bytesRead + socket.bytesWritten, now, webSocketIdleTimeoutMs)) {
          logger.debug({ event: 'websocket_idle_timeout', afterMs: webSocketIdleTimeoutMs }, `a WebSocket was idle for ${webSocketIdleTimeoutMs} ms; closed`);
          socket.destroy();
        }
      }
    }
  }

  const timer = setInterval(sweep, Math.min(1_000, Math.max(10, Math.floor(shortest / 20)))).unref();
  return () => clearInterval(timer);
}
