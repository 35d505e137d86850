// Cancels the statement a connection is running, as psql's Ctrl-C does: a CancelRequest carrying the connection's
// process id and secret key (which pg keeps from the server's BackendKeyData), sent on a connection of its own.
// The server cancels exactly that session's statement; a pooler (PgBouncer) passes the request on to the server
// session that runs it. Used when a stop comes while a migration runs: its transaction then rolls back at once,
// before the migration lock goes (a backend notices a vanished client only when it next reads or writes).
import net from 'node:net';
import type pg from 'pg';

const CANCEL_REQUEST_CODE = 80877102;

interface BackendKey {
  readonly processID: number | null;
  readonly secretKey: number | null;
}

/** Where `databaseUrl` points: host and port, or a Unix socket's path (`?host=/var/run/postgresql`). */
function serverAddress(databaseUrl: string): net.NetConnectOpts {
  const url = new URL(databaseUrl);
  const port = Number(url.port || 5432);
  const socketDir = url.searchParams.get('host');
  if (socketDir?.startsWith('/')) return { path: `${socketDir}/.s.PGSQL.${port}` };
  return { host: url.hostname.replace(/^\[|\]$/g, '') || 'localhost', port };
}

/**
 * Sends a CancelRequest for `client`'s running statement; resolves once the server has taken it (it closes the
 * connection) or after `timeoutMs`. Resolves at once when the client has no key (never connected).
 */
export function cancelRunningStatement(client: pg.ClientBase, databaseUrl: string, timeoutMs: number): Promise<void> {
  const { processID, secretKey } = client as unknown as BackendKey;
  if (processID === null || secretKey === null) return Promise.resolve();
  const request = Buffer.alloc(16);
  request.writeInt32BE(16, 0);
  request.writeInt32BE(CANCEL_REQUEST_CODE, 4);
  request.writeInt32BE(processID, 8);
  request.writeInt32BE(secretKey, 12);
  return new Promise((resolve) => {
    const socket = net.connect(serverAddress(databaseUrl), () => socket.end(request));
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('error', done);
    socket.on('close', done);
    socket.resume();
  });
}
