/**
 * The broker as a confidential OAuth client of the user pool: code exchange, refresh and revocation.
 *
 * Request building and response checking are oauth4webapi's (a certified, dependency-free OAuth/OIDC
 * client): `client_secret_basic` with the form-encoding RFC 6749 §2.3.1 requires, the PKCE verifier,
 * redirect-response validation (state, implicit-flow parameters, duplicate parameters), token-response
 * validation (JSON, `token_type`, `expires_in`) and the ID token's claims (`iss`, `aud`, `exp`, `iat`,
 * `nonce`). Those are exactly the parts where hand-written clients go wrong. The ID token's signature is
 * then checked by the broker's own verifier (JWKS), see callback.ts.
 *
 * Every call has a timeout and none is retried: an authorization code is single-use, so a retry after
 * a lost answer could only fail with invalid_grant (or, worse, race a first attempt that succeeded).
 */
import * as oauth from 'oauth4webapi';
import { BrokerError, InvalidTokenError, UpstreamError } from '../errors.ts';
import { httpOutcome, upstreamCall } from '../metrics.ts';
import type { FetchLike } from '../upstream-http.ts';
import type { AuthConfig } from './config.ts';

interface TokenSet {
  idToken: string;
  accessToken: string;
  /** Present after a code exchange; after a refresh only when the app client rotates refresh tokens. */
  refreshToken: string | undefined;
  expiresInSeconds: number | undefined;
}

interface CodeExchange {
  /** The callback's query parameters, as received. */
  callbackParameters: URLSearchParams;
  /** The state from the login-state cookie (already compared in constant time by the caller). */
  expectedState: string;
  codeVerifier: string;
  nonce: string;
}

export interface TokenEndpoint {
  /** @throws BadRequestError (invalid_grant), InvalidTokenError, BrokerError (invalid_client, …), UpstreamError. */
  exchangeCode(input: CodeExchange): Promise<TokenSet>;
  /** @throws InvalidTokenError (`session_expired` on invalid_grant), BrokerError, UpstreamError. */
  refresh(refreshToken: string): Promise<TokenSet>;
  /** Revokes a refresh token (and the access tokens minted from it). @throws BrokerError, UpstreamError. */
  revoke(refreshToken: string): Promise<void>;
}

export interface TokenEndpointDeps {
  clientSecret: () => Promise<string>;
  fetch?: FetchLike;
}

type Operation = 'code exchange' | 'refresh' | 'revocation';

/**
 * @example
 *   const tokens = createTokenEndpoint(config, { clientSecret: () => secrets.clientSecret() });
 *   const set = await tokens.exchangeCode({ callbackParameters, expectedState, codeVerifier, nonce });
 */
export function createTokenEndpoint(
  config: Pick<
    AuthConfig,
    'userPool' | 'userPoolClientId' | 'endpoints' | 'callbackUrl' | 'upstreamTimeoutMs'
  > &
    // Only the code exchange and refresh check ID-token times; revocation alone needs no skew.
    Partial<Pick<AuthConfig, 'clockSkewSeconds'>>,
  deps: TokenEndpointDeps,
): TokenEndpoint {
  const as: oauth.AuthorizationServer = {
    issuer: config.userPool.issuer,
    token_endpoint: config.endpoints.token,
    revocation_endpoint: config.endpoints.revoke,
    // Cognito signs every user-pool token with RS256.
    id_token_signing_alg_values_supported: ['RS256'],
  };
  const client: oauth.Client = {
    client_id: config.userPoolClientId,
    [oauth.clockTolerance]: config.clockSkewSeconds ?? 0,
  };
  const fetchImpl = deps.fetch ?? fetch;
  const options = () => ({
    signal: AbortSignal.timeout(config.upstreamTimeoutMs),
    [oauth.customFetch]: (url: string, init: oauth.CustomFetchOptions<'POST', URLSearchParams>) =>
      upstreamCall('TokenEndpoint', () => fetchImpl(url, init as RequestInit), httpOutcome),
    // Plain http only for the local machine (localhost, or *.localhost under sam local): config.ts enforces it.
    [oauth.allowInsecureRequests]: config.endpoints.token.startsWith('http:'),
  });
  const auth = async () => oauth.ClientSecretBasic(await deps.clientSecret());

  return {
    async exchangeCode(input) {
      try {
        const parameters = oauth.validateAuthResponse(
          as,
          client,
          input.callbackParameters,
          input.expectedState,
        );
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          await auth(),
          parameters,
          config.callbackUrl,
          input.codeVerifier,
          options(),
        );
        const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
          expectedNonce: input.nonce,
          requireIdToken: true,
        });
        return tokenSet(result);
      } catch (error) {
        throw translateTokenError(error, 'code exchange', config.upstreamTimeoutMs);
      }
    },
    async refresh(refreshToken) {
      try {
        const response = await oauth.refreshTokenGrantRequest(
          as,
          client,
          await auth(),
          refreshToken,
          options(),
        );
        const result = await oauth.processRefreshTokenResponse(as, client, response);
        if (typeof result.id_token !== 'string') {
          throw new UpstreamError('Cognito returned no ID token on refresh', {
            code: 'invalid_token_response',
            hint: 'the refresh answer had no id_token: the openid scope must be allowed on the app client',
          });
        }
        return tokenSet(result);
      } catch (error) {
        throw translateTokenError(error, 'refresh', config.upstreamTimeoutMs);
      }
    },
    async revoke(refreshToken) {
      try {
        const response = await oauth.revocationRequest(as, client, await auth(), refreshToken, options());
        await oauth.processRevocationResponse(response);
      } catch (error) {
        throw translateTokenError(error, 'revocation', config.upstreamTimeoutMs);
      }
    },
  };
}

