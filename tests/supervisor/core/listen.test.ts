// Binding the supervisor's ports: a port that is taken is SUP_ERR_PORT_IN_USE, named by its setting.
import { once } from 'node:events';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen } from '../../../supervisor/core/listen.js';

const servers: net.Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

function server(): net.Server {
  const created = net.createServer();
  servers.push(created);
  return created;
}

describe('listen', () => {
  it('binds the port and resolves once the server listens', async () => {
    const bound = server();
    await listen(bound, 0, '127.0.0.1', 'PORT');
    expect(bound.listening).toBe(true);
  });

  it('rejects with SUP_ERR_PORT_IN_USE naming the setting when the port is taken', async () => {
    const taken = server();
    taken.listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as net.AddressInfo;

    const second = server();
    await expect(listen(second, port, '127.0.0.1', 'METRICS_PORT')).rejects.toMatchObject({
      name: 'SupervisorError',
      code: 'SUP_ERR_PORT_IN_USE',
      message: `METRICS_PORT ${port} on 127.0.0.1 is already in use`,
      hint: 'Stop the other process or set METRICS_PORT to a free port.',
      cause: { code: 'EADDRINUSE' },
    });
    expect(second.listening).toBe(false);
    expect(second.listenerCount('error')).toBe(0);
  });

  it('passes any other listen error on as it is', async () => {
    // TEST-NET-3: an address no interface here has.
    await expect(listen(server(), 0, '203.0.113.7', 'PORT')).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
  });
});
