// A server that speaks just enough of PostgreSQL's protocol to let a client connect (AuthenticationOk, then
// ReadyForQuery) and then never answers a query: a database reached through a partition after connect, or a
// pooler queuing while its server is gone.
import { once } from 'node:events';
import net from 'node:net';

export interface SilentPostgres {
  readonly url: string;
  /** Queries received so far (their text), to show that the client got as far as asking. */
  readonly queries: string[];
  close(): Promise<void>;
}

const AUTHENTICATION_OK = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
const READY_FOR_QUERY = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);

export async function startSilentPostgres(): Promise<SilentPostgres> {
  const queries: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let startedUp = false;
    socket.on('data', (data: Buffer) => {
      if (!startedUp) {
        startedUp = true;
        socket.write(Buffer.concat([AUTHENTICATION_OK, READY_FOR_QUERY]));
        return;
      }
      // A simple query: 'Q', length, text, NUL.
      if (data[0] === 0x51) queries.push(data.subarray(5, data.length - 1).toString('utf8'));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `postgres://silent:silent@127.0.0.1:${port}/silent`,
    queries,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
