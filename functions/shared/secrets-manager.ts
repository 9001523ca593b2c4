/**
 * Secrets Manager's GetSecretValue, and nothing else, as the SDK sends it: the service's JSON 1.1
 * protocol over HTTPS, signed with Signature Version 4 by `@smithy/signature-v4` (the SDK's own
 * signer) with the function's credentials from its environment (`@aws-sdk/credential-provider-env`,
 * the SDK's provider: Lambda puts the execution role's credentials there).
 *
 * Why not `@aws-sdk/client-secrets-manager`: its client brings the credential provider chain, nested
 * STS/SSO clients and the SDK's HTTP stack, about 100 ms of a cold start that every sign-in function
 * paid on its first request (README "Performance"). One signed POST needs none of that. The contract
 * test (test/unit/shared/secrets-manager-contract.test.ts) runs the same recorded exchanges through
 * the SDK's client and this one and requires the same outputs, error names, messages and attempts.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { type AwsJsonCallOptions, callAwsJson } from './aws-json.ts';
import type { UpstreamTransport } from './upstream-http.ts';

export interface SecretsManagerOptions {
  region: string;
  /**
   * Endpoint override: `AWS_ENDPOINT_URL_SECRETS_MANAGER`, as the SDK reads it
   * (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html). Undefined in AWS.
   */
  endpoint?: string | undefined;
  timeoutMs: number;
  /** Default: the Lambda environment's credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). */
  credentials?: AwsCredentialIdentityProvider;
  transport?: UpstreamTransport;
  /** Pause between attempts (tests pass one that does not wait). */
  pause?: AwsJsonCallOptions['pause'];
}

/** The fields of GetSecretValue's answer the broker reads (the SDK's output has more). */
interface SecretValue {
  ARN?: string;
  Name?: string;
  VersionId?: string;
  SecretString?: string;
  SecretBinary?: Uint8Array;
  $metadata: { httpStatusCode?: number; requestId?: string | undefined; attempts: number };
}

/** Reads secrets by id. @throws AwsServiceError named as the SDK names it (ResourceNotFoundException…). */
export type GetSecretValue = (secretId: string) => Promise<SecretValue>;

export function createGetSecretValue(options: SecretsManagerOptions): GetSecretValue {
  const url = options.endpoint ?? `https://secretsmanager.${options.region}.amazonaws.com/`;
  const signer = new SignatureV4({
    service: 'secretsmanager',
    region: options.region,
    credentials: options.credentials ?? fromEnv(),
    sha256: Hash.bind(null, 'sha256'),
  });
  const call = callAwsJson({
    url,
    target: 'secretsmanager',
    timeoutMs: options.timeoutMs,
    sign: (request) => signer.sign(request),
    ...(options.transport ? { transport: options.transport } : {}),
    ...(options.pause ? { pause: options.pause } : {}),
  });
  return async (secretId) => {
    const out = await call('GetSecretValue', { SecretId: secretId });
    const value: SecretValue = { $metadata: out.$metadata as SecretValue['$metadata'] };
    for (const key of ['ARN', 'Name', 'VersionId', 'SecretString'] as const) {
      if (typeof out[key] === 'string') value[key] = out[key];
    }
    // Binary secrets arrive base64-encoded, as the SDK decodes them.
    if (typeof out.SecretBinary === 'string') value.SecretBinary = Buffer.from(out.SecretBinary, 'base64');
    return value;
  };
}
