/**
 * Finishing a sign-in: GET /auth/callback?code&state (or ?error&error_description&state).
 *
 * Order of checks: Cognito's own error first (explained, see callback-errors.ts), then the login-state
 * cookie (present, intact, not expired), then `state` (present, equal in constant time, not used
 * before in this container), then the code exchange (once, never retried, with the PKCE verifier),
 * then the ID token (signature, issuer, audience, expiry, token_use by the core verifier, and the
 * nonce). Only then is a session created.
 */
import type { BoundedCache } from '../bounded-cache.ts';
import type { IdentityClient } from '../clients.ts';
import { safeEqual } from '../compare.ts';
import { BadRequestError, BrokerError } from '../errors.ts';
import type { HttpEvent } from '../http.ts';
import { getIdentityId, loginsKeyFor } from '../identity-pool.ts';
import type { Logger } from '../log.ts';
import type { IdTokenVerifier } from '../oidc/verify.ts';
import { audit, reasonOf } from './audit.ts';
import { type CallbackOutcome, explainCallbackError } from './callback-errors.ts';
import type { AuthConfig } from './config.ts';
import { type CookieKeyring, clearCookie, cookieSpecs } from './cookies.ts';
import { type LoginState, readLoginState } from './login.ts';
import { queryOf } from './request.ts';
import { providerOf, sealSession, startSession } from './session.ts';
import type { TokenEndpoint } from './token-endpoint.ts';

type CallbackConfig = Pick<
  AuthConfig,
  'userPool' | 'secureCookies' | 'callbackUrl' | 'sessionMaxAgeSeconds' | 'identityPoolId'
>;

export interface CallbackDeps {
  config: CallbackConfig;
  keyring: CookieKeyring;
  tokenEndpoint: TokenEndpoint;
  verifier: IdTokenVerifier;
  /** States already used in this container (single use; the cookie is also cleared). */
  usedStates: BoundedCache<string, true>;
  /** Resolves the identity id at sign-in. */
  identityClient: IdentityClient;
  nowSeconds: number;
  log: Logger;
}

/**
 * @throws BadRequestError (login_state_*, state_*, code_missing, invalid_grant), InvalidTokenError
 *   (nonce_mismatch and other ID-token checks), BrokerError/UpstreamError from the token endpoint.
 */
export async function completeLogin(
  event: Pick<HttpEvent, 'cookies' | 'headers' | 'rawQueryString' | 'queryStringParameters'>,
  deps: CallbackDeps,
): Promise<CallbackOutcome> {
  const specs = cookieSpecs(deps.config);
  const clearLoginState = clearCookie(specs.loginState);
  const params = queryOf(event);
  let loginState: LoginState | undefined;
  try {
    const error = params.get('error');
    if (error !== null) {
      loginState = await readLoginState(event, deps.keyring, specs.loginState, deps.nowSeconds).catch(
        () => undefined,
      );
      const description = params.get('error_description') ?? undefined;
      const problem = explainCallbackError(error, description);
      const returned = params.get('state');
      const vouched = loginState !== undefined && returned !== null && safeEqual(returned, loginState.state);
      audit(deps.log, 'sign-in', 'failure', {
        provider: loginState?.provider,
        reason: problem.code,
      });
      // The operator's side of the page: Cognito's words and what to check. The person sees neither.
      deps.log.warn('sign-in failed before the callback', {
        error: problem.code,
        cognitoError: error.slice(0, 60),
        cognitoDescription: description?.slice(0, 300),
        vouched,
        checks: problem.checks,
      });
      return {
        kind: 'provider-error',
        problem,
        startOver: vouched ? loginState?.returnTo : undefined,
        cookies: [clearLoginState],
      };
    }

    loginState = await readLoginState(event, deps.keyring, specs.loginState, deps.nowSeconds);
    checkState(params, loginState, deps.usedStates);
    const codes = params.getAll('code');
    if (codes.length !== 1 || codes[0] === '') {
      throw new BadRequestError(
        codes.length > 1
          ? 'The callback has more than one code; start sign-in again'
          : 'The callback has no code; start sign-in again',
        { code: 'code_missing' },
      );
    }
    const tokens = await deps.tokenEndpoint.exchangeCode({
      callbackParameters: params,
      expectedState: loginState.state,
      codeVerifier: loginState.codeVerifier,
      nonce: loginState.nonce,
    });
    // The verifier accepts the user pool's tokens only (its issuer is the one trusted).
    const { claims } = await deps.verifier.verify(tokens.idToken, { nonce: loginState.nonce });
    if (tokens.refreshToken === undefined) {
      throw new BrokerError('Cognito returned no refresh token, so no session can be kept', {
        statusCode: 502,
        code: 'no_refresh_token',
        expose: true,
        hint: 'the authorization code grant should always return a refresh token; check the token endpoint',
      });
    }
    const provider = providerOf(claims) ?? loginState.provider;
    const identityId = await identityIdAtSignIn(tokens.idToken, claims.iss, deps);
    const session = startSession({
      claims,
      refreshToken: tokens.refreshToken,
      provider,
      identityId,
      nowSeconds: deps.nowSeconds,
      maxAgeSeconds: deps.config.sessionMaxAgeSeconds,
    });
    const sealed = await sealSession(session, deps.keyring, specs.session, deps.nowSeconds);
    audit(deps.log, 'sign-in', 'success', { provider, identityId });
    return { kind: 'signed-in', location: loginState.returnTo, cookies: [clearLoginState, sealed.setCookie] };
  } catch (error) {
    audit(deps.log, 'sign-in', 'failure', {
      provider: loginState?.provider,
      reason: reasonOf(error),
    });
    throw error;
  }
}

/** state: present, equal to the cookie's (constant time), and not seen before in this container. */
function checkState(
  params: URLSearchParams,
  loginState: LoginState,
  usedStates: BoundedCache<string, true>,
): void {
  const returned = params.getAll('state');
  if (returned.length === 0 || returned[0] === '') {
    throw new BadRequestError('The callback has no state parameter; start sign-in again', {
      code: 'state_missing',
    });
  }
  if (returned.length > 1 || !safeEqual(returned[0] as string, loginState.state)) {
    throw new BadRequestError(
      'The state parameter does not match this browser’s sign-in (a link from another sign-in, or a forged request); start again',
      { code: 'state_mismatch' },
    );
  }
  if (usedStates.get(loginState.state) !== undefined) {
    throw new BadRequestError('This sign-in response was already used; start sign-in again', {
      code: 'state_reused',
    });
  }
  // Marked before the exchange: a code is single-use, so a second attempt could only fail.
  usedStates.set(loginState.state, true);
}

async function identityIdAtSignIn(
  idToken: string,
  issuer: string,
  deps: CallbackDeps,
): Promise<string | undefined> {
  try {
    return await getIdentityId(deps.identityClient, {
      identityPoolId: deps.config.identityPoolId,
      loginsKey: loginsKeyFor(issuer),
      idToken,
    });
  } catch (error) {
    // Not fatal: /credentials resolves it later and reports the problem where it matters.
    deps.log.warn('identity id not resolved at sign-in', {
      reason: reasonOf(error),
    });
    return undefined;
  }
}
