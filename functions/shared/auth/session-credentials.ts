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
import { BrokerError, InvalidTokenError, UnauthenticatedError } from '../errors.ts';
import { type HttpEvent, header } from '../http.ts';
import type { Logger } from '../log.ts';
import type { FetchLike } from '../upstream-http.ts';
import { audit, reasonOf } from './audit.ts';
import type { AuthConfig } from './config.ts';
import { type CookieKeyring, clearCookie, cookieSpecs, cookieValues } from './cookies.ts';
import { checkCookieRequestOrigin } from './request.ts';
import type { AuthSecrets } from './secrets.ts';
import { readSession, refreshedSession, type Session, sealSession, sessionClaimsOf } from './session.ts';
import type { TokenEndpoint } from './token-endpoint.ts';

type SessionRequestConfig = Pick<
  AuthConfig,
  'allowedOrigins' | 'selfOrigin' | 'secureCookies' | 'callbackUrl'
>;

/** What /credentials needs for sessions: the cookie, and the token endpoint for the refresh grant. */
export type SessionPathConfig = SessionRequestConfig &
  Pick<AuthConfig, 'userPool' | 'userPoolClientId' | 'endpoints' | 'upstreamTimeoutMs' | 'clockSkewSeconds'>;

export interface SessionPath {
  /** A bearer token wins: the session cookie is used only when no Authorization header is sent. */
  presentedBy(event: Pick<HttpEvent, 'cookies' | 'headers'>): boolean;
  /** @throws as credentialsForSessionRequest. */
  credentials(event: Pick<HttpEvent, 'cookies' | 'headers'>): Promise<SessionRequestResult>;
}

/**
 * The token-endpoint client, created by the first call that needs it: oauth4webapi (and the `fetch` it
 * loads) is imported then, so requests without a session never pay for it.
 */
export function lazyTokenEndpoint(
  config: Parameters<typeof import('./token-endpoint.ts').createTokenEndpoint>[0],
  deps: { secrets: Pick<AuthSecrets, 'clientSecret'>; fetch?: FetchLike | undefined },
): () => Promise<TokenEndpoint> {
  let tokenEndpoint: Promise<TokenEndpoint> | undefined;
  return () => {
    tokenEndpoint ??= import('./token-endpoint.ts').then(({ createTokenEndpoint }) =>
      createTokenEndpoint(config, { clientSecret: () => deps.secrets.clientSecret(), fetch: deps.fetch }),
    );
    return tokenEndpoint;
  };
}

/**
 * The session path of /credentials, built once per container. The token-endpoint client (oauth4webapi)
 * is loaded by the first session request: bearer requests, most of the traffic, never need it.
 */
export function createSessionPath(
  config: SessionPathConfig,
  deps: Omit<SessionCredentialsDeps, 'tokenEndpoint'> & {
    secrets: AuthSecrets;
    fetch?: FetchLike | undefined;
    /** Epoch milliseconds. */
    now: () => number;
  },
): SessionPath {
  const spec = cookieSpecs(config).session;
  const loadTokenEndpoint = lazyTokenEndpoint(config, deps);
  return {
    presentedBy: (event) =>
      header(event, 'authorization') === undefined && cookieValues(event, spec.name).some((v) => v !== ''),
    credentials: async (event) =>
      credentialsForSessionRequest(event, {
        config,
        keyring: await deps.secrets.cookieKeyring(),
        tokenEndpoint: await loadTokenEndpoint(),
        issue: deps.issue,
        log: deps.log,
        nowSeconds: Math.floor(deps.now() / 1000),
      }),
  };
}

interface SessionRequestDeps extends SessionCredentialsDeps {
  config: SessionRequestConfig;
  keyring: CookieKeyring;
  nowSeconds: number;
}

interface SessionRequestResult {
  issued: IssuedCredentials;
  provider: string;
  /** Set-Cookie lines: the rewritten session when it changed, else none. */
  cookies: string[];
}

/**
 * /credentials with the session cookie: same-site only, the cookie opened, then credentialsForSession.
 * Every 401 on this path ends the session, so it is thrown with the Set-Cookie that removes the cookie.
 *
 * @throws ForbiddenError (cross-site), UnauthenticatedError/InvalidTokenError with Set-Cookie, and
 *   what credentialsForSession throws.
 */
