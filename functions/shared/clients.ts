import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';

/**
 * The Cognito Identity client, created once per container. GetId and GetCredentialsForIdentity are
 * unauthenticated APIs, so no credentials are resolved. `endpoint` points at the offline stand-in.
 */
export function createIdentityClient(options: {
  region: string;
  endpoint?: string | undefined;
  timeoutMs: number;
}): CognitoIdentityClient {
  return new CognitoIdentityClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    // One retry: the API Gateway integration has a 30 s budget and callers retry on 5xx themselves.
    maxAttempts: 2,
    requestHandler: {
      connectionTimeout: Math.min(1_000, options.timeoutMs),
      requestTimeout: options.timeoutMs,
    },
  });
}
