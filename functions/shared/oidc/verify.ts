/**
 * ID-token verification on aws-jwt-verify (https://github.com/awslabs/aws-jwt-verify): JWS parsing,
 * key selection by `kid`, the signature (node:crypto), the JWKS cache with its penalty box, `exp`/`nbf`,
 * `iss`, and Cognito's `token_use`/`aud` rules (validateCognitoJwtFields, the check CognitoJwtVerifier
 * runs) are the library's. This module adds the broker's own rules as checks around it, and translates
 * the library's errors into the broker's codes (translate() below).
 *
 * Why JwtVerifier + validateCognitoJwtFields and not CognitoJwtVerifier itself: CognitoJwtVerifier
 * derives issuer and JWKS URL from the pool id, so it cannot point at USER_POOL_ISSUER (the offline
 * stack's user pool), and it also accepts the `issuer-cognito-idp` issuer form, whose tokens the
 * identity pool's logins key (`cognito-idp.<region>.amazonaws.com/<pool id>`) does not name.
 *
 * The broker's rules on top (each pinned by a test, see docs/security-rules.md): a size limit; header
 * and payload must be valid UTF-8 (RFC 7515 §2, RFC 7519 §7.2; the library decodes leniently, so
 * two tokens differing only in invalid bytes would decode alike); `crit` refused (RFC 7515 §4.1.11);
 * the algorithm fixed per issuer (RS256 for the user pool) and checked before any key is fetched; the
 * issuer checked before any key is fetched; RSA keys of at least 2048 bits (RFC 7518 §3.3); `key_ops`
 * must allow `verify`; `exp`, `iat` and a non-empty `sub` required; `iat` not in the future and at
 * most 24 h old (Cognito's longest ID-token validity); `azp`, when present, a trusted client among the
 * audiences (as identity pools check it); the nonce of the sign-in, compared in constant time.
 *
 * JWKS: fetched on first use, fetched again when a token names an unknown kid (key rotation; after a
 * refetch that still lacks it, no new fetch for `unknownKidCooldownMs`, the library's penalty box), and
 * fetched again once older than `jwksMaxAgeMs` (10 minutes, as jose's remote JWKS), so a key the issuer
 * withdrew stops verifying. A failed refetch after the maximum age answers 503: keys are not trusted
 * beyond their age.
 */
import { JwtVerifier } from 'aws-jwt-verify';
import { validateCognitoJwtFields } from 'aws-jwt-verify/cognito-verifier';
import {
  CognitoJwtInvalidClientIdError,
  CognitoJwtInvalidTokenUseError,
  type FailedAssertionError,
  JwkInvalidKtyError,
  JwkInvalidUseError,
  JwksValidationError,
  JwkValidationError,
  JwtExpiredError,
  JwtInvalidAudienceError,
  JwtInvalidClaimError,
  JwtInvalidIssuerError,
  JwtInvalidSignatureAlgorithmError,
  JwtInvalidSignatureError,
  JwtNotBeforeError,
  JwtParseError,
  JwtWithoutValidKidError,
  KidNotFoundInJwksError,
  WaitPeriodNotYetEndedJwkError,
} from 'aws-jwt-verify/error';
import type { Fetcher } from 'aws-jwt-verify/https';
import { type JwksCache, type PenaltyBox, SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { type DecomposedJwt, decomposeUnverifiedJwt } from 'aws-jwt-verify/jwt';
import type { JwtVerifierProperties, VerifyProperties } from 'aws-jwt-verify/jwt-verifier';
import type { JsonObject } from 'aws-jwt-verify/safe-json-parse';
import { safeEqual } from '../compare.ts';
import type { TokenConfig, TrustedIssuer } from '../config.ts';
import { BrokerError, InvalidTokenError, TokenExpiredError, UpstreamError } from '../errors.ts';
import { upstreamCall } from '../metrics.ts';
import { type FetchLike, upstreamRequest } from '../upstream-http.ts';

/** A JWT claims set: any JSON object. */
interface JWTPayload {
  [claim: string]: unknown;
}

/** Claims of a verified ID token. Only the checked ones are typed; the rest stay `unknown`. */
export interface IdTokenClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nbf?: number;
  azp?: string;
  nonce?: string;
  token_use?: string;
  auth_time?: number;
}

