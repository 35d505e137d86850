// The public port's client connections, oldest first, within a budget (HTTP_MAX_CONNECTIONS). A connection takes
// a descriptor, and one more for its request to the app while one is under way: past the process's descriptor
// limit the supervisor could no longer reach the app while /health still said ready. At the budget, a new
// connection makes room by closing the oldest connection that holds no request (an idle keep-alive, or one that
// has not sent a whole request header yet), as nginx reuses connections when it runs short; only when every
// connection is busy is the new one refused.
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';

// Descriptors kept for everything but client connections and their requests: the database, logs, the app's pipes,
// the metrics port, files.
const RESERVED_DESCRIPTORS = 64;
// Where the limit cannot be read (not Linux): the common default soft limit.
const FALLBACK_DESCRIPTOR_LIMIT = 1024;

/** The process's descriptor limit as Node runs with it (Node raises the soft limit to the hard one at start). */
function descriptorLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('Max open files'));
    const soft = Number(line?.split(/\s{2,}/)[1]);
    return Number.isSafeInteger(soft) && soft > 0 ? soft : FALLBACK_DESCRIPTOR_LIMIT;
  } catch {
    return FALLBACK_DESCRIPTOR_LIMIT;
  }
}

/** HTTP_MAX_CONNECTIONS's default: two descriptors a connection (it and its request to the app) within the limit. */
export function defaultMaxConnections(): number {
  return Math.max(16, Math.floor((descriptorLimit() - RESERVED_DESCRIPTORS) / 2));
}

export interface ConnectionBudgetOptions {
  readonly server: Server;
  readonly maxConnections: number;
  /** True for a connection that became a WebSocket tunnel: it is never idle in the budget's sense. */
  readonly isTunnel: (socket: Socket) => boolean;
  readonly logger: Logger;
}

export interface ClientConnections extends Iterable<Socket> {
  readonly open: number;
  /** Connections closed to make room, and new ones refused because none could be, since the start. */
  readonly shed: number;
  readonly refused: number;
  stop(): void;
}

// A connection holds no request when Node has no response on it (`_httpMessage`, set from a request's arrival to
// its response's end); an upgraded one is the tunnel's.
function holdsNoRequest(socket: Socket, isTunnel: (socket: Socket) => boolean): boolean {
  return (socket as { _httpMessage?: unknown })._httpMessage == null && !isTunnel(socket);
}

/** Tracks the server's connections and keeps them within `maxConnections`. */
export function budgetConnections(options: ConnectionBudgetOptions): ClientConnections {
  const { server, maxConnections, isTunnel, logger } = options;
  const connections = new Set<Socket>();
  let shed = 0;
  let refused = 0;
  let short = false;

  function makeRoom(): boolean {
    for (const socket of connections) {
      if (!holdsNoRequest(socket, isTunnel)) continue;
      connections.delete(socket);
      socket.destroy();
      shed++;
      return true;
    }
    return false;
  }

  function onConnection(socket: Socket): void {
    if (connections.size >= maxConnections) {
      if (!short) logger.warn({ event: 'connection_limit', limit: maxConnections }, `${maxConnections} client connections open: closing idle ones to make room`);
      short = true;
      if (!makeRoom()) {
        refused++;
        return void socket.destroy();
      }
    } else if (short && connections.size < maxConnections * 0.9) {
      short = false;
    }
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  }

  server.on('connection', onConnection);
  return {
    get open() {
      return connections.size;
    },
    get shed() {
      return shed;
    },
    get refused() {
      return refused;
    },
    [Symbol.iterator]: () => connections.values(),
    stop: () => void server.off('connection', onConnection),
  };
}
