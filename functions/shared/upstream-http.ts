/**
 * One HTTP exchange with an upstream (Cognito Identity, an issuer's JWKS) over node:http/node:https.
 *
 * Why not `fetch`: its first call loads undici, about 20-30 ms of a cold start, and the AWS SDK's HTTP
 * stack costs more than that to import. node:https is what the SDK itself uses underneath, and a
 * request here is a few lines: the module of the URL's scheme is loaded on first use (so loopback
 * http in the offline stack never loads TLS), sockets are kept alive by Node's global agents, and
 * every call has a connection timeout and an overall timeout.
 */
import type { Agent, IncomingHttpHeaders, IncomingMessage } from 'node:http';

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** The whole exchange must finish within this (milliseconds). */
  timeoutMs: number;
  /** Establishing the connection must take at most this; default min(1000, timeoutMs). */
  connectTimeoutMs?: number;
  /** Larger answers are refused; default 1 MiB. */
  maxBytes?: number;
  /** Connection pool; default Node's global agent for the scheme (keep-alive). */
  agent?: Agent;
}

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Thrown when a timeout expires; `name` is `TimeoutError`, as fetch and the AWS SDK name it. */
export class UpstreamTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** `fetch`'s signature: what the token endpoint and the JWKS fetcher take, so tests can pass a fake. */
export type FetchLike = typeof fetch;

/** The transport a client uses; tests and the benchmark pass one answering in-process. */
export type UpstreamTransport = (url: string, request: UpstreamRequest) => Promise<UpstreamResponse>;

type RequestFunction = typeof import('node:http').request;

function requestFunctionFor(protocol: string): RequestFunction {
  if (protocol === 'https:') return process.getBuiltinModule('node:https').request;
  if (protocol === 'http:') return process.getBuiltinModule('node:http').request;
  throw new Error(`unsupported protocol ${protocol}`);
}

/**
 * Sends one request and reads the whole answer as UTF-8 text.
 *
 * @throws UpstreamTimeoutError (`TimeoutError`) when a timeout expires; the socket's own error
 *   (ECONNREFUSED, ECONNRESET…) when the connection fails; Error when the answer is too large.
 * @example const { status, body } = await upstreamRequest(url, { method: 'GET', headers: {}, timeoutMs: 3000 });
 */
/** A keep-alive connection pool for `url`'s scheme, for a client that can be closed. */
export function agentFor(url: string): Agent {
  const protocol = new URL(url).protocol;
  const { Agent: AgentClass } =
    protocol === 'https:' ? process.getBuiltinModule('node:https') : process.getBuiltinModule('node:http');
  return new AgentClass({ keepAlive: true });
}

export const upstreamRequest: UpstreamTransport = (url, options) => {
  const target = new URL(url);
  const send = requestFunctionFor(target.protocol);
  const maxBytes = options.maxBytes ?? 1_048_576;
  const connectTimeoutMs = options.connectTimeoutMs ?? Math.min(1_000, options.timeoutMs);
  return new Promise<UpstreamResponse>((resolve, reject) => {
    const req = send(target, {
      method: options.method,
      headers: options.headers,
      ...(options.agent ? { agent: options.agent } : {}),
    });
    // Settles once; the socket is torn down without an error of its own (the caller gets `error`).
    const fail = (error: Error) => {
      clearTimeout(overall);
      reject(error);
      req.destroy();
    };
    const overall = setTimeout(
      () => fail(new UpstreamTimeoutError(`${target.host} did not answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      const connecting = setTimeout(
        () =>
          fail(new UpstreamTimeoutError(`could not connect to ${target.host} within ${connectTimeoutMs} ms`)),
        connectTimeoutMs,
      );
      socket.once('connect', () => clearTimeout(connecting));
      socket.once('close', () => clearTimeout(connecting));
    });
    req.on('error', (error) => {
      clearTimeout(overall);
      reject(error);
    });
    req.on('response', (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) fail(new Error(`${target.host} answered more than ${maxBytes} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', (error) => fail(error));
      res.on('end', () => {
        clearTimeout(overall);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(options.body);
  });
};
