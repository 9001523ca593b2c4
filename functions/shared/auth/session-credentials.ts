/**
 * Credentials for a browser session (GET/POST /credentials with the session cookie and no bearer
 * token). The session keeps the refresh token, not the ID token (see session.ts), so the ID token is
 * derived from it: every session request runs the refresh_token grant first, then trades the fresh ID
 * token for credentials (which issueCredentials still serves from its cache while they last).
 *
 * Why every request and not only when a cached ID token has expired: the grant is what tells the broker
 * that the session still stands. A container-local ID-token cache would let a copy of the cookie taken
 * before sign-out keep minting credentials for up to an hour (ID tokens stay valid after revocation);
 * refreshing makes sign-out take effect at once. The cost is one token-endpoint call per /credentials
 * call, about one per user per hour, since AWS SDK credential providers reuse credentials until they
 * expire. After a refresh the cookie is rewritten when something changed: the claims (the trigger runs
 * again on refresh), the identity id, or the refresh token (when the app client rotates them).
 */
import { decodeJwt } from 'jose';
import type { IssuedCredentials } from '../credentials.ts';
import { InvalidTokenError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { audit, reasonOf } from './audit.ts';
import { refreshedSession, type Session, sessionClaimsOf } from './session.ts';
import type { TokenEndpoint } from './token-endpoint.ts';

export interface SessionCredentialsDeps {
  tokenEndpoint: TokenEndpoint;
  /** Verifies the ID token and trades it for credentials (issueCredentials with the container's deps). */
  issue: (idToken: string) => Promise<IssuedCredentials>;
  log: Logger;
  requestId?: string | undefined;
}

export interface SessionCredentials {
  issued: IssuedCredentials;
  /** The session to write back; the same object when nothing changed. */
  session: Session;
}

/**
 * @throws InvalidTokenError (`session_expired` when the refresh token is revoked or expired,
 *   `session_mismatch`), and whatever the token endpoint and issueCredentials throw.
 * @example const { issued, session } = await credentialsForSession(read.session, deps);
 */
export async function credentialsForSession(
  session: Session,
  deps: SessionCredentialsDeps,
): Promise<SessionCredentials> {
  const fields = { provider: session.provider, identityId: session.identityId, requestId: deps.requestId };
  let tokens: Awaited<ReturnType<TokenEndpoint['refresh']>>;
  try {
    tokens = await deps.tokenEndpoint.refresh(session.refreshToken);
  } catch (error) {
    audit(deps.log, 'refresh', 'failure', { ...fields, reason: reasonOf(error) });
    throw error;
  }
  audit(deps.log, 'refresh', 'success', fields);
  // Refused before the identity pool is asked (the unverified `sub` can only refuse): credentials are
  // never minted for someone other than the session's user. Checked again on the verified claims.
  const claimedSub = unverifiedSub(tokens.idToken);
  if (claimedSub !== undefined && claimedSub !== session.sub) throw sessionMismatch();
  const issued = await deps.issue(tokens.idToken);
  if (issued.claims.sub !== session.sub) throw sessionMismatch();
  const claimsChanged = JSON.stringify(sessionClaimsOf(issued.claims)) !== JSON.stringify(session.claims);
  const changed =
    claimsChanged || tokens.refreshToken !== undefined || issued.identityId !== session.identityId;
  return {
    issued,
    session: changed
      ? refreshedSession(session, {
          ...(claimsChanged ? { claims: issued.claims } : {}),
          refreshToken: tokens.refreshToken,
          identityId: issued.identityId,
        })
      : session,
  };
}

const sessionMismatch = () =>
  new InvalidTokenError('The refreshed ID token is for another user than the session; sign in again', {
    code: 'session_mismatch',
  });

/** The token's `sub`, unverified; undefined when it has none (issueCredentials then says why). */
function unverifiedSub(token: string): unknown {
  try {
    return decodeJwt(token).sub;
  } catch {
    return undefined;
  }
}
