/**
 * Credentials for a browser session (GET/POST /credentials with the session cookie and no bearer
 * token). The session keeps the refresh token, not the ID token (see session.ts), so the ID token is
 * derived: this container keeps the last one per session in memory and runs the refresh_token grant
 * when there is none, or when it has expired or will within the clock skew. After a refresh the
 * session cookie is rewritten: fresh claims (the trigger runs again on refresh), the identity id, and
 * the new refresh token if the app client rotates them.
 */
import { BoundedCache } from '../bounded-cache.ts';
import type { IssuedCredentials } from '../credentials.ts';
import { InvalidTokenError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { audit, reasonOf } from './audit.ts';
import { refreshedSession, type Session } from './session.ts';
import type { TokenEndpoint } from './token-endpoint.ts';

export interface CachedIdToken {
  idToken: string;
  sub: string;
  /** Epoch seconds (the token's exp). */
  expiresAt: number;
}

export function createIdTokenCache(maxEntries = 5_000): BoundedCache<string, CachedIdToken> {
  return new BoundedCache(maxEntries);
}

export interface SessionCredentialsDeps {
  tokenEndpoint: TokenEndpoint;
  /** Verifies the ID token and trades it for credentials (issueCredentials with the container's deps). */
  issue: (idToken: string) => Promise<IssuedCredentials>;
  idTokens: BoundedCache<string, CachedIdToken>;
  nowSeconds: number;
  /** An ID token with less than this left is refreshed first. */
  skewSeconds: number;
  log: Logger;
  requestId?: string | undefined;
}

export interface SessionCredentials {
  issued: IssuedCredentials;
  /** The session to write back; the same object when nothing changed. */
  session: Session;
  refreshed: boolean;
}

/**
 * @throws InvalidTokenError (`session_expired` when the refresh token is revoked or expired,
 *   `session_mismatch`), and whatever issueCredentials throws.
 */
export async function credentialsForSession(
  session: Session,
  deps: SessionCredentialsDeps,
): Promise<SessionCredentials> {
  const cached = deps.idTokens.get(session.sid);
  const usable =
    cached !== undefined &&
    cached.sub === session.sub &&
    cached.expiresAt - deps.nowSeconds > deps.skewSeconds;
  const fields = { provider: session.provider, identityId: session.identityId, requestId: deps.requestId };

  if (usable) {
    try {
      const issued = await deps.issue(cached.idToken);
      const current =
        issued.identityId !== session.identityId
          ? refreshedSession(session, { identityId: issued.identityId })
          : session;
      return { issued, session: current, refreshed: false };
    } catch (error) {
      // A revoked or otherwise refused token must not be served again from this container.
      if (error instanceof InvalidTokenError) deps.idTokens.delete(session.sid);
      throw error;
    }
  }

  let tokens: Awaited<ReturnType<TokenEndpoint['refresh']>>;
  try {
    tokens = await deps.tokenEndpoint.refresh(session.refreshToken);
  } catch (error) {
    deps.idTokens.delete(session.sid);
    audit(deps.log, 'refresh', 'failure', { ...fields, reason: reasonOf(error) });
    throw error;
  }
  audit(deps.log, 'refresh', 'success', fields);
  const issued = await deps.issue(tokens.idToken);
  if (issued.claims.sub !== session.sub) {
    throw new InvalidTokenError(
      'The refreshed ID token is for another user than the session; sign in again',
      {
        code: 'session_mismatch',
      },
    );
  }
  deps.idTokens.set(session.sid, { idToken: tokens.idToken, sub: session.sub, expiresAt: issued.claims.exp });
  return {
    issued,
    session: refreshedSession(session, {
      claims: issued.claims,
      refreshToken: tokens.refreshToken,
      identityId: issued.identityId,
    }),
    refreshed: true,
  };
}
