import { createServer, type Server } from 'node:http';
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

/** A free loopback port, for a server whose port must be known before it starts (it is in a URL). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listen(server, 0, '127.0.0.1', 'free port');
  await closeServer(server);
  return port;
}

/**
 * Starts something on a port from `freePort`, again on another port if that one was taken in the
 * meantime (another process, or a client's ephemeral port, can take it between the two calls).
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (!isPortTaken(error) || attempt >= attempts) throw error;
    }
  }
}

/** Whether `listen` failed because the port was taken. */
export function isPortTaken(error: unknown): boolean {
  return (error as { cause?: { code?: unknown } } | undefined)?.cause?.code === 'EADDRINUSE';
}