interface VerifiedIdToken {
  claims: IdTokenClaims;
  issuer: TrustedIssuer;
}

interface VerifyExpectations {
  /** The nonce sent on the authorize request; when set, the token must carry exactly this nonce. */
  nonce?: string;
}

/** ID tokens are small; anything bigger is refused before any parsing (Cognito tokens are ~1-2 KB). */
const maxTokenLength = 16_384;
/** Longest accepted ID-token age: Cognito allows at most one day of validity. */
const maxTokenAgeSeconds = 86_400;
/** Keys older than this are fetched again before they verify anything (jose's remote-JWKS default). */
export const jwksMaxAgeMs = 10 * 60_000;
/** After a refetch that did not find a token's kid, no new fetch for an unknown kid for this long. */
export const unknownKidCooldownMs = 10_000;
/** RFC 7518 §3.3: RSA keys of 2048 bits or more. */
const minRsaModulusBits = 2048;

/**
 * Verifies the user pool's ID tokens. One instance per container: it keeps the JWKS cache.
 *
 * @example
 *   const verifier = createIdTokenVerifier(config);
 *   const { claims, issuer } = await verifier.verify(token, { nonce });
 */
export interface IdTokenVerifier {
  /** @throws InvalidTokenError, TokenExpiredError (401) or UpstreamError (503) when keys cannot be fetched. */
  verify(token: string, expectations?: VerifyExpectations): Promise<VerifiedIdToken>;
}

export interface VerifierOptions {
  /** How to fetch the JWKS; tests pass a fake. Without one, node:https (upstream-http.ts). */
  fetch?: FetchLike | undefined;
  /** Epoch milliseconds, for the JWKS maximum age and the unknown-kid cool-down. Default Date.now. */
  now?: () => number;
}

/**
 * @param options a `FetchLike` alone is accepted too (the handlers' injected fetch).
 */
export function createIdTokenVerifier(
  config: Pick<TokenConfig, 'userPool' | 'clockSkewSeconds' | 'upstreamTimeoutMs'>,
  options: VerifierOptions | FetchLike | undefined = {},
): IdTokenVerifier {
  const { fetch: fetchImpl, now = Date.now } = typeof options === 'function' ? { fetch: options } : options;
  const issuer = config.userPool;
  const skew = config.clockSkewSeconds;
  const jwksUri = issuer.jwksUri;
  const jwksCache = new MaxAgeJwksCache(jwksMaxAgeMs, now, {
    fetcher: fetcherFor(fetchImpl, config.upstreamTimeoutMs),
    penaltyBox: new CooldownPenaltyBox(unknownKidCooldownMs, now),
  });
  const properties = { issuer: issuer.issuer, jwksUri, audience: null, graceSeconds: skew };
  const verifier = new DecomposedJwtVerifier(properties, jwksCache);

  return {
    async verify(token, expectations = {}) {
      const jwt = precheck(token, issuer);
      let claims: IdTokenClaims | undefined;
      try {
        await verifier.verifyDecomposed(jwt, jwksUri, {
          ...properties,
          customJwtCheck: ({ payload, jwk }) => {
            checkKey(jwk);
            claims = checkClaims(payload, issuer, skew, Math.floor(now() / 1000));
            if (expectations.nonce !== undefined) checkNonce(claims, expectations.nonce);
          },
        });
      } catch (error) {
        throw translate(error);
      }
      return { claims: claims as IdTokenClaims, issuer };
    },
  };
}

const malformed = (detail?: string) =>
  new InvalidTokenError(detail ?? 'The token is not a well-formed JWT (expected three base64url parts)', {
    code: 'malformed_token',
  });

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * JwtVerifier, verifying a JWT the library already decomposed (for the checks before any key fetch):
 * decomposing costs about as much as the signature check, so it is done once.
 */
class DecomposedJwtVerifier extends JwtVerifier<
  VerifyProperties,
  JwtVerifierProperties<VerifyProperties>,
  false
