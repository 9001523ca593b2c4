import type { Agent } from 'node:http';
import {
  type CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import { agentFor, type UpstreamResponse, type UpstreamTransport, upstreamRequest } from './upstream-http.ts';

/**
 * What the broker needs of a Cognito Identity client: `send` for GetId and GetCredentialsForIdentity,
 * and `destroy` to close its connections. The SDK's `CognitoIdentityClient` is one (tests pass it,
 * mocked with aws-sdk-client-mock).
 */
export type IdentityClient = Pick<CognitoIdentityClient, 'send' | 'destroy'>;

/** Network failures worth one more attempt: a kept-alive socket that died while Lambda froze the process. */
const retryableNetworkCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT']);

/** An error as the SDK's JSON 1.1 deserializer would throw it (translateIdentityError reads `name`). */
class IdentityServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId: string | undefined; attempts: number };
  constructor(
    name: string,
    message: string,
    status: number,
    requestId: string | undefined,
    attempts: number,
  ) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId, attempts };
  }
}

/** `NotAuthorizedException` from `x-amzn-errortype` (`Type:uri`) or `__type` (`namespace#Type`). */
function errorTypeOf(response: UpstreamResponse, body: Record<string, unknown> | undefined): string {
  const raw = String(response.headers['x-amzn-errortype'] ?? body?.__type ?? body?.code ?? '');
  const type = raw.split(':')[0]?.split('#').pop() ?? '';
  return type === '' ? (response.status >= 500 ? 'InternalErrorException' : 'UnknownError') : type;
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Cognito Identity client, created once per container. GetId and GetCredentialsForIdentity are
 * unauthenticated calls (the logins map is the credential), so this client is the service's JSON 1.1
 * protocol over HTTPS and nothing else: no credential provider chain, no signer, no retry middleware.
 * That is what keeps /credentials' cold start small: the SDK's client class brings ~300 KB and ~110 ms
 * of import (credential providers, nested STS/SSO clients, HTTP/2) that these two calls never use
 * (README "Performance"). Commands, inputs and outputs are the SDK's, so callers and tests are the
 * same with either client. `endpoint` points at the offline stand-in.
 *
 * One retry, after a short random pause, for a dropped connection or a 5xx answer; throttling is not
 * retried (the caller gets 429 with Retry-After at once, instead of adding load to a spent quota).
 */
export function createIdentityClient(options: {
  region: string;
  endpoint?: string | undefined;
  timeoutMs: number;
  transport?: UpstreamTransport;
}): IdentityClient {
  const url = options.endpoint ?? `https://cognito-identity.${options.region}.amazonaws.com/`;
  const transport = options.transport ?? upstreamRequest;
  let agent: Agent | undefined;
  const connectionPool = () => {
    agent ??= agentFor(url);
    return agent;
  };
  const userAgent = `federation-broker cognito-identity (node ${process.version})`;

  const call = async (operation: string, input: object): Promise<Record<string, unknown>> => {
    const request = {
      method: 'POST' as const,
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `AWSCognitoIdentityService.${operation}`,
        'user-agent': userAgent,
      },
      body: JSON.stringify(input),
      timeoutMs: options.timeoutMs,
      agent: connectionPool(),
    };
    for (let attempt = 1; ; attempt++) {
      let response: UpstreamResponse;
      try {
        response = await transport(url, request);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt < 2 && typeof code === 'string' && retryableNetworkCodes.has(code)) {
          await pause();
          continue;
        }
        throw error;
      }
      const body = parseJson(response.body);
      if (response.status === 200 && body !== undefined)
        return { ...body, $metadata: metadata(response, attempt) };
      if (attempt < 2 && response.status >= 500) {
        await pause();
        continue;
      }
      throw new IdentityServiceError(
        errorTypeOf(response, body),
        String(body?.message ?? body?.Message ?? `HTTP ${response.status}`),
        response.status,
        requestIdOf(response),
        attempt,
      );
    }
  };

  const send = async (command: unknown) => {
    if (command instanceof GetIdCommand) return call('GetId', command.input);
    if (command instanceof GetCredentialsForIdentityCommand) {
      const out = await call('GetCredentialsForIdentity', command.input);
      const credentials = out.Credentials as Record<string, unknown> | undefined;
      // The wire format has epoch seconds; the SDK's output type (and our callers) have a Date.
      if (credentials && typeof credentials.Expiration === 'number') {
        credentials.Expiration = new Date(credentials.Expiration * 1000);
      }
      return out;
    }
    throw new Error('this Cognito Identity client sends GetId and GetCredentialsForIdentity only');
  };
  return {
    send: send as IdentityClient['send'],
    destroy() {
      agent?.destroy();
      agent = undefined;
    },
  };
}

function requestIdOf(response: UpstreamResponse): string | undefined {
  const id = response.headers['x-amzn-requestid'];
  return typeof id === 'string' ? id : undefined;
}

function metadata(response: UpstreamResponse, attempts: number) {
  return { httpStatusCode: response.status, requestId: requestIdOf(response), attempts };
}

/** 20-100 ms: long enough for a new connection, short against the functions' 10 s Timeout. */
function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
}

/** The container's Cognito Identity client for a function's configuration. */
export function identityClientFor(config: {
  region: string;
  cognitoIdentityEndpoint: string | undefined;
  upstreamTimeoutMs: number;
}): IdentityClient {
  return createIdentityClient({
    region: config.region,
    endpoint: config.cognitoIdentityEndpoint,
    timeoutMs: config.upstreamTimeoutMs,
  });
}