function tokenSet(result: oauth.TokenEndpointResponse): TokenSet {
  return {
    idToken: result.id_token as string,
    accessToken: result.access_token,
    refreshToken: result.refresh_token,
    expiresInSeconds: result.expires_in,
  };
}

/**
 * Turns oauth4webapi and fetch failures into broker errors: the message for the person signing in
 * (shown on the callback page, so it never names a variable or a check), the hint for the operator
 * (logged). Token endpoint errors follow the troubleshooting catalogue (https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html).
 */
function translateTokenError(error: unknown, operation: Operation, timeoutMs: number): Error {
  if (error instanceof BrokerError) return error;
  const cause = loggable(error);
  if (error instanceof oauth.ResponseBodyError)
    return fromOAuthError(error.error, error.error_description, operation, cause);
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    return fromOAuthError('invalid_client', undefined, operation, cause);
  }
  if (error instanceof oauth.AuthorizationResponseError) {
    // Handled before the exchange by the callback; reaching here means the caller skipped that step.
    return new BrokerError(`The sign-in was refused: ${error.error}`, {
      statusCode: 400,
      code: 'authorization_error',
      cause,
    });
  }
  const name = (error as { name?: unknown })?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new UpstreamError(
      operation === 'code exchange'
        ? `Cognito's token endpoint did not answer within ${timeoutMs} ms; the code is not retried (it is single-use): start sign-in again`
        : `Cognito's token endpoint did not answer within ${timeoutMs} ms during ${operation}; try again`,
      {
        statusCode: 504,
        code: 'upstream_timeout',
        cause,
        hint: 'check COGNITO_DOMAIN_URL and UPSTREAM_TIMEOUT_MS',
      },
    );
  }
  if (error instanceof oauth.OperationProcessingError) {
    const detail = error.cause as { claim?: unknown; status?: unknown } | undefined;
    // A 5xx is Cognito failing, not a malformed answer: say so (OAuth error bodies only come with 4xx).
    if (
      error.code === oauth.RESPONSE_IS_NOT_CONFORM &&
      typeof detail?.status === 'number' &&
      detail.status >= 500
    ) {
      return new UpstreamError(
        operation === 'code exchange'
          ? `Cognito's token endpoint failed (HTTP ${detail.status}); start sign-in again`
          : `Cognito's token endpoint failed (HTTP ${detail.status}) during ${operation}; try again`,
        {
          code: 'upstream_error',
          cause,
          hint: 'Cognito answered 5xx: check the Cognito service health',
        },
      );
    }
    if (error.code === oauth.JWT_CLAIM_COMPARISON && detail?.claim === 'nonce') {
      return new InvalidTokenError(
        'The ID token nonce does not match this sign-in (possible replay); start sign-in again',
        { code: 'nonce_mismatch', cause },
      );
    }
    if (error.code === oauth.INVALID_RESPONSE && /"nonce"/.test(error.message)) {
      return new InvalidTokenError('The ID token carries no nonce; start sign-in again', {
        code: 'nonce_mismatch',
        cause,
      });
    }
    if (error.code === oauth.JWT_CLAIM_COMPARISON || error.code === oauth.JWT_TIMESTAMP_CHECK) {
      return new InvalidTokenError(
        `The ID token from Cognito is not valid (${error.message}); start sign-in again`,
        {
          code: 'invalid_claim',
          cause,
          hint: 'check USER_POOL_ID/USER_POOL_ISSUER, USER_POOL_CLIENT_ID and the clocks',
        },
      );
    }
    if (error.code === oauth.INVALID_RESPONSE && /"state"/.test(error.message)) {
      return new BrokerError('The state parameter does not match this sign-in; start sign-in again', {
        statusCode: 400,
        code: 'state_mismatch',
        cause,
      });
    }
    return new UpstreamError(`Cognito's answer to the ${operation} is not a valid token response`, {
      code: 'invalid_token_response',
      cause,
      hint: `${error.code}: ${error.message}`,
    });
  }
  if (error instanceof oauth.UnsupportedOperationError) {
    return new UpstreamError(`Cognito's answer to the ${operation} is not supported`, {
      code: 'invalid_token_response',
      cause,
      hint: error.message,
    });
  }
  return new UpstreamError(`Cognito's token endpoint could not be reached during ${operation}; try again`, {
    statusCode: 503,
    code: 'upstream_unavailable',
    cause,
    hint: 'check COGNITO_DOMAIN_URL (the hosted-UI domain) and network access',
  });
}

