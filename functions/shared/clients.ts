import type { Agent } from 'node:http';
import {
  type CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import { type AwsJsonCallOptions, callAwsJson } from './aws-json.ts';
import { agentFor, type UpstreamTransport } from './upstream-http.ts';

/**
 * What the broker needs of a Cognito Identity client: `send` for GetId and GetCredentialsForIdentity,
 * and `destroy` to close its connections. The SDK's `CognitoIdentityClient` is one (tests pass it,
 * mocked with aws-sdk-client-mock).
 */
export type IdentityClient = Pick<CognitoIdentityClient, 'send' | 'destroy'>;

/**
 * The Cognito Identity client, created once per container. GetId and GetCredentialsForIdentity are
 * unauthenticated calls (the logins map is the credential), so this client is the service's JSON 1.1
 * protocol over HTTPS (aws-json.ts) and nothing else: no credential provider chain, no signer. That is
 * what keeps /credentials' cold start small: the SDK's client class brings ~300 KB and ~110 ms of
 * import (credential providers, nested STS/SSO clients, HTTP/2) that these two calls never use
 * (README "Performance"). Commands, inputs and outputs are the SDK's, and the contract test
 * (test/unit/shared/clients-contract.test.ts) runs the same recorded wire exchanges through the SDK's
 * CognitoIdentityClient and this one: same outputs, error names, messages and attempts. Retries are
 * the SDK's standard decision (5xx, throttling, dropped connections) with two attempts in all.
 * `endpoint` points at the offline stand-in.
 */
export function createIdentityClient(options: {
  region: string;
  endpoint?: string | undefined;
  timeoutMs: number;
  transport?: UpstreamTransport;
  /** Pause between attempts (tests pass one that does not wait). */
  pause?: AwsJsonCallOptions['pause'];
}): IdentityClient {
  const url = options.endpoint ?? `https://cognito-identity.${options.region}.amazonaws.com/`;
  let agent: Agent | undefined;
  const call = callAwsJson({
    url,
    target: 'AWSCognitoIdentityService',
    timeoutMs: options.timeoutMs,
    agent: () => {
      agent ??= agentFor(url);
      return agent;
    },
    ...(options.transport ? { transport: options.transport } : {}),
    ...(options.pause ? { pause: options.pause } : {}),
  });

  const send = async (command: unknown) => {
    if (command instanceof GetIdCommand) return call('GetId', command.input);
    if (command instanceof GetCredentialsForIdentityCommand) {
      const out = await call('GetCredentialsForIdentity', command.input);
      const credentials = out.Credentials as Record<string, unknown> | undefined;
      // The wire format has epoch seconds; the SDK's output type (and our callers) have a Date.
      if (credentials && typeof credentials.Expiration === 'number') {
        credentials.Expiration = new Date(Math.round(credentials.Expiration * 1000));
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