async function credentialsForSessionRequest(
  event: Pick<HttpEvent, 'cookies' | 'headers'>,
  deps: SessionRequestDeps,
): Promise<SessionRequestResult> {
  checkCookieRequestOrigin(event, deps.config);
  const spec = cookieSpecs(deps.config).session;
  const clear = clearCookie(spec);
  const read = await readSession(event, deps.keyring, spec, deps.nowSeconds);
  if (read.session === undefined) {
    const expired = read.rejected === 'expired';
    throw new UnauthenticatedError(
      expired
        ? 'The session has ended; sign in again at /auth/login'
        : 'The session cookie is not valid (altered, or from a retired key); sign in again at /auth/login',
      { code: expired ? 'session_expired' : 'session_invalid', headers: { 'Set-Cookie': clear } },
    );
  }
  let result: SessionCredentials;
  try {
    result = await credentialsForSession(read.session, deps);
  } catch (error) {
    throw error instanceof BrokerError && error.statusCode === 401 ? sessionEnded(error, clear) : error;
  }
  const cookies =
    result.session === read.session
      ? []
      : [(await sealSession(result.session, deps.keyring, spec, deps.nowSeconds)).setCookie];
  return { issued: result.issued, provider: read.session.provider, cookies };
}

/** The same refusal, built with the Set-Cookie that removes the session cookie. */
function sessionEnded(error: BrokerError, clear: string): BrokerError {
  return new BrokerError(error.message, {
    statusCode: error.statusCode,
    code: error.code,
    expose: error.expose,
    hint: error.hint,
    cause: error,
    headers: { ...error.headers, 'Set-Cookie': clear },
  });
}

export interface SessionCredentialsDeps {
  tokenEndpoint: TokenEndpoint;
  /** Verifies the ID token and trades it for credentials (issueCredentials with the container's deps). */
  issue: (idToken: string) => Promise<IssuedCredentials>;
  log: Logger;
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
  const tokens = await refreshAudited(session, deps);
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

/**
 * Whether a session still stands, for GET /auth/session: a copy of the cookie taken before sign-out
 * must not show the person's claims afterwards. The cookie alone cannot tell (it is valid until its
 * own end), and Cognito offers no introspection, so the refresh_token grant is the check, as for
 * /credentials: revoked (sign-out), expired or the user disabled or deleted, Cognito answers
 * invalid_grant. One token-endpoint call per /auth/session; a per-container memo would let another
 * container's sign-out go unseen, so there is none.
 *
 * @returns the session (with the new refresh token when the app client rotates them), or undefined
 *   when it no longer stands.
 * @throws what the token endpoint throws besides a refused grant (UpstreamError, BrokerError): the
 *   answer is then an error, never the claims.
 */
export async function confirmSession(
  session: Session,
  deps: Pick<SessionCredentialsDeps, 'tokenEndpoint' | 'log'>,
): Promise<Session | undefined> {
  let tokens: Awaited<ReturnType<TokenEndpoint['refresh']>>;
  try {
    tokens = await refreshAudited(session, deps);
  } catch (error) {
    if (error instanceof InvalidTokenError) return undefined;
    throw error;
  }
  const claimedSub = unverifiedSub(tokens.idToken);
  if (claimedSub !== undefined && claimedSub !== session.sub) return undefined;
  return tokens.refreshToken === undefined
    ? session
    : refreshedSession(session, { refreshToken: tokens.refreshToken });
}

/** The refresh_token grant for a session, with its audit line either way. */
async function refreshAudited(
  session: Session,
  deps: Pick<SessionCredentialsDeps, 'tokenEndpoint' | 'log'>,
): Promise<Awaited<ReturnType<TokenEndpoint['refresh']>>> {
  const fields = { provider: session.provider, identityId: session.identityId };
  try {
    const tokens = await deps.tokenEndpoint.refresh(session.refreshToken);
    audit(deps.log, 'refresh', 'success', fields);
    return tokens;
  } catch (error) {
    audit(deps.log, 'refresh', 'failure', { ...fields, reason: reasonOf(error) });
    throw error;
  }
}