const oauthErrors = [
  oauth.OperationProcessingError,
  oauth.ResponseBodyError,
  oauth.WWWAuthenticateChallengeError,
  oauth.AuthorizationResponseError,
  oauth.UnsupportedOperationError,
];

/**
 * The cause as it may reach a log line. oauth4webapi puts what it checked in its errors' `cause` and
 * properties: the ID token's claims (name, email…), the token response's body (tokens), the callback's
 * parameters (code, state); only its name, code and message (fixed texts) are kept. Network errors
 * are kept whole: their causes (ECONNREFUSED…) carry nothing personal.
 */
function loggable(error: unknown): unknown {
  if (!oauthErrors.some((type) => error instanceof type)) return error;
  const { name, message, code } = error as Error & { code?: unknown };
  return Object.assign(new Error(message), { name, ...(typeof code === 'string' ? { code } : {}) });
}

function fromOAuthError(
  code: string,
  description: string | undefined,
  operation: Operation,
  cause: unknown,
): Error {
  const described = description ? ` (${description.slice(0, 200)})` : '';
  switch (code) {
    case 'invalid_grant':
      if (operation === 'refresh') {
        return new InvalidTokenError(
          'The session has ended (its refresh token was revoked or expired); sign in again',
          {
            code: 'session_expired',
            cause,
          },
        );
      }
      return new BrokerError(
        'The authorization code was refused (already used, unknown, or older than 5 minutes); start sign-in again',
        { statusCode: 400, code: 'invalid_grant', cause, hint: `invalid_grant at ${operation}${described}` },
      );
    case 'invalid_client':
      return new BrokerError(
        "Cognito refused the sign-in service's own credentials (its client secret), so no sign-in can complete until the service is fixed",
        {
          statusCode: 502,
          code: 'invalid_client',
          expose: true,
          cause,
          hint: `invalid_client at ${operation}${described}: check USER_POOL_CLIENT_ID and the client secret (CLIENT_SECRET_ID)`,
        },
      );
    case 'unauthorized_client':
      return new BrokerError(
        'Cognito does not allow the sign-in service this kind of sign-in, so none can complete until the service is fixed',
        {
          statusCode: 502,
          code: 'unauthorized_client',
          expose: true,
          cause,
          hint:
            description === 'invalid_redirect'
              ? `redirect_uri differs from the one sent to /oauth2/authorize (invalid_redirect) at ${operation}: check PUBLIC_BASE_URL`
              : `the app client is not allowed the ${operation === 'refresh' ? 'refresh_token' : 'authorization_code'} grant${described}: check AllowedOAuthFlows: [code] and ExplicitAuthFlows: [ALLOW_REFRESH_TOKEN_AUTH]`,
        },
      );
    default:
      return new UpstreamError(`Cognito refused the ${operation}; try again`, {
        code: 'token_endpoint_error',
        cause,
        hint: `${code.slice(0, 60)} at ${operation}${described}`,
      });
  }
}
