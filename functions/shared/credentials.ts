import { BoundedCache } from './bounded-cache.ts';
import type { IdentityClient } from './clients.ts';
import { BadRequestError, UnauthenticatedError } from './errors.ts';
import { type HttpEvent, header } from './http.ts';
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
const credentialsMinRemainingMs = 5 * 60_000;

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

/** `issueCredentials` bound to a container's collaborators and caches. */
export function createCredentialsIssuer(
  deps: Omit<IssueDeps, 'caches'>,
): (idToken: string) => Promise<IssuedCredentials> {
  const caches = createCredentialsCaches();
  return (idToken) => issueCredentials(idToken, { ...deps, caches });
}

/**
 * Verifies an ID token, then trades it through the logins map for identity-pool credentials:
 * `GetId` only for an identity this container has not seen, `GetCredentialsForIdentity` only when
 * no cached credentials have more than five minutes left.
 *
 * @throws InvalidTokenError/TokenExpiredError (401), ThrottledError (429), UpstreamError (5xx),
 *   ConfigError (500).
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

/**
 * The ID token from `Authorization: Bearer <token>`.
 *
 * @throws UnauthenticatedError without the header (naming /auth/login when sessions are offered),
 *   BadRequestError when it is not `Bearer <token>`.
 */
export function bearerToken(event: Pick<HttpEvent, 'headers'>, options: { sessions: boolean }): string {
  const value = header(event, 'authorization');
  if (value === undefined || value.trim() === '') {
    throw new UnauthenticatedError(
      options.sessions
        ? 'Send the ID token as "Authorization: Bearer <ID token>", or sign in at /auth/login for a session'
        : 'Send the ID token as "Authorization: Bearer <ID token>"',
    );
  }
  const match = /^Bearer +([A-Za-z0-9_.~+/=-]+)\s*$/i.exec(value);
  if (!match?.[1]) {
    throw new BadRequestError('The Authorization header must be "Bearer <ID token>"', {
      code: 'invalid_request',
    });
  }
  return match[1];
}
