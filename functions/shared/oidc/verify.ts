/**
 * ID-token verification: one place for every check (signature against the issuer's JWKS, algorithm
 * allow-list, iss, aud/azp, exp/nbf/iat with bounded skew and a maximum age, token_use, nonce).
 *
 * Why node:crypto and not jose's jwtVerify: /credentials verifies a token on every request, and jose
 * verifies through WebCrypto, whose asynchronous job costs about three times node:crypto's synchronous
 * verify for the same RSA key (bench: jose-based 0.46x aws-jwt-verify's throughput, this one >1x). The
 * JOSE rules jose enforces here are few and kept: compact JWS only, `crit` refused, the algorithm
 * fixed per issuer (never taken from the key or the token alone), keys chosen by kid, kty, crv, use,
 * key_ops and alg, RSA keys of at least 2048 bits, and no key ever taken from the token (jwk, jku, x5u
 * are ignored). Keys come from the issuer's JWKS, cached for the container's life and fetched again
 * on an unknown kid at most every 5 s.
 */
import {
  constants,
  createPublicKey,
  type KeyObject,
  timingSafeEqual,
  verify as verifySignature,
} from 'node:crypto';
import type { SigningAlgorithm, TokenConfig, TrustedIssuer } from '../config.ts';
import { InvalidTokenError, TokenExpiredError, UpstreamError } from '../errors.ts';
import { upstreamRequest } from '../upstream-http.ts';

export type FetchLike = typeof fetch;

