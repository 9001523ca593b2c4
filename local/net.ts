import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Listens and returns the bound port.
 *
 * @throws Error naming the stand-in, host and port when the port is taken.
 */
export async function listen(server: Server, port: number, host: string, name: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`${name}: port ${port} on ${host} is already in use; choose another port`, {
              cause: error,
            })
          : error,
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

/** Stops listening and cuts open connections, including requests a fault keeps hanging. */
export async function closeServer(server: Server): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}
