/**
 * A fake Cognito user pool for sign-in tests, reached through an injected `fetch` (no network): the
 * issuer's JWKS (from tokens.ts), `/oauth2/token` (authorization_code with PKCE and client_secret_basic,
 * refresh_token) and `/oauth2/revoke`, with Cognito's error answers. Tokens are real: RS256 ID tokens
 * shaped like Cognito's for a federated ID.me user, and refresh tokens that are RSA-OAEP/A256GCM JWEs
 * of Cognito's size (~1.7 KB).
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { canonicalIdmeClaims, realisticRefreshToken } from '../../local/fixtures.ts';

export { canonicalIdmeClaims, realisticRefreshToken };

import type { JWTPayload } from 'jose';
import {
  cognitoIdClaims,
  createTestIssuer,
  credentialsEnv,
  type TestIssuer,
  testClientId,
  testIssuer,
} from './tokens.ts';

export const testDomain = 'https://auth.example.test';
export const testClientSecret = 'test-client-secret+with/odd=chars';
export const testPublicBaseUrl = 'https://api.example.com';
export const testFrontend = 'https://app.example.com';
export const testCallbackUrl = `${testPublicBaseUrl}/auth/callback`;
/** Two keys: `k2` seals, `k1` (older) still opens. */
export const testCookieKeys = {
  current: 'k2',
  k1: 'older-cookie-key-0123456789abcdefghijklmnop',
  k2: 'current-cookie-key-0123456789abcdefghijklmn',
};

/** The environment of the sign-in functions, pointing at the fake pool. */
export function authEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return credentialsEnv({
    COGNITO_DOMAIN_URL: testDomain,
    USER_POOL_CLIENT_SECRET: testClientSecret,
    COOKIE_KEYS: JSON.stringify(testCookieKeys),
    PUBLIC_BASE_URL: testPublicBaseUrl,
    IDENTITY_PROVIDERS: 'IDmeSandbox,IduraTest',
    ALLOWED_ORIGINS: testFrontend,
    ...overrides,
  });
}

export interface RecordedRequest {
  url: string;
  authorization: string | undefined;
  form: URLSearchParams;
}

type Fault = 'hang' | 'network' | { status: number; body?: unknown; headers?: Record<string, string> };

export interface FakeUserPool {
  issuer: TestIssuer;
  fetch: typeof fetch;
  /** Every call to /oauth2/token and /oauth2/revoke. */
  requests: RecordedRequest[];
  revoked: Set<string>;
  /** Refresh tokens issued, in order. */
  refreshTokens: string[];
  /**
   * Plays /oauth2/authorize and the IdP: reads the authorize URL the broker built and returns the
   * callback query Cognito would redirect to. `nonce: null` leaves the nonce out of the ID token.
   */
  authorize(authorizeUrl: string, options?: { claims?: JWTPayload; nonce?: string | null }): URLSearchParams;
  /** Makes the next token/revoke calls fail this way, until cleared with undefined. */
  setFault(fault: Fault | undefined): void;
  /** The pool's clock (epoch seconds); tokens are issued relative to it. */
  clock: { now: number };
  idTokenLifetimeSeconds: number;
  /** Claims added to ID tokens issued on refresh. */
  refreshClaims: JWTPayload;
  /** Issue a new refresh token on refresh (rotation). */
  rotateRefreshTokens: boolean;
  /** Makes the pool know a refresh token it did not issue (a sample event's), for a user with `claims`. */
  acceptRefreshToken(token: string, claims: JWTPayload): void;
}

/** client_secret_basic as RFC 6749 §2.3.1 has it: id and secret form-encoded, then base64. */
export function basicCredentials(
  authorization: string | undefined,
): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const [id, secret] = Buffer.from(match[1], 'base64').toString('utf8').split(':');
  if (id === undefined || secret === undefined) return undefined;
  const decode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  return { id: decode(id), secret: decode(secret) };
}

function basicOk(authorization: string | undefined): boolean {
  const credentials = basicCredentials(authorization);
  return credentials?.id === testClientId && credentials.secret === testClientSecret;
}