/** A JWT claims set: any JSON object. */
export interface JWTPayload {
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

/** Reads a JSON document (JWKS, discovery) from a URL, within the upstream timeout. */
type GetJson = (url: string) => Promise<unknown>;

/**
 * @param fetchImpl how to fetch keys and discovery documents; tests pass a fake. Without one, keys are
 *   fetched with node:https (upstream-http.ts), which keeps `fetch` (undici) off the cold start.
 */
export function createIdTokenVerifier(
  config: Pick<TokenConfig, 'issuers' | 'clockSkewSeconds' | 'upstreamTimeoutMs'>,
  fetchImpl?: FetchLike,
): IdTokenVerifier {
  const byIssuer = new Map(config.issuers.map((i) => [i.issuer, i]));
  const getJson = jsonGetter(fetchImpl, config.upstreamTimeoutMs);
  const keySets = new Map<string, Promise<KeySet>>();

  const keySetFor = (issuer: TrustedIssuer): Promise<KeySet> => {
    let keySet = keySets.get(issuer.issuer);
    if (keySet === undefined) {
      keySet = jwksUriOf(issuer, getJson).then((uri) => createKeySet(uri, getJson));
      // A failed discovery must not be cached forever.
      keySet.catch(() => keySets.delete(issuer.issuer));
      keySets.set(issuer.issuer, keySet);
    }
    return keySet;
  };

  return {
    async verify(token, expectations = {}) {
      const jws = parseCompactJws(token);
      const issuer = trustedIssuerOf(jws.payload, byIssuer);
      const alg = jws.header.alg as SigningAlgorithm;
      if (!issuer.algorithms.includes(alg)) {
        throw new InvalidTokenError(
          'The token is signed with an algorithm this issuer is not allowed to use',
          {
            code: 'algorithm_not_allowed',
          },
        );
      }
      const keySet = await keySetFor(issuer).catch((cause: unknown) => {
        throw keysUnavailable(issuer, cause);
      });
      const key = await keySet.keyFor(alg, jws.header.kid).catch((cause: unknown) => {
        if (cause instanceof InvalidTokenError) throw cause;
        throw keysUnavailable(issuer, cause);
      });
      if (!signatureIsValid(alg, key, jws)) {
        throw new InvalidTokenError('The token signature is not valid', { code: 'bad_signature' });
      }
      const claims = checkClaims(jws.payload, issuer, config.clockSkewSeconds, expectations.now);
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

interface CompactJws {
  header: { alg: string; kid?: unknown } & JWTPayload;
  payload: JWTPayload;
  /** `<header>.<payload>` as sent: what the signature covers. */
  signingInput: string;
  signature: Buffer;
}

const base64url = /^[A-Za-z0-9_-]*$/;
const malformed = () =>
  new InvalidTokenError('The token is not a well-formed JWT (expected three base64url parts)', {
    code: 'malformed_token',
  });

function decodeJson(segment: string): JWTPayload {
  if (segment === '' || !base64url.test(segment)) throw malformed();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw malformed();
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw malformed();
  return value as JWTPayload;
}

/** Splits and decodes a compact JWS, refusing what no signature check should ever see. */
function parseCompactJws(token: string): CompactJws {
  if (token.length > maxTokenLength) {
    throw new InvalidTokenError(`The token is longer than ${maxTokenLength} characters`, {
      code: 'token_too_large',
    });
  }
  const parts = token.split('.');
  const header = decodeJson(parts[0] ?? '');
  const alg = header.alg;
  if (typeof alg !== 'string' || alg === 'none' || alg.startsWith('HS')) {
    throw new InvalidTokenError(`Tokens signed with "${String(alg).slice(0, 16)}" are not accepted`, {
      code: 'algorithm_not_allowed',
    });
  }
  if (parts.length !== 3) throw malformed();
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  // No extension is understood, so any critical one must be refused (RFC 7515 §4.1.11).
  if (header.crit !== undefined) {
    throw new InvalidTokenError('The token names critical header parameters this broker does not support', {
      code: 'malformed_token',
    });
  }
  const payload = decodeJson(encodedPayload);
  if (!base64url.test(encodedSignature)) throw malformed();
  return {
    header: header as CompactJws['header'],
    payload,
    signingInput: `${encodedHeader}.${encodedPayload}`,
    signature: Buffer.from(encodedSignature, 'base64url'),
  };
}

/** Picks the trusted issuer named by the (not yet verified) token, refusing anything else early. */
function trustedIssuerOf(payload: JWTPayload, byIssuer: Map<string, TrustedIssuer>): TrustedIssuer {
  const iss = payload.iss;
  const issuer = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
  if (issuer === undefined) {
    throw new InvalidTokenError(
      'The token was not issued by a provider this broker trusts; sign in through the configured user pool',
      { code: 'untrusted_issuer' },
    );
  }
  return issuer;
}

const hashOf: Record<SigningAlgorithm, string> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
};

function signatureIsValid(alg: SigningAlgorithm, key: KeyObject, jws: CompactJws): boolean {
  const data = Buffer.from(jws.signingInput, 'latin1');
  const hash = hashOf[alg];
  try {
    if (alg.startsWith('PS')) {
      return verifySignature(
        hash,
        data,
        { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
        jws.signature,
      );
    }
    if (alg.startsWith('ES')) {
      // JWS carries ECDSA signatures as r||s (RFC 7518 §3.4), not DER.
      return verifySignature(hash, data, { key, dsaEncoding: 'ieee-p1363' }, jws.signature);
    }
    return verifySignature(hash, data, key, jws.signature);
  } catch {
    return false;
  }
}

const claimError = (claim: string, reason: 'missing' | 'invalid' | 'check_failed') =>
  new InvalidTokenError(`The ID token claim "${claim}" is invalid (${reason})`, { code: 'invalid_claim' });

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The registered claims (RFC 7519 §4.1) with the issuer's expectations, at `now` ± the clock skew. */
function checkClaims(
  payload: JWTPayload,
  issuer: TrustedIssuer,
  skewSeconds: number,
  nowDate: Date | undefined,
): IdTokenClaims {
  for (const claim of ['iss', 'sub', 'exp', 'iat'] as const) {
    if (payload[claim] === undefined) throw claimError(claim, 'missing');
  }
  if (payload.iss !== issuer.issuer) throw claimError('iss', 'check_failed');
  if (typeof payload.sub !== 'string' || payload.sub === '') throw claimError('sub', 'invalid');
  const aud = payload.aud;
  if (
    aud !== undefined &&
    typeof aud !== 'string' &&
    !(Array.isArray(aud) && aud.every((a) => typeof a === 'string'))
  ) {
    throw claimError('aud', 'invalid');
  }
  const now = Math.floor((nowDate?.getTime() ?? Date.now()) / 1000);
  const { iat, nbf, exp } = payload;
  if (!isNumber(iat)) throw claimError('iat', 'invalid');
  if (nbf !== undefined) {
    if (!isNumber(nbf)) throw claimError('nbf', 'invalid');
    if (nbf > now + skewSeconds) {
      throw new InvalidTokenError('The ID token is not valid yet (nbf)', { code: 'token_not_yet_valid' });
    }
  }
  if (!isNumber(exp)) throw claimError('exp', 'invalid');
  if (exp <= now - skewSeconds) {
    throw new TokenExpiredError('The ID token has expired; refresh it and try again');
  }
  const age = now - iat;
  if (age - skewSeconds > maxTokenAgeSeconds) {
    throw new TokenExpiredError('The ID token has expired; refresh it and try again');
  }
  if (age < -skewSeconds) {
    throw new InvalidTokenError('The ID token was issued in the future or too long ago (iat); check clocks', {
      code: 'token_not_yet_valid',
    });
  }
  if (payload.auth_time !== undefined && !isNumber(payload.auth_time))
    throw claimError('auth_time', 'invalid');
  return payload as IdTokenClaims;
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

function keysUnavailable(issuer: TrustedIssuer, cause: unknown): UpstreamError {
  return new UpstreamError('The signing keys of the token issuer could not be fetched; try again shortly', {
    statusCode: 503,
    code: 'keys_unavailable',
    cause,
    hint: `JWKS of ${issuer.issuer} unreachable; check network access and USER_POOL_ISSUER/DIRECT_OIDC_PROVIDERS`,
  });
}

function jsonGetter(fetchImpl: FetchLike | undefined, timeoutMs: number): GetJson {
  const headers = { accept: 'application/json' };
  if (fetchImpl === undefined) {
    return async (url) => {
      const response = await upstreamRequest(url, { method: 'GET', headers, timeoutMs, maxBytes: 262_144 });
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
      return JSON.parse(response.body);
    };
  }
  return async (url) => {
    const response = await fetchImpl(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers,
      redirect: 'manual',
    });
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    return response.json();
  };
}

async function jwksUriOf(issuer: TrustedIssuer, getJson: GetJson): Promise<string> {
  if (issuer.jwksUri !== undefined) return issuer.jwksUri;
  const doc = (await getJson(`${issuer.issuer}/.well-known/openid-configuration`)) as {
    issuer?: unknown;
    jwks_uri?: unknown;
  } | null;
  if (doc?.issuer !== issuer.issuer || typeof doc.jwks_uri !== 'string') {
    throw new Error('discovery document issuer or jwks_uri is wrong');
  }
  return doc.jwks_uri;
}

interface PublishedKey {
  kid: string | undefined;
  kty: string;
  crv: string | undefined;
  alg: string | undefined;
  use: string | undefined;
  keyOps: unknown[] | undefined;
  key: KeyObject;
}

interface KeySet {
  /** @throws InvalidTokenError `unknown_key`, or the fetch's error when the keys had to be fetched again. */
  keyFor(alg: SigningAlgorithm, kid: unknown): Promise<KeyObject>;
}

const ecCurveOf: Partial<Record<SigningAlgorithm, string>> = { ES256: 'P-256', ES384: 'P-384' };

/** The keys of a JWKS that can verify signatures; anything else in it is left out. */
function importKeys(jwks: unknown): PublishedKey[] {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('the JWKS has no "keys" array');
  const out: PublishedKey[] = [];
  for (const jwk of keys as Record<string, unknown>[]) {
    if (jwk === null || typeof jwk !== 'object' || (jwk.kty !== 'RSA' && jwk.kty !== 'EC')) continue;
    let key: KeyObject;
    try {
      const { kty, n, e, crv, x, y } = jwk;
      key = createPublicKey({ key: { kty, n, e, crv, x, y } as never, format: 'jwk' });
    } catch {
      continue;
    }
    // RFC 7518 §3.3: RSA keys of 2048 bits or more.
    if (jwk.kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) continue;
    out.push({
      kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
      kty: jwk.kty,
      crv: typeof jwk.crv === 'string' ? jwk.crv : undefined,
      alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
      use: typeof jwk.use === 'string' ? jwk.use : undefined,
      keyOps: Array.isArray(jwk.key_ops) ? jwk.key_ops : undefined,
      key,
    });
  }
  return out;
}

/**
 * One issuer's keys: fetched on first use, kept for the container's life, fetched again when a token
 * names a kid the set does not have (key rotation), at most once per cooldown. Concurrent requests
 * share one fetch.
 */
function createKeySet(uri: string, getJson: GetJson): KeySet {
  let keys: PublishedKey[] | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  const reload = () => {
    inFlight ??= getJson(uri)
      .then((jwks) => {
        keys = importKeys(jwks);
        fetchedAt = Date.now();
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
  const matching = (alg: SigningAlgorithm, kid: unknown) => {
    const kty = alg.startsWith('ES') ? 'EC' : 'RSA';
    return (keys ?? []).filter(
      (k) =>
        k.kty === kty &&
        (kid === undefined || k.kid === kid) &&
        (k.alg === undefined || k.alg === alg) &&
        (k.use === undefined || k.use === 'sig') &&
        (k.keyOps === undefined || k.keyOps.includes('verify')) &&
        (kty !== 'EC' || k.crv === ecCurveOf[alg]),
    );
  };
  return {
    async keyFor(alg, kid) {
      if (keys === undefined) await reload();
      let candidates = matching(alg, kid);
      if (candidates.length === 0 && Date.now() - fetchedAt >= jwksCooldownMs) {
        await reload();
        candidates = matching(alg, kid);
      }
      const [only] = candidates;
      if (only === undefined || candidates.length > 1) {
        throw new InvalidTokenError('The token was signed with a key the issuer does not publish (kid)', {
          code: 'unknown_key',
        });
      }
      return only.key;
    },
  };
}
