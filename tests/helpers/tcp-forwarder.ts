import { once } from 'node:events';
import net from 'node:net';

/** A TCP forwarder to a real server that starts listening only when `open()` is called. */
export interface DelayedForwarder {
  readonly port: number;
  open(): Promise<void>;
  close(): Promise<void>;
}

export function createDelayedForwarder(port: number, target: { host: string; port: number }): DelayedForwarder {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  return {
    port,
    async open() {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}