> {
  constructor(properties: JwtVerifierProperties<VerifyProperties>, jwksCache: JwksCache) {
    super(properties, jwksCache);
  }

  verifyDecomposed(jwt: DecomposedJwt, jwksUri: string, properties: VerifyProperties) {
    return this.verifyDecomposedJwt(jwt, jwksUri, properties);
  }
}

/** Checks that need no key: size, UTF-8, `crit`, the algorithm and the issuer, before any fetch. */
function precheck(token: string, issuer: TrustedIssuer): DecomposedJwt {
  if (token.length > maxTokenLength) {
    throw new InvalidTokenError(`The token is longer than ${maxTokenLength} characters`, {
      code: 'token_too_large',
    });
  }
  const { jwt, unsigned } = decompose(token);
  try {
    utf8.decode(Buffer.from(jwt.headerB64, 'base64url'));
    utf8.decode(Buffer.from(jwt.payloadB64, 'base64url'));
  } catch {
    throw malformed('The token header or payload is not valid UTF-8');
  }
  const alg = jwt.header.alg;
  if (typeof alg !== 'string' || alg === 'none' || alg.startsWith('HS')) {
    throw new InvalidTokenError(`Tokens signed with "${String(alg).slice(0, 16)}" are not accepted`, {
      code: 'algorithm_not_allowed',
    });
  }
  // No extension is understood, so any critical one must be refused (RFC 7515 §4.1.11).
  if (jwt.header.crit !== undefined) {
    throw malformed('The token names critical header parameters this broker does not support');
  }
  if (!(issuer.algorithms as readonly string[]).includes(alg)) {
    throw new InvalidTokenError('The token is signed with an algorithm this issuer is not allowed to use', {
      code: 'algorithm_not_allowed',
    });
  }
  if (jwt.payload.iss !== issuer.issuer) {
    throw new InvalidTokenError(
      'The token was not issued by a provider this broker trusts; sign in through the configured user pool',
      { code: 'untrusted_issuer' },
    );
  }
  if (unsigned) throw new InvalidTokenError('The token signature is not valid', { code: 'bad_signature' });
  return jwt;
}

/**
 * The library's decomposition. A token with an empty signature (an unsecured JWT, or a stripped
 * signature) fails it; its header and payload are then read by the library with a placeholder
 * signature, only so that the answer can say why (alg none, or no signature), never to accept it.
 */
function decompose(token: string): { jwt: ReturnType<typeof decomposeUnverifiedJwt>; unsigned: boolean } {
  try {
    return { jwt: decomposeUnverifiedJwt(token), unsigned: false };
  } catch {
    if (token.endsWith('.')) {
      try {
        return { jwt: decomposeUnverifiedJwt(`${token}AA`), unsigned: true };
      } catch {}
    }
    throw malformed();
  }
}

const unknownKey = () =>
  new InvalidTokenError('The token was signed with a key the issuer does not publish (kid)', {
    code: 'unknown_key',
  });

/** Keys that passed checkKey: the JWKS cache hands out the same objects until it refetches. */
const checkedKeys = new WeakSet<JsonObject>();

/** The key rules the library leaves out: RSA size and `key_ops`. */
function checkKey(jwk: JsonObject): void {
  if (checkedKeys.has(jwk)) return;
  if (jwk.kty === 'RSA') {
    const n = typeof jwk.n === 'string' ? Buffer.from(jwk.n, 'base64url').toString('hex') : '';
    const bits = n === '' ? 0 : BigInt(`0x${n}`).toString(2).length;
    if (bits < minRsaModulusBits) {
      throw new InvalidTokenError('The token was signed with an RSA key shorter than 2048 bits', {
        code: 'unknown_key',
      });
    }
  }
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) {
    throw unknownKey();
  }
  checkedKeys.add(jwk);
}

const claimError = (claim: string, reason: 'missing' | 'invalid' | 'check_failed') =>
  new InvalidTokenError(`The ID token claim "${claim}" is invalid (${reason})`, { code: 'invalid_claim' });

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * After the signature: what the library does not require (exp, iat, sub), the maximum age, Cognito's
 * token_use and client ids, then azp. exp and nbf themselves are the library's (graceSeconds = skew).
 */
