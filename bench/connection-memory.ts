// Memory per client connection, through each proxy side by side: idle keep-alive connections (one request
// answered, then nothing), connections that never finish their request header (slowloris), and open WebSockets.
// Each kind is opened, measured as the growth of the proxy's RSS per connection, closed, and measured again after
// a pause: what is left over is memory the process kept after the flood. For `direct`, the process is the app.
import { once } from 'node:events';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { rssMb } from './processes.js';

/** nginx in the bench has 1,024 connections a worker: stay below it. */
const CONNECTIONS = 800;
const SETTLE_MS = 2_000;
const AFTER_CLOSE_MS = 10_000;

export type ConnectionKind = 'idle keep-alive' | 'slowloris' | 'WebSocket';
export const CONNECTION_KINDS: readonly ConnectionKind[] = ['idle keep-alive', 'slowloris', 'WebSocket'];

export interface ConnectionMemoryRow {
  readonly kind: ConnectionKind;
  readonly via: string;
  /** RSS growth per open connection, KB. */
  readonly perConnectionKb: number;
  /** RSS above the level before the connections, AFTER_CLOSE_MS after they closed, MB. */
  readonly keptAfterMb: number;
}

const OPENING: Readonly<Record<ConnectionKind, string>> = {
  'idle keep-alive': 'GET /small HTTP/1.1\r\nHost: bench\r\n\r\n',
  slowloris: 'GET /small HTTP/1.1\r\nHost: bench\r\n',
  WebSocket: 'GET /ws HTTP/1.1\r\nHost: bench\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
};

async function open(port: number, kind: ConnectionKind): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  for (let i = 0; i < CONNECTIONS; i += 100) {
    const batch = Array.from({ length: Math.min(100, CONNECTIONS - i) }, () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => {});
      socket.on('data', () => {});
      socket.write(OPENING[kind]);
      sockets.push(socket);
      return once(socket, 'connect').catch(() => {});
    });
    await Promise.all(batch);
  }
  return sockets;
}

/** One kind of connection against one target whose memory is `pid`'s. */
export async function measureConnectionMemory(kind: ConnectionKind, via: string, port: number, pid: number): Promise<ConnectionMemoryRow> {
  const before = rssMb(pid);
  const sockets = await open(port, kind);
  await sleep(SETTLE_MS);
  const opened = rssMb(pid);
  for (const socket of sockets) socket.destroy();
  await sleep(AFTER_CLOSE_MS);
  return { kind, via, perConnectionKb: ((opened - before) * 1024) / CONNECTIONS, keptAfterMb: rssMb(pid) - before };
}
