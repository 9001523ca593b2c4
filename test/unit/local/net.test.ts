import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, it } from 'node:test';
import { closeServer, isPortTaken, listen, onFreePort } from '../../../local/net.ts';

describe('ports for the offline stack', () => {
  it('listen names the server and the port when the port is taken', async () => {
    const holder = createServer();
    const port = await listen(holder, 0, '127.0.0.1', 'holder');
    try {
      const error = await listen(createServer(), port, '127.0.0.1', 'user pool stand-in').catch((e) => e);
      assert.match(
        (error as Error).message,
        new RegExp(`user pool stand-in: port ${port} .* already in use`),
      );
      assert.equal(isPortTaken(error), true);
    } finally {
      await closeServer(holder);
    }
  });

  it('onFreePort starts again on another port when the first was taken in the meantime', async () => {
    const holder = createServer();
    const taken = await listen(holder, 0, '127.0.0.1', 'holder');
    const tried: number[] = [];
    try {
      const result = await onFreePort(async (port) => {
        tried.push(port);
        // The first attempt is sent to the taken port, as if another process had won the race.
        const server = createServer();
        await listen(server, tried.length === 1 ? taken : port, '127.0.0.1', 'test');
        await closeServer(server);
        return port;
      });
      assert.equal(tried.length, 2);
      assert.equal(result, tried[1]);
    } finally {
      await closeServer(holder);
    }
  });

  it('onFreePort passes other errors on at once, and gives up after the attempts', async () => {
    let calls = 0;
    await assert.rejects(
      onFreePort(async () => {
        calls += 1;
        throw new Error('template.yaml is broken');
      }),
      /template.yaml is broken/,
    );
    assert.equal(calls, 1);

    calls = 0;
    const portTaken = new Error('taken', {
      cause: Object.assign(new Error('EADDRINUSE'), { code: 'EADDRINUSE' }),
    });
    await assert.rejects(
      onFreePort(async () => {
        calls += 1;
        throw portTaken;
      }, 3),
      (error) => error === portTaken,
    );
    assert.equal(calls, 3);
  });
});
