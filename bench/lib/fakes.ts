/**
 * Zero-latency stand-ins for the warm benchmarks, in the benchmark's own process: Cognito Identity
 * answered below the client (so the client's own serialization is measured), and a `fetch` that
 * serves the issuer's JWKS and the user pool's /oauth2/token.
 */
import { Readable } from 'node:stream';
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import type { UpstreamTransport } from '#broker';

export interface CallCounter {
  GetId: number;
  GetCredentialsForIdentity: number;
  token: number;
  jwks: number;
}

export function newCounter(): CallCounter {
  return { GetId: 0, GetCredentialsForIdentity: 0, token: 0, jwks: 0 };
}

const credentialsBody = (identityId: string) => ({
  IdentityId: identityId,
  Credentials: {
    AccessKeyId: 'ASIAZEROLATENCY00001',
    SecretKey: 'zeroLatencySecretKey0000000000000000000000',
    // Real session tokens are ~1 KB; the response size is part of the work.
    SessionToken: 'IQoJb3JpZ2luX2VjE'.padEnd(1100, 'A'),
    Expiration: Math.floor(Date.now() / 1000) + 3600,
  },
});

/** Answers a Cognito Identity JSON 1.1 request body for `operation` (GetId or GetCredentialsForIdentity). */
function answerIdentity(
  operation: string,
  counter: CallCounter,
): { status: number; body: Record<string, unknown> } {
  if (operation === 'GetId') {
    counter.GetId += 1;
    const n = counter.GetId.toString(16).padStart(12, '0');
    return { status: 200, body: { IdentityId: `us-east-1:0b3e5c1a-1111-4222-8333-${n}` } };
  }
  if (operation === 'GetCredentialsForIdentity') {
    counter.GetCredentialsForIdentity += 1;
    return { status: 200, body: credentialsBody('us-east-1:0b3e5c1a-1111-4222-8333-000000000001') };
  }
  return { status: 400, body: { __type: 'UnknownOperationException' } };
}

/** For the broker's own client (functions/shared/clients.ts): the HTTP exchange, answered in-process. */
export function transportAnsweredInProcess(counter: CallCounter): UpstreamTransport {
  return async (_url, request) => {
    const operation = String(request.headers['x-amz-target']).split('.')[1] ?? '';
    const { status, body } = answerIdentity(operation, counter);
    return {
      status,
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'in-process' },
      body: JSON.stringify(body),
    };
  };
}

/** The real SDK client with its HTTP handler replaced: every middleware and (de)serializer still runs. */
export function sdkClientAnsweredInProcess(counter: CallCounter): CognitoIdentityClient {
  const requestHandler = {
    async handle(request: { headers: Record<string, string> }) {
      const operation = String(request.headers['x-amz-target']).split('.')[1] ?? '';
      const { status, body } = answerIdentity(operation, counter);
      return {
        response: {
          statusCode: status,
          headers: { 'content-type': 'application/x-amz-json-1.1' },
          body: Readable.from([Buffer.from(JSON.stringify(body))]),
        },
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  return new CognitoIdentityClient({
    region: 'us-east-1',
    maxAttempts: 2,
    requestHandler: requestHandler as unknown as NonNullable<
      ConstructorParameters<typeof CognitoIdentityClient>[0]
    >['requestHandler'],
  });
}

/** A fetch for the JWKS and /oauth2/token (always answering `idToken`), counting calls. */
export function fakeFetch(options: {
  jwksUri: string;
  jwks: unknown;
  tokenEndpoint: string;
  idToken: () => string;
  counter: CallCounter;
}): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url === options.jwksUri) {
      options.counter.jwks += 1;
      return Response.json(options.jwks);
    }
    if (url === options.tokenEndpoint) {
      options.counter.token += 1;
      return Response.json({
        id_token: options.idToken(),
        access_token: 'access',
        token_type: 'Bearer',
        expires_in: 3600,
      });
    }
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
}
