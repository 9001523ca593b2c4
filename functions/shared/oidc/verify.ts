import { timingSafeEqual } from 'node:crypto';
import {
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JWTPayload,
  jwtVerify,
} from 'jose';
import type { TokenConfig, TrustedIssuer } from '../config.ts';
import { InvalidTokenError, TokenExpiredError, UpstreamError } from '../errors.ts';

export type FetchLike = typeof fetch;

/** Claims of a verified ID token. Only the checked ones are typed; the rest stay `unknown`. */
export interface IdTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce?: string;
  token_use?: string;
  auth_time?: number;
}

export interface VerifiedIdToken {
  claims: IdTokenClaims;
  issuer: TrustedIssuer;
}

export interface VerifyExpectations {
  /** The nonce sent on the authorize request; when set, the token must carry exactly this nonce. */
  nonce?: string;
  /** Override "now" (tests, refresh decisions). */
  now?: Date;
}

/** ID tokens are small; anything bigger is refused before any parsing (Cognito tokens are ~1-2 KB). */
export const maxTokenLength = 16_384;
/** Longest accepted ID-token lifetime: Cognito allows at most one day. */
const maxTokenAgeSeconds = 86_400;
/** How soon after a refetch an unknown `kid` may trigger another JWKS request. */
const jwksCooldownMs = 5_000;

type KeyResolver = ReturnType<typeof createRemoteJWKSet>;

/**
 * Verifies OIDC ID tokens for the issuers the deployment trusts. One instance per container:
 * it keeps one JWKS cache per issuer for the life of the container.
 *
 * @example
 *   const verifier = createIdTokenVerifier(config);
 *   const { claims, issuer } = await verifier.verify(token, { nonce });
 */
export interface IdTokenVerifier {
  /** @throws InvalidTokenError, TokenExpiredError (401) or UpstreamError (503) when keys cannot be fetched. */
  verify(token: string, expectations?: VerifyExpectations): Promise<VerifiedIdToken>;
}

export function createIdTokenVerifier(
  config: Pick<TokenConfig, 'issuers' | 'clockSkewSeconds' | 'upstreamTimeoutMs'>,
  fetchImpl: FetchLike = fetch,
): IdTokenVerifier {
  const byIssuer = new Map(config.issuers.map((i) => [i.issuer, i]));
  const resolvers = new Map<string, Promise<KeyResolver>>();

  const resolverFor = (issuer: TrustedIssuer): Promise<KeyResolver> => {
    let resolver = resolvers.get(issuer.issuer);
    if (resolver === undefined) {
      resolver = jwksUriOf(issuer, fetchImpl, config.upstreamTimeoutMs).then((uri) =>
        createRemoteJWKSet(new URL(uri), {
          // Keys are kept for the container's life; an unknown kid (rotation) triggers a refetch.
          cacheMaxAge: Number.POSITIVE_INFINITY,
          cooldownDuration: jwksCooldownMs,
          timeoutDuration: config.upstreamTimeoutMs,
          [customFetch]: fetchImpl,
        }),
      );
      // A failed discovery must not be cached forever.
      resolver.catch(() => resolvers.delete(issuer.issuer));
      resolvers.set(issuer.issuer, resolver);
    }
    return resolver;
  };

  return {
    async verify(token, expectations = {}) {
      const issuer = trustedIssuerOf(token, byIssuer);
      const keys = await resolverFor(issuer).catch((cause: unknown) => {
        throw keysUnavailable(issuer, cause);
      });
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: issuer.issuer,
          algorithms: [...issuer.algorithms],
          clockTolerance: config.clockSkewSeconds,
          maxTokenAge: maxTokenAgeSeconds,
          // `aud` is checked below, after token_use: a Cognito access token has none, and deserves
          // "send the ID token" rather than "aud is missing".
          requiredClaims: ['iss', 'sub', 'exp', 'iat'],
          ...(expectations.now ? { currentDate: expectations.now } : {}),
        }));
      } catch (cause) {
        throw translateJoseError(cause, issuer);
      }
      const claims = payload as IdTokenClaims;
      if (issuer.kind === 'user-pool' && claims.token_use !== 'id') {
        throw new InvalidTokenError(
          claims.token_use === 'access'
            ? 'This is a Cognito access token; send the ID token instead'
            : 'token_use must be "id" for a Cognito ID token',
          { code: 'wrong_token_use' },
        );
      }
      checkAudience(claims, issuer);
      if (expectations.nonce !== undefined) checkNonce(claims, expectations.nonce);
      return { claims, issuer };
    },
  };
}

