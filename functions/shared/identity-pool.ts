import { GetCredentialsForIdentityCommand, GetIdCommand } from '@aws-sdk/client-cognito-identity';
import type { IdentityClient } from './clients.ts';
import {
  BrokerError,
  ConfigError,
  InvalidTokenError,
  ThrottledError,
  TokenExpiredError,
  UpstreamError,
} from './errors.ts';
import { upstreamCall } from './metrics.ts';

/** Temporary AWS credentials, as the identity pool returns them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface IdentityPoolInput {
  identityPoolId: string;
  /** Logins-map key: the issuer without scheme, e.g. cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123. */
  loginsKey: string;
  idToken: string;
}

/**
 * The logins-map key for a verified issuer: its URL without the scheme, exactly as identity pools
 * compare it (`Issuer doesn't match providerName` otherwise).
 */
export function loginsKeyFor(issuer: string): string {
  return issuer.replace(/^https?:\/\//, '');
}

/** `GetId`: the identity id of this login (stable for the same user, so callers cache it). */
export function getIdentityId(client: IdentityClient, input: IdentityPoolInput): Promise<string> {
  return upstreamCall('GetId', () => sendGetId(client, input));
}

async function sendGetId(client: IdentityClient, input: IdentityPoolInput): Promise<string> {
  try {
    const out = await client.send(
      new GetIdCommand({
        IdentityPoolId: input.identityPoolId,
        Logins: { [input.loginsKey]: input.idToken },
      }),
    );
    if (!out.IdentityId) throw new UpstreamError('The identity pool returned no identity id');
    return out.IdentityId;
  } catch (error) {
    throw translateIdentityError(error, 'GetId');
  }
}

/** `GetCredentialsForIdentity` for an identity id obtained with the same login. */
export function getCredentialsForIdentity(
  client: IdentityClient,
  identityId: string,
  input: IdentityPoolInput,
): Promise<AwsCredentials> {
  return upstreamCall('GetCredentialsForIdentity', () => sendGetCredentials(client, identityId, input));
}

async function sendGetCredentials(
  client: IdentityClient,
  identityId: string,
  input: IdentityPoolInput,
): Promise<AwsCredentials> {
  try {
    const out = await client.send(
      new GetCredentialsForIdentityCommand({
        IdentityId: identityId,
        Logins: { [input.loginsKey]: input.idToken },
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretKey || !c.SessionToken || !c.Expiration) {
      throw new UpstreamError('The identity pool returned incomplete credentials');
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  } catch (error) {
    throw translateIdentityError(error, 'GetCredentialsForIdentity');
  }
}

/** Thrown when a cached identity id no longer exists (identity deleted or merged). */
export class IdentityNotFoundError extends UpstreamError {
  constructor(cause: unknown) {
    super('The identity no longer exists', { code: 'identity_not_found', cause });
  }
}

/**
 * Maps every Cognito Identity exception on purpose. Messages are written for the caller; the
 * `hint` (logged only) tells an operator which setting to check.
 */
function translateIdentityError(error: unknown, operation: 'GetId' | 'GetCredentialsForIdentity'): Error {
  if (error instanceof BrokerError) return error;
  const name = (error as { name?: unknown })?.name;
  const message = String((error as { message?: unknown })?.message ?? '');
  switch (name) {
    case 'NotAuthorizedException':
      return notAuthorized(message, error);
    case 'TooManyRequestsException':
      return new ThrottledError('The identity pool is throttling requests; retry after a short wait', 1, {
        cause: error,
        hint: 'Cognito Identity quota reached (GetId defaults to 25 rps per account); consider a quota increase',
      });
    case 'LimitExceededException':
      return new ThrottledError('The identity pool reached a service limit; retry later', 5, {
        code: 'limit_exceeded',
        cause: error,
        hint: 'Cognito Identity LimitExceededException: an account or pool limit was reached',
      });
    case 'ResourceNotFoundException':
      if (operation === 'GetCredentialsForIdentity' && /identity/i.test(message) && !/pool/i.test(message)) {
        return new IdentityNotFoundError(error);
      }
      return new ConfigError('The identity pool does not exist', {
        cause: error,
        hint: 'ResourceNotFoundException: check IDENTITY_POOL_ID and that AWS_REGION is the identity pool region',
      });
    case 'InvalidIdentityPoolConfigurationException':
      return new ConfigError('The identity pool configuration is invalid', {
        cause: error,
        hint: 'InvalidIdentityPoolConfigurationException: check the authenticated role exists, is attached to the identity pool, and its trust policy allows sts:AssumeRoleWithWebIdentity and sts:TagSession for this pool',
      });
    case 'InvalidParameterException':
      return new ConfigError('The identity pool rejected the request parameters', {
        cause: error,
        hint: `InvalidParameterException from ${operation}: check IDENTITY_POOL_ID format (region:guid) and the logins key`,
      });
    case 'ResourceConflictException':
      return new BrokerError('This login is already linked to another identity', {
        statusCode: 409,
        code: 'identity_conflict',
        cause: error,
      });
    case 'ExternalServiceException':
      return new UpstreamError('A service the identity pool depends on did not answer; try again', {
        cause: error,
        code: 'external_service_error',
      });
    case 'InternalErrorException':
      return new UpstreamError('The identity pool failed; try again', { cause: error });
    case 'TimeoutError':
    case 'AbortError':
    case 'RequestTimeout':
      return new UpstreamError('The identity pool did not answer in time; try again', {
        statusCode: 504,
        code: 'upstream_timeout',
        cause: error,
      });
    default:
      // A 5xx without an error type (a load balancer's page, an empty body) is the service failing.
      if (((error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode ?? 0) >= 500) {
        return new UpstreamError('The identity pool failed; try again', { cause: error });
      }
      return new UpstreamError('The identity pool could not be reached; try again', {
        statusCode: 503,
        code: 'upstream_unavailable',
        cause: error,
        hint: `${operation} failed (${String(name)}); check COGNITO_IDENTITY_ENDPOINT, network access and AWS_REGION`,
      });
  }
}

function notAuthorized(message: string, cause: unknown): BrokerError {
  if (/token expired/i.test(message)) {
    return new TokenExpiredError(
      'The identity pool says the ID token has expired; refresh it and try again',
      { cause },
    );
  }
  if (/issuer doesn't match providername/i.test(message)) {
    return new InvalidTokenError('The identity pool does not accept tokens from this issuer', {
      code: 'issuer_not_accepted',
      cause,
      hint: "Issuer doesn't match providerName: the identity pool's provider must be exactly the token issuer without https://",
    });
  }
  if (/not from a supported provider/i.test(message)) {
    return new InvalidTokenError('The identity pool does not accept tokens from this app client', {
      code: 'provider_not_accepted',
      cause,
      hint: 'Token is not from a supported provider: list the user pool and app client (or the OIDC provider) on the identity pool',
    });
  }
  if (/couldn't verify signed token|signature/i.test(message)) {
    return new InvalidTokenError('The identity pool could not verify the token signature', {
      code: 'bad_signature',
      cause,
    });
  }
  if (/signed out|revoked|disabled|deleted/i.test(message)) {
    return new InvalidTokenError('The session was signed out or the user was disabled; sign in again', {
      code: 'session_revoked',
      cause,
    });
  }
  return new InvalidTokenError(`The identity pool refused the token: ${message.slice(0, 200)}`, {
    code: 'not_authorized',
    cause,
  });
}
