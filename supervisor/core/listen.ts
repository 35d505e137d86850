// Binding a port for the supervisor's servers (the public port, METRICS_PORT): a port that is taken is an
// operator's mistake with a code of its own, named by the setting that chose it.
import type { Server } from 'node:net';
import { ErrorCodes, SupervisorError } from './errors.js';

/**
 * Binds `server` to `host:port`; resolves once it listens. Rejects with SUP_ERR_PORT_IN_USE when the port is
 * taken (naming `settingName`, e.g. `PORT`), with the listen error as it is otherwise.
 */
export async function listen(server: Server, port: number, host: string, settingName: string): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new SupervisorError(ErrorCodes.PORT_IN_USE, `${settingName} ${port} on ${host} is already in use`, {
      cause: error,
      hint: `Stop the other process or set ${settingName} to a free port.`,
    });
  }
}
