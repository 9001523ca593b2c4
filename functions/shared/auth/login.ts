/**
 * Starting a sign-in: GET /auth/login?provider=<Cognito provider name>&return_to=<path or URL>.
 * The browser goes straight to the chosen IdP through Cognito's /oauth2/authorize (identity_provider
 * skips the hosted UI) with PKCE, state and nonce; those secrets, the provider and the validated
 * return_to travel in a short-lived login-state cookie that only the callback path receives.
 */

import { BadRequestError } from '../errors.ts';
import type { HttpEvent } from '../http.ts';
import { recordSignIn } from '../metrics.ts';
import type { AuthConfig } from './config.ts';
import {
  type CookieKeyring,
  CookieRejectedError,
  type CookieSpec,
  cookieSpecs,
  cookieValues,
  maxCookieBytes,
  openCookie,
  sealCookie,
  setCookie,
} from './cookies.ts';
import { newAuthorizationSecrets } from './pkce.ts';
import { queryOf } from './request.ts';
import { resolveReturnTo } from './return-to.ts';

/**
 * How long a sign-in may take from /auth/login to /auth/callback. Cognito itself abandons federated
 * sign-ins after 5 minutes; the extra time covers the hosted UI and slow identity checks.
 */
const loginStateMaxAgeSeconds = 600;

export interface LoginRequest {
  provider: string | undefined;
  returnTo: string | undefined;
}

/** @throws BadRequestError when a parameter is repeated. */
export function parseLoginRequest(
  event: Pick<HttpEvent, 'rawQueryString' | 'queryStringParameters'>,
): LoginRequest {
  const query = queryOf(event);
  for (const name of ['provider', 'return_to']) {
    if (query.getAll(name).length > 1) throw new BadRequestError(`${name} must be given once`);
  }
  return { provider: query.get('provider') ?? undefined, returnTo: query.get('return_to') ?? undefined };
}

/** What the login-state cookie carries to the callback. */
export interface LoginState {
  state: string;
  nonce: string;
  codeVerifier: string;
  provider: string;
  returnTo: string;
}

export type LoginConfig = Pick<
  AuthConfig,
  | 'endpoints'
  | 'userPoolClientId'
  | 'callbackUrl'
  | 'scopes'
  | 'identityProviders'
  | 'selfOrigin'
  | 'allowedOrigins'
  | 'secureCookies'
>;

/** Where users land when no return_to was given: the first frontend origin. */
export function defaultReturnTo(config: Pick<AuthConfig, 'allowedOrigins'>): string {
  const first = config.allowedOrigins[0];
  return first === undefined ? '/' : `${first}/`;
}

/**
 * The authorize redirect and the login-state cookie for a new sign-in.
 *
 * @throws BadRequestError (`unknown_provider`, `invalid_return_to`).
 * @example const { location, setCookie } = await startLogin({ provider: 'IDmeSandbox', returnTo: '/' }, deps);
 */
export async function startLogin(
  request: LoginRequest,
  deps: { config: LoginConfig; keyring: CookieKeyring; nowSeconds: number },
): Promise<{ location: string; setCookie: string; state: LoginState }> {
  const { config } = deps;
  const provider = request.provider;
  if (provider === undefined || !config.identityProviders.includes(provider)) {
    throw new BadRequestError(
      `${provider === undefined ? 'provider is missing' : `provider "${provider.slice(0, 40)}" is not offered`}: use one of ${config.identityProviders.join(', ')} (names are case-sensitive)`,
      { code: 'unknown_provider' },
    );
  }
  const returnTo = resolveReturnTo(request.returnTo, config, defaultReturnTo(config));
  const secrets = await newAuthorizationSecrets();
  const state: LoginState = {
    state: secrets.state,
    nonce: secrets.nonce,
    codeVerifier: secrets.codeVerifier,
    provider,
    returnTo,
  };
  const exp = deps.nowSeconds + loginStateMaxAgeSeconds;
  const value = await sealCookie(
    'login-state',
    {
      meta: {
        st: state.state,
        n: state.nonce,
        cv: state.codeVerifier,
        p: provider,
        r: returnTo,
        iat: deps.nowSeconds,
        exp,
      },
    },
    deps.keyring,
  );
  const url = new URL(config.endpoints.authorize);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.userPoolClientId,
    redirect_uri: config.callbackUrl,
    scope: config.scopes,
    identity_provider: provider,
    state: secrets.state,
    nonce: secrets.nonce,
    code_challenge: secrets.codeChallenge,
    code_challenge_method: 'S256',
  }).toString();
  const line = setCookie(cookieSpecs(config).loginState, value, loginStateMaxAgeSeconds);
  // A browser drops a larger cookie, and the sign-in would fail only after the person identified at
  // the IdP; return_to is the only part whose size the caller controls (it grows once percent-encoded
  // and sealed), so it is refused here.
  if (Buffer.byteLength(line) > maxCookieBytes) {
    throw new BadRequestError(
      'return_to is too long once encoded for the sign-in cookie: use a shorter path or URL (like /app)',
      { code: 'invalid_return_to', hint: `login-state cookie would be ${Buffer.byteLength(line)} bytes` },
    );
  }
  // Counted once every check passed: a refused login is not a started sign-in.
  recordSignIn('started', provider);
  return { location: url.href, setCookie: line, state };
}

/**
 * The login state from the callback request's cookie.
 *
 * @throws BadRequestError: `login_state_missing` (no cookie: other browser, cookies blocked, or the
 *   cookie's 10 minutes passed), `login_state_expired`, `login_state_invalid` (altered, or sealed with
 *   a key this deployment does not have).
 */
export async function readLoginState(
  event: Pick<HttpEvent, 'cookies' | 'headers'>,
  keyring: CookieKeyring,
  spec: CookieSpec,
  nowSeconds: number,
): Promise<LoginState> {
  const values = cookieValues(event, spec.name).filter((v) => v !== '');
  if (values.length === 0) {
    throw new BadRequestError(
      'The sign-in cookie is missing: the sign-in was started in another browser, cookies are blocked, or it took more than 10 minutes; start again',
      { code: 'login_state_missing' },
    );
  }
  let failure: CookieRejectedError | undefined;
  for (const value of values) {
    try {
      const { meta: m } = await openCookie(value, 'login-state', keyring, nowSeconds);
      if (
        typeof m.st !== 'string' ||
        typeof m.n !== 'string' ||
        typeof m.cv !== 'string' ||
        typeof m.p !== 'string' ||
        typeof m.r !== 'string'
      ) {
        throw new CookieRejectedError('malformed', 'The sign-in cookie content is malformed');
      }
      return { state: m.st, nonce: m.n, codeVerifier: m.cv, provider: m.p, returnTo: m.r };
    } catch (error) {
      if (!(error instanceof CookieRejectedError)) throw error;
      failure ??= error;
    }
  }
  if (failure?.reason === 'expired') {
    throw new BadRequestError('The sign-in took more than 10 minutes and has expired; start again', {
      code: 'login_state_expired',
    });
  }
  throw new BadRequestError(
    'The sign-in cookie is not valid (altered, or issued by another deployment or a retired key); start again',
    { code: 'login_state_invalid', hint: `login-state cookie rejected: ${failure?.reason}` },
  );
}