/** Picks the trusted issuer named by the (not yet verified) token, refusing anything else early. */
function trustedIssuerOf(token: string, byIssuer: Map<string, TrustedIssuer>): TrustedIssuer {
  if (token.length > maxTokenLength) {
    throw new InvalidTokenError(`The token is longer than ${maxTokenLength} characters`, {
      code: 'token_too_large',
    });
  }
  let iss: unknown;
  try {
    const header = decodeProtectedHeader(token);
    if (typeof header.alg !== 'string' || header.alg === 'none' || header.alg.startsWith('HS')) {
      throw new InvalidTokenError(
        `Tokens signed with "${String(header.alg).slice(0, 16)}" are not accepted`,
        {
          code: 'algorithm_not_allowed',
        },
      );
    }
    iss = decodeJwt(token).iss;
  } catch (error) {
    if (error instanceof InvalidTokenError) throw error;
    throw new InvalidTokenError('The token is not a well-formed JWT (expected three base64url parts)', {
      code: 'malformed_token',
    });
  }
  const issuer = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
  if (issuer === undefined) {
    throw new InvalidTokenError(
      'The token was not issued by a provider this broker trusts; sign in through the configured user pool',
      { code: 'untrusted_issuer' },
    );
  }
  return issuer;
}

/** As identity pools do: `azp`, when present, must be a known client; otherwise `aud` must contain one. */
function checkAudience(claims: IdTokenClaims, issuer: TrustedIssuer): void {
  if (claims.aud === undefined) {
    throw new InvalidTokenError('The ID token claim "aud" is invalid (missing)', { code: 'invalid_claim' });
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const azp = claims.azp;
  if (azp !== undefined) {
    if (typeof azp !== 'string' || !issuer.clientIds.includes(azp)) {
      throw new InvalidTokenError('The token was issued to another client (azp); check USER_POOL_CLIENT_ID', {
        code: 'wrong_audience',
      });
    }
    if (!audiences.includes(azp)) {
      throw new InvalidTokenError('The token azp is not one of its audiences', { code: 'wrong_audience' });
    }
    return;
  }
  if (!audiences.some((a) => issuer.clientIds.includes(a))) {
    throw new InvalidTokenError('The token was issued to another client (aud); check USER_POOL_CLIENT_ID', {
      code: 'wrong_audience',
    });
  }
}

function checkNonce(claims: IdTokenClaims, expected: string): void {
  const actual = claims.nonce;
  if (typeof actual !== 'string' || !safeEqual(actual, expected)) {
    throw new InvalidTokenError(
      actual === undefined
        ? 'The ID token carries no nonce'
        : 'The ID token nonce does not match this sign-in',
      { code: 'nonce_mismatch' },
    );
  }
}

/** Constant-time string comparison (for state, nonce and other secrets). */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  // Compare against itself on length mismatch so the time does not depend on where strings differ.
  return ab.length === bb.length ? timingSafeEqual(ab, bb) : !timingSafeEqual(ab, ab);
}

function translateJoseError(error: unknown, issuer: TrustedIssuer): Error {
  if (error instanceof errors.JWTExpired) {
    return new TokenExpiredError('The ID token has expired; refresh it and try again');
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const claim = error.claim;
    if (claim === 'nbf')
      return new InvalidTokenError('The ID token is not valid yet (nbf)', { code: 'token_not_yet_valid' });
    if (claim === 'iat') {
      return new InvalidTokenError(
        'The ID token was issued in the future or too long ago (iat); check clocks',
        {
          code: 'token_not_yet_valid',
        },
      );
    }
    return new InvalidTokenError(`The ID token claim "${claim}" is invalid (${error.reason})`, {
      code: 'invalid_claim',
    });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new InvalidTokenError('The token is signed with an algorithm this issuer is not allowed to use', {
      code: 'algorithm_not_allowed',
    });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new InvalidTokenError('The token signature is not valid', { code: 'bad_signature' });
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new InvalidTokenError('The token was signed with a key the issuer does not publish (kid)', {
      code: 'unknown_key',
    });
  }
  if (
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JOSENotSupported
  ) {
    return new InvalidTokenError('The token is not a well-formed signed JWT', { code: 'malformed_token' });
  }
  return keysUnavailable(issuer, error);
}

function keysUnavailable(issuer: TrustedIssuer, cause: unknown): UpstreamError {
  return new UpstreamError('The signing keys of the token issuer could not be fetched; try again shortly', {
    statusCode: 503,
    code: 'keys_unavailable',
    cause,
    hint: `JWKS of ${issuer.issuer} unreachable; check network access and USER_POOL_ISSUER/DIRECT_OIDC_PROVIDERS`,
  });
}

async function jwksUriOf(issuer: TrustedIssuer, fetchImpl: FetchLike, timeoutMs: number): Promise<string> {
  if (issuer.jwksUri !== undefined) return issuer.jwksUri;
  const response = await fetchImpl(`${issuer.issuer}/.well-known/openid-configuration`, {
    signal: AbortSignal.timeout(timeoutMs),
    headers: { accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`discovery answered ${response.status}`);
  const doc = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
  if (doc.issuer !== issuer.issuer || typeof doc.jwks_uri !== 'string') {
    throw new Error('discovery document issuer or jwks_uri is wrong');
  }
  return doc.jwks_uri;
}
