/**
 * Real crypto for unit tests: a local issuer with generated keys, tokens signed like Cognito's,
 * and a `fetch` that serves the issuer's JWKS and discovery document without any network.
 */

import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { cognitoIdClaimsFor } from '../../local/fixtures.ts';

export const testRegion = 'us-east-1';
export const testUserPoolId = 'us-east-1_TestPool1';
export const testClientId = 'testclient0123456789abcdef';
export const testIssuer = `https://cognito-idp.${testRegion}.amazonaws.com/${testUserPoolId}`;

export interface TestIssuer {
  issuer: string;
  kid: string;
  jwks: { keys: JWK[] };
  /** Signs `claims` (merged over Cognito-shaped defaults unless `raw`) with the issuer's key. */
  sign(claims?: JWTPayload, options?: { kid?: string | null; alg?: string; raw?: boolean }): Promise<string>;
  /** A fetch that answers the issuer's JWKS and discovery URLs; counts requests per URL. */
  fetch: typeof fetch;
  requests: string[];
  /** Adds a new signing key (rotation); the old one stays published unless `replace`. */
  rotate(options?: { replace?: boolean }): Promise<void>;
  /** Makes the JWKS endpoint fail (`status`) or hang, until reset with undefined. */
  setJwksFault(fault: number | 'hang' | undefined): void;
}

export async function createTestIssuer(
  options: { issuer?: string; jwksPath?: string; alg?: 'RS256' | 'ES256' } = {},
): Promise<TestIssuer> {
  const issuer = options.issuer ?? testIssuer;
  const alg = options.alg ?? 'RS256';
  const jwksUri = `${issuer}${options.jwksPath ?? '/.well-known/jwks.json'}`;
  const keys: Array<{ kid: string; privateKey: CryptoKey; jwk: JWK }> = [];
  const addKey = async () => {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const kid = randomUUID();
    keys.push({ kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } });
  };
  await addKey();
  const requests: string[] = [];
  let fault: number | 'hang' | undefined;

  const self: TestIssuer = {
    issuer,
    get kid() {
      return (keys.at(-1) as { kid: string }).kid;
    },
    get jwks() {
      return { keys: keys.map((k) => k.jwk) };
    },
    async sign(claims = {}, signOptions = {}) {
      const key = keys.at(-1) as (typeof keys)[number];
      const now = Math.floor(Date.now() / 1000);
      const payload = signOptions.raw ? claims : { ...cognitoIdClaims(issuer, now), ...claims };
      const header: Record<string, unknown> = { alg: signOptions.alg ?? alg };
      if (signOptions.kid !== null) header.kid = signOptions.kid ?? key.kid;
      return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    fetch: (async (input: string | URL | Request, init?: RequestInit) => {
      const url = String(input instanceof Request ? input.url : input);
      requests.push(url);
      if (url === jwksUri) {
        if (fault === 'hang') {
          // Hangs until the caller's timeout aborts the request, as a dead server would.
          return new Promise<Response>((_, reject) => {
            init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
          });
        }
        if (fault !== undefined) return new Response('unavailable', { status: fault });
        return Response.json(self.jwks);
      }
      if (url === `${issuer}/.well-known/openid-configuration`) {
        return Response.json({ issuer, jwks_uri: jwksUri });
      }
      return new Response('not found', { status: 404 });
    }) as typeof fetch,
    requests,
    async rotate(rotateOptions = {}) {
      if (rotateOptions.replace) keys.splice(0, keys.length);
      await addKey();
    },
    setJwksFault(value) {
      fault = value;
    },
  };
  return self;
}

/** The environment the credentials function needs, pointing at the test issuer. */
export function credentialsEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_REGION: testRegion,
    USER_POOL_ID: testUserPoolId,
    USER_POOL_CLIENT_ID: testClientId,
    IDENTITY_POOL_ID: 'us-east-1:11111111-2222-3333-4444-555555555555',
    ALLOWED_ORIGINS: 'https://app.example.com',
    ...overrides,
  };
}

/** A user-pool ID token's claims for an ID.me user of the test pool. */
export function cognitoIdClaims(issuer = testIssuer, now = Math.floor(Date.now() / 1000)): JWTPayload {
  return cognitoIdClaimsFor({ issuer, clientId: testClientId, userPoolId: testUserPoolId }, now);
}