function checkClaims(payload: JsonObject, issuer: TrustedIssuer, skew: number, now: number): IdTokenClaims {
  for (const claim of ['sub', 'exp', 'iat'] as const) {
    if (payload[claim] === undefined) throw claimError(claim, 'missing');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') throw claimError('sub', 'invalid');
  const { iat, exp } = payload;
  if (!isNumber(iat)) throw claimError('iat', 'invalid');
  if (!isNumber(exp)) throw claimError('exp', 'invalid');
  if (exp <= now - skew || now - iat - skew > maxTokenAgeSeconds) {
    throw new TokenExpiredError('The ID token has expired; refresh it and try again');
  }
  if (iat > now + skew) {
    throw new InvalidTokenError('The ID token was issued in the future (iat)', {
      code: 'token_not_yet_valid',
      hint: 'check the clocks, and CLOCK_SKEW_SECONDS',
    });
  }
  if (payload.auth_time !== undefined && !isNumber(payload.auth_time))
    throw claimError('auth_time', 'invalid');
  validateCognitoJwtFields(payload, { tokenUse: 'id', clientId: [...issuer.clientIds], groups: null });
  const claims = payload as unknown as IdTokenClaims;
  checkAzp(claims, issuer);
  return claims;
}

/** As identity pools do: `azp`, when present, must be a trusted client and one of the audiences. */
function checkAzp(claims: IdTokenClaims, issuer: TrustedIssuer): void {
  const azp = claims.azp;
  if (azp === undefined) return;
  if (typeof azp !== 'string' || !issuer.clientIds.includes(azp)) {
    throw new InvalidTokenError('The token was issued to another client (azp)', {
      code: 'wrong_audience',
      hint: 'azp is not USER_POOL_CLIENT_ID or one of TRUSTED_CLIENT_IDS',
    });
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(azp)) {
    throw new InvalidTokenError('The token azp is not one of its audiences', { code: 'wrong_audience' });
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

/** The adapter: aws-jwt-verify's error classes to the broker's codes and messages. */
function translate(error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  if (error instanceof JwtParseError) return malformed();
  if (error instanceof JwtInvalidSignatureError) {
    return new InvalidTokenError('The token signature is not valid', { code: 'bad_signature' });
  }
  if (error instanceof JwtInvalidSignatureAlgorithmError) {
    return new InvalidTokenError('The token is signed with an algorithm this issuer is not allowed to use', {
      code: 'algorithm_not_allowed',
    });
  }
  if (
    error instanceof JwtWithoutValidKidError ||
    error instanceof KidNotFoundInJwksError ||
    error instanceof WaitPeriodNotYetEndedJwkError ||
    error instanceof JwkInvalidUseError ||
    error instanceof JwkInvalidKtyError
  ) {
    return unknownKey();
  }
  if (error instanceof JwtExpiredError) {
    return new TokenExpiredError('The ID token has expired; refresh it and try again');
  }
  if (error instanceof JwtNotBeforeError) {
    return new InvalidTokenError('The ID token is not valid yet (nbf)', { code: 'token_not_yet_valid' });
  }
  if (error instanceof CognitoJwtInvalidTokenUseError) {
    return new InvalidTokenError(
      (error as FailedAssertionError).failedAssertion.actual === 'access'
        ? 'This is a Cognito access token; send the ID token instead'
        : 'token_use must be "id" for a Cognito ID token',
      { code: 'wrong_token_use' },
    );
  }
  if (error instanceof CognitoJwtInvalidClientIdError || error instanceof JwtInvalidAudienceError) {
    if ((error as FailedAssertionError).failedAssertion.actual === undefined)
      return claimError('aud', 'missing');
    return new InvalidTokenError('The token was issued to another client (aud)', {
      code: 'wrong_audience',
      hint: 'aud is not USER_POOL_CLIENT_ID or one of TRUSTED_CLIENT_IDS',
    });
  }
  if (error instanceof JwtInvalidIssuerError) return claimError('iss', 'check_failed');
  if (error instanceof JwtInvalidClaimError) return claimError('token', 'check_failed');
  if (error instanceof JwkValidationError) return unknownKey();
  // Anything else is a fault of the broker (a TypeError…), not of the keys: a 500, not a 503.
  throw error;
}

/** Fetching or reading the JWKS failed (a timeout, a socket error, a non-200, a malformed set). */
function keysUnavailable(error: unknown, jwksUri: string): UpstreamError {
  return new UpstreamError('The signing keys of the token issuer could not be fetched; try again shortly', {
    statusCode: 503,
    code: 'keys_unavailable',
    cause: error,
    hint: `JWKS ${jwksUri} unreachable${error instanceof JwksValidationError ? ' or malformed' : ''}; check network access and USER_POOL_ISSUER`,
  });
}

/**
 * The library's cache, with a maximum age: a JWKS older than `maxAgeMs` is fetched again before it
 * verifies anything. Concurrent fetches of one URL are shared by SimpleJwksCache.
 */
class MaxAgeJwksCache extends SimpleJwksCache {
  private readonly fetchedAt = new Map<string, number>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(maxAgeMs: number, now: () => number, props: ConstructorParameters<typeof SimpleJwksCache>[0]) {
    super(props);
    this.maxAgeMs = maxAgeMs;
    this.now = now;
  }

  override async getJwks(jwksUri: string) {
    let jwks: Awaited<ReturnType<SimpleJwksCache['getJwks']>>;
    try {
      jwks = await super.getJwks(jwksUri);
    } catch (error) {
      throw keysUnavailable(error, jwksUri);
    }
    this.fetchedAt.set(jwksUri, this.now());
    return jwks;
  }

  override async getJwk(...[jwksUri, jwt]: Parameters<SimpleJwksCache['getJwk']>) {
    const at = this.fetchedAt.get(jwksUri);
    if (at !== undefined && this.now() - at >= this.maxAgeMs) await this.getJwks(jwksUri);
    return super.getJwk(jwksUri, jwt);
  }
}

/**
 * The library's penalty-box contract on an injected clock (SimplePenaltyBox runs a timer, which tests
 * could only wait for): after a fetch that did not find the kid, `wait` refuses until the cool-down ends.
 */
class CooldownPenaltyBox implements PenaltyBox {
  private readonly until = new Map<string, number>();
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(cooldownMs: number, now: () => number) {
    this.cooldownMs = cooldownMs;
    this.now = now;
  }

  async wait(jwksUri: string): Promise<void> {
    if ((this.until.get(jwksUri) ?? 0) > this.now()) {
      throw new WaitPeriodNotYetEndedJwkError(
        'Not allowed to fetch JWKS yet, still waiting for back off period to end',
      );
    }
  }

  registerFailedAttempt(jwksUri: string): void {
    this.until.set(jwksUri, this.now() + this.cooldownMs);
  }

  registerSuccessfulAttempt(jwksUri: string): void {
    this.until.delete(jwksUri);
  }
}

/**
 * How the library fetches the JWKS: the injected fetch, or node:https, within the upstream timeout;
 * each fetch counted as a `Jwks` upstream call (metrics.ts).
 */
function fetcherFor(fetchImpl: FetchLike | undefined, timeoutMs: number): Fetcher {
  const plain = plainFetcherFor(fetchImpl, timeoutMs);
  return { fetch: (uri) => upstreamCall('Jwks', () => plain.fetch(uri)) };
}

function plainFetcherFor(fetchImpl: FetchLike | undefined, timeoutMs: number): Fetcher {
  const headers = { accept: 'application/json' };
  if (fetchImpl === undefined) {
    return {
      async fetch(uri) {
        const response = await upstreamRequest(uri, { method: 'GET', headers, timeoutMs, maxBytes: 262_144 });
        if (response.status !== 200) throw new Error(`${uri} answered ${response.status}`);
        return toArrayBuffer(Buffer.from(response.body, 'utf8'));
      },
    };
  }
  return {
    async fetch(uri) {
      const response = await fetchImpl(uri, {
        signal: AbortSignal.timeout(timeoutMs),
        headers,
        redirect: 'manual',
      });
      if (response.status !== 200) throw new Error(`${uri} answered ${response.status}`);
      return response.arrayBuffer();
    },
  };
}

function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}
