import { BoundedCache } from './bounded-cache.ts';
import type { IdentityClient } from './clients.ts';
import {
  type AwsCredentials,
  getCredentialsForIdentity,
  getIdentityId,
  IdentityNotFoundError,
  type IdentityPoolInput,
  loginsKeyFor,
} from './identity-pool.ts';
import type { IdTokenClaims, IdTokenVerifier } from './oidc/verify.ts';

/** Cached credentials are served only while they have more than this left. */
export const credentialsMinRemainingMs = 5 * 60_000;

export interface IssuedCredentials {
  identityId: string;
  credentials: AwsCredentials;
  claims: IdTokenClaims;
  /** Whether the credentials came from this container's cache (no Cognito call). */
  cached: boolean;
}

/**
 * Per-container caches. Keys start with the logins key and the verified `sub`, so one user's entry
 * can never answer another user's request; credentials are also keyed by audience and sign-in time
 * (`auth_time`), so a new sign-in (possibly with new claims, hence new principal tags) gets new ones.
 */
export interface CredentialsCaches {
  identityIds: BoundedCache<string, string>;
  credentials: BoundedCache<string, { identityId: string; credentials: AwsCredentials }>;
}

export function createCredentialsCaches(maxEntries = 5_000): CredentialsCaches {
  return { identityIds: new BoundedCache(maxEntries), credentials: new BoundedCache(maxEntries) };
}

export interface IssueDeps {
  identityClient: IdentityClient;
  verifier: IdTokenVerifier;
  identityPoolId: string;
  caches: CredentialsCaches;
  now?: () => number;
}

/**
 * Verifies an ID token, then trades it through the logins map for identity-pool credentials:
 * `GetId` only for an identity this container has not seen, `GetCredentialsForIdentity` only when
 * no cached credentials have more than five minutes left.
 *
 * @throws InvalidTokenError/TokenExpiredError (401), ThrottledError (429), UpstreamError (5xx),
 *   ConfigurationError (500).
 * @example
 *   const issued = await issueCredentials(idToken, { identityClient, verifier, identityPoolId, caches });
 */
export async function issueCredentials(idToken: string, deps: IssueDeps): Promise<IssuedCredentials> {
  const now = deps.now ?? Date.now;
  const { claims } = await deps.verifier.verify(idToken);
  const loginsKey = loginsKeyFor(claims.iss);
  const identityKey = `${loginsKey}\n${claims.sub}`;
  const credentialsKey = `${identityKey}\n${String(claims.aud)}\n${claims.auth_time ?? claims.iat}`;

  const hit = deps.caches.credentials.get(credentialsKey);
  if (hit && hit.credentials.expiration.getTime() - now() > credentialsMinRemainingMs) {
    return { ...hit, claims, cached: true };
  }

  const input: IdentityPoolInput = { identityPoolId: deps.identityPoolId, loginsKey, idToken };
  const knownId = deps.caches.identityIds.get(identityKey);
  let identityId = knownId ?? (await getIdentityId(deps.identityClient, input));
  let credentials: AwsCredentials;
  try {
    credentials = await getCredentialsForIdentity(deps.identityClient, identityId, input);
  } catch (error) {
    // A cached identity can disappear (deleted, or merged into another): ask again, once.
    if (!(error instanceof IdentityNotFoundError) || knownId === undefined) throw error;
    deps.caches.identityIds.delete(identityKey);
    identityId = await getIdentityId(deps.identityClient, input);
    credentials = await getCredentialsForIdentity(deps.identityClient, identityId, input);
  }
  deps.caches.identityIds.set(identityKey, identityId);
  deps.caches.credentials.set(credentialsKey, { identityId, credentials });
  return { identityId, credentials, claims, cached: false };
}

/** The JSON the AWS SDK's `fromHttp` credential provider reads, plus the identity id. */
export function toCredentialsResponse(issued: Pick<IssuedCredentials, 'identityId' | 'credentials'>) {
  return {
    AccessKeyId: issued.credentials.accessKeyId,
    SecretAccessKey: issued.credentials.secretAccessKey,
    Token: issued.credentials.sessionToken,
    Expiration: issued.credentials.expiration.toISOString(),
    IdentityId: issued.identityId,
  };
}