export async function createFakeUserPool(): Promise<FakeUserPool> {
  const issuer = await createTestIssuer({ issuer: testIssuer });
  const codes = new Map<
    string,
    { challenge: string; nonce: string | null; redirectUri: string; claims: JWTPayload; used: boolean }
  >();
  const sessions = new Map<string, { claims: JWTPayload; originJti: string }>();
  const requests: RecordedRequest[] = [];
  const revoked = new Set<string>();
  const refreshTokens: string[] = [];
  let fault: Fault | undefined;

  const error = (status: number, body: Record<string, string>) =>
    Response.json(body, { status, headers: { 'content-type': 'application/json;charset=UTF-8' } });

  const idToken = (claims: JWTPayload, nonce: string | null | undefined, originJti: string) => {
    const now = pool.clock.now;
    const base = { ...cognitoIdClaims(testIssuer, now), ...canonicalIdmeClaims, origin_jti: originJti };
    const payload: JWTPayload = {
      ...base,
      auth_time: now,
      iat: now,
      exp: now + pool.idTokenLifetimeSeconds,
      ...claims,
    };
    if (typeof nonce === 'string') payload.nonce = nonce;
    payload.at_hash = randomBytes(16).toString('base64url');
    return issuer.sign(payload, { raw: true });
  };
  const accessToken = (originJti: string) => {
    const now = pool.clock.now;
    return issuer.sign(
      {
        sub: '44e8b438-a061-70ca-faa7-3d3e93c015cb',
        iss: testIssuer,
        client_id: testClientId,
        token_use: 'access',
        scope: 'openid email profile',
        auth_time: now,
        iat: now,
        exp: now + 3600,
        jti: randomUUID(),
        origin_jti: originJti,
        username: 'IDmeSandbox_6400bbf301eb4e6e95ccea7693eced6f',
      },
      { raw: true },
    );
  };
  const newRefreshToken = async (claims: JWTPayload, originJti: string) => {
    const token = await realisticRefreshToken();
    sessions.set(token, { claims, originJti });
    refreshTokens.push(token);
    return token;
  };

  const tokenEndpoint = async (req: RecordedRequest): Promise<Response> => {
    if (!basicOk(req.authorization)) return error(400, { error: 'invalid_client' });
    const grant = req.form.get('grant_type');
    if (grant === 'authorization_code') {
      const entry = codes.get(req.form.get('code') ?? '');
      if (entry === undefined || entry.used) return error(400, { error: 'invalid_grant' });
      entry.used = true;
      if (req.form.get('redirect_uri') !== entry.redirectUri) {
        return error(400, { error: 'unauthorized_client', error_description: 'invalid_redirect' });
      }
      const verifier = req.form.get('code_verifier') ?? '';
      if (createHash('sha256').update(verifier).digest('base64url') !== entry.challenge) {
        return error(400, { error: 'invalid_grant' });
      }
      const originJti = randomUUID();
      return Response.json({
        id_token: await idToken(entry.claims, entry.nonce, originJti),
        access_token: await accessToken(originJti),
        refresh_token: await newRefreshToken(entry.claims, originJti),
        token_type: 'Bearer',
        expires_in: 3600,
      });
    }
    if (grant === 'refresh_token') {
      const token = req.form.get('refresh_token') ?? '';
      const session = sessions.get(token);
      if (session === undefined || revoked.has(token)) return error(400, { error: 'invalid_grant' });
      const claims = { ...session.claims, ...pool.refreshClaims };
      return Response.json({
        id_token: await idToken(claims, undefined, session.originJti),
        access_token: await accessToken(session.originJti),
        ...(pool.rotateRefreshTokens
          ? { refresh_token: await newRefreshToken(claims, session.originJti) }
          : {}),
        token_type: 'Bearer',
        expires_in: 3600,
      });
    }
    return error(400, { error: 'unsupported_grant_type' });
  };

  const revokeEndpoint = async (req: RecordedRequest): Promise<Response> => {
    if (!basicOk(req.authorization)) return error(401, { error: 'invalid_client' });
    const token = req.form.get('token');
    if (!token) return error(400, { error: 'invalid_request' });
    revoked.add(token);
    return new Response(null, { status: 200 });
  };

  const pool: FakeUserPool = {
    issuer,
    requests,
    revoked,
    refreshTokens,
    clock: { now: Math.floor(Date.now() / 1000) },
    idTokenLifetimeSeconds: 3600,
    refreshClaims: {},
    rotateRefreshTokens: false,
    acceptRefreshToken(token, claims) {
      sessions.set(token, { claims, originJti: randomUUID() });
    },
    setFault(value) {
      fault = value;
    },
    authorize(authorizeUrl, options = {}) {
      const url = new URL(authorizeUrl);
      const q = url.searchParams;
      const code = randomUUID();
      codes.set(code, {
        challenge: q.get('code_challenge') ?? '',
        nonce: options.nonce === undefined ? q.get('nonce') : options.nonce,
        redirectUri: q.get('redirect_uri') ?? '',
        claims: options.claims ?? {},
        used: false,
      });
      return new URLSearchParams({ code, state: q.get('state') ?? '' });
    },
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = request.url;
      if (url !== `${testDomain}/oauth2/token` && url !== `${testDomain}/oauth2/revoke`) {
        return issuer.fetch(input, init);
      }
      const recorded: RecordedRequest = {
        url,
        authorization: request.headers.get('authorization') ?? undefined,
        form: new URLSearchParams(await request.text()),
      };
      requests.push(recorded);
      if (fault === 'hang') {
        return new Promise<Response>((_, reject) => {
          const signal = init?.signal;
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        });
      }
      if (fault === 'network') throw new TypeError('fetch failed');
      if (fault !== undefined) {
        return new Response(fault.body === undefined ? null : JSON.stringify(fault.body), {
          status: fault.status,
          headers: { 'content-type': 'application/json', ...fault.headers },
        });
      }
      return url.endsWith('/token') ? tokenEndpoint(recorded) : revokeEndpoint(recorded);
    }) as typeof fetch,
  };
  return pool;
}
