/**
 * Signing out: POST /auth/logout. The refresh token is revoked at /oauth2/revoke, the broker's cookies
 * are cleared, and the caller gets Cognito's /logout URL, which the browser must visit to end the
 * hosted-UI session (Cognito's logout is a browser redirect, not an API; it does not sign the user out
 * of ID.me or Idura).
 *
 * What this ends, and what it does not:
 * - At once: this session, and any copy of its cookie. /credentials and /auth/session run the
 *   refresh_token grant before they answer, and Cognito refuses a revoked refresh token.
 * - Not at once: ID tokens already issued. Revocation makes Cognito's APIs refuse the access tokens
 *   minted from the refresh token, but an ID token stays a valid JWT until its `exp` (up to the app
 *   client's ID-token validity), and the identity pool's ServerSideTokenCheck is documented for users
 *   signed out globally or deleted, not for revoked refresh tokens
 *   (https://docs.aws.amazon.com/cognito/latest/developerguide/token-revocation.html,
 *   https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_CognitoIdentityProvider.html).
 *   A copied bearer ID token keeps getting credentials at /credentials until it expires, and a
 *   container's cached credentials for it are served until they have five minutes left
 *   (credentials.ts). AWS credentials already handed out stay valid until their own expiry (an hour).
 *   For an immediate cut-off an operator signs the user out globally or disables the user, and denies
 *   the identity's role sessions in IAM; see docs/sign-in.md (What sign-out ends, and when).
 */

import type { HttpEvent } from '../http.ts';
import { header } from '../http.ts';
import type { Logger } from '../log.ts';
import { audit, reasonOf } from './audit.ts';
import type { AuthConfig } from './config.ts';
import { type CookieKeyring, clearCookie, cookieSpecs } from './cookies.ts';
import { checkCookieRequestOrigin } from './request.ts';
import { readSession } from './session.ts';
import type { TokenEndpoint } from './token-endpoint.ts';

export type LogoutConfig = Pick<
  AuthConfig,
  'endpoints' | 'userPoolClientId' | 'allowedOrigins' | 'selfOrigin' | 'secureCookies' | 'callbackUrl'
>;

export interface LogoutResult {
  /** Cognito's /logout with client_id and logout_uri: send the browser there. */
  logoutUrl: string;
  /** true: revoked; false: revocation failed (the cookie is cleared anyway); null: there was no session. */
  revoked: boolean | null;
  cookies: string[];
}

/**
 * Where Cognito sends the browser after /logout: the calling frontend's origin when it is allowed,
 * else the first allowed origin. The app client registers every allowed origin as a sign-out URL.
 */
function logoutUriFor(event: Pick<HttpEvent, 'headers'>, config: Pick<AuthConfig, 'allowedOrigins'>): string {
  const origin = header(event, 'origin');
  if (origin !== undefined && config.allowedOrigins.includes(origin)) return origin;
  return config.allowedOrigins[0] as string;
}

/**
 * @throws ForbiddenError when the request comes from another origin.
 * @example const { logoutUrl, revoked, cookies } = await signOut(event, deps);
 */
export async function signOut(
  event: Pick<HttpEvent, 'headers' | 'cookies'>,
  deps: {
    config: LogoutConfig;
    keyring: CookieKeyring;
    tokenEndpoint: TokenEndpoint;
    nowSeconds: number;
    log: Logger;
  },
): Promise<LogoutResult> {
  const { config } = deps;
  checkCookieRequestOrigin(event, config);
  const specs = cookieSpecs(config);
  const url = new URL(config.endpoints.logout);
  url.search = new URLSearchParams({
    client_id: config.userPoolClientId,
    logout_uri: logoutUriFor(event, config),
  }).toString();
  const cookies = [clearCookie(specs.session), clearCookie(specs.loginState)];

  const { session } = await readSession(event, deps.keyring, specs.session, deps.nowSeconds);
  if (session === undefined) {
    audit(deps.log, 'sign-out', 'success', { reason: 'no_session' });
    return { logoutUrl: url.href, revoked: null, cookies };
  }
  const fields = { provider: session.provider, identityId: session.identityId };
  try {
    await deps.tokenEndpoint.revoke(session.refreshToken);
  } catch (error) {
    audit(deps.log, 'sign-out', 'failure', { ...fields, reason: `revoke_failed:${reasonOf(error)}` });
    return { logoutUrl: url.href, revoked: false, cookies };
  }
  audit(deps.log, 'sign-out', 'success', fields);
  return { logoutUrl: url.href, revoked: true, cookies };
}
