/**
 * Hostile tokens, modelled on the OpenID Foundation's relying-party conformance modules
 * (oidcc-client-test-*): a provider with its own keys signs what the test asks for, and the broker's
 * functions, unchanged behind the offline stack's local API, must refuse each token with the exact
 * status and error code. Three entry points take tokens: `Authorization: Bearer` at /credentials, the
 * code exchange at /auth/callback, and the refresh behind a session at /credentials.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiEvent } from '../helpers/events.ts';
import type { HostileProvider } from '../helpers/hostile-op.ts';
import type { Browser } from '../helpers/web.ts';
import { asJson, beginLogin, type HostileStack, problemOf, startHostileStack } from './support.ts';

let h: HostileStack;
let op: HostileProvider;

before(async () => {
  h = await startHostileStack();
  op = h.op;
});
after(() => h.close());

const now = () => Math.floor(Date.now() / 1000);

async function withBearer(token: string) {
  return problemOf(
    await fetch(`${h.api}/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...asJson },
    }),
  );
}

interface BearerCase {
  name: string;
  token: () => Promise<string> | string;
  status: number;
  error: string;
}

/** Replaces the payload of a signed token, keeping its header and signature. */
function swapPayload(token: string, claims: Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

describe('bearer ID tokens at /credentials from a hostile provider', () => {
  const cases: BearerCase[] = [
    // Controls: well-formed tokens pass every check of the broker; only the identity pool (which
    // trusts neither hostile issuer) refuses them.
    {
      name: 'control: a well-formed user-pool token passes the broker (the identity pool refuses it)',
      token: () => op.sign(op.poolClaims()),
      status: 401,
      error: 'provider_not_accepted',
    },
    {
      name: 'a well-formed token of another OpenID provider: bearer tokens are user-pool ID tokens only',
      token: () => op.sign(op.oidcClaims(), { key: 'oidc' }),
      status: 401,
      error: 'untrusted_issuer',
    },
    // Algorithms (oidcc-client-test-idtoken-sig-none, …-sig-hs256).
    {
      name: 'alg none',
      token: () => op.unsigned(op.poolClaims()),
      status: 401,
      error: 'algorithm_not_allowed',
    },
    {
      name: 'alg "NONE" (case variant) with an empty signature',
      token: () => {
        const [, payload] = op.unsigned(op.poolClaims()).split('.');
        return `${Buffer.from('{"alg":"NONE"}').toString('base64url')}.${payload}.`;
      },
      status: 401,
      error: 'algorithm_not_allowed',
    },
    {
      name: 'HS256 keyed with the published RSA public key (algorithm confusion)',
      token: () => op.hmacWithPublicKey(op.poolClaims()),
      status: 401,
      error: 'algorithm_not_allowed',
    },
    {
      name: 'HS256 keyed with the public key, claiming another provider',
      token: () => op.hmacWithPublicKey(op.oidcClaims(), 'oidc'),
      status: 401,
      error: 'algorithm_not_allowed',
    },
    {
      name: 'ES256 from the user pool, which only signs RS256',
      token: () => op.sign(op.poolClaims(), { key: 'ec' }),
      status: 401,
      error: 'algorithm_not_allowed',
    },
    // Keys (oidcc-client-test-idtoken-kid-absent-*, …-invalid-sig-rs256).
    {
      name: 'a kid the provider does not publish',
      token: () => op.sign(op.poolClaims(), { key: 'rogue' }),
      status: 401,
      error: 'unknown_key',
    },
    {
      name: 'no kid while the JWKS publishes several keys',
      token: () => op.sign(op.poolClaims(), { header: { kid: undefined } }),
      status: 401,
      error: 'unknown_key',
    },
    {
      name: 'a published kid, signed by another key (bad signature)',
      token: () => op.sign(op.poolClaims(), { key: 'rogue', header: { kid: op.keys.a.kid } }),
      status: 401,
      error: 'bad_signature',
    },
    {
      name: 'claims changed after signing',
      token: async () =>
        swapPayload(await op.sign(op.poolClaims()), op.poolClaims({ sub: 'someone-else' }) as never),
      status: 401,
      error: 'bad_signature',
    },
    {
      name: 'signature removed',
      token: async () => `${(await op.sign(op.poolClaims())).split('.').slice(0, 2).join('.')}.`,
      status: 401,
      error: 'bad_signature',
    },
    {
      name: "the attacker's key embedded in the header (jwk) is not trusted",
      token: () =>
        op.sign(op.poolClaims(), {
          key: 'rogue',
          header: { kid: op.keys.a.kid, jwk: op.keys.rogue.publicJwk },
        }),
      status: 401,
      error: 'bad_signature',
    },
    {
      name: 'another provider’s key used for a token claiming the user-pool issuer',
      token: () => op.sign(op.poolClaims(), { key: 'oidc' }),
      status: 401,
      error: 'unknown_key',
    },
    {
      name: 'the user pool’s key used for a token claiming another provider',
      token: () => op.sign(op.oidcClaims(), { key: 'a' }),
      status: 401,
      error: 'untrusted_issuer',
    },
    {
      name: 'an unknown critical header parameter',
      token: () => op.sign(op.poolClaims(), { header: { crit: ['x-hostile'], 'x-hostile': true } }),
      status: 401,
      error: 'malformed_token',
    },
    // Issuer and audience (oidcc-client-test-idtoken-invalid-iss, …-invalid-aud, …-azp).
    {
      name: 'an issuer the broker does not trust',
      token: () => op.sign(op.poolClaims({ iss: `${op.url}/elsewhere` })),
      status: 401,
      error: 'untrusted_issuer',
    },
    {
      name: 'the trusted issuer with a trailing slash',
      token: () => op.sign(op.poolClaims({ iss: `${op.poolIssuer}/` })),
      status: 401,
      error: 'untrusted_issuer',
    },
    {
      name: 'aud is another client',
      token: () => op.sign(op.poolClaims({ aud: 'another-client' })),
      status: 401,
      error: 'wrong_audience',
    },
    {
      name: 'azp is another client, although aud lists ours',
      token: () => op.sign(op.poolClaims({ aud: [op.clientId, 'another-client'], azp: 'another-client' })),
      status: 401,
      error: 'wrong_audience',
    },
    {
      name: 'azp is our client but not one of the audiences',
      token: () => op.sign(op.poolClaims({ aud: 'another-client', azp: op.clientId })),
      status: 401,
      error: 'wrong_audience',
    },
    // Times (oidcc-client-test-idtoken-expired, …-iat).
    {
      name: 'exp in the past',
      token: () => op.sign(op.poolClaims({ iat: now() - 7200, auth_time: now() - 7200, exp: now() - 3600 })),
      status: 401,
      error: 'token_expired',
    },
    {
      name: 'nbf in the future',
      token: () => op.sign(op.poolClaims({ nbf: now() + 3600 })),
      status: 401,
      error: 'token_not_yet_valid',
    },
    {
      name: 'iat far in the future',
      token: () => op.sign(op.poolClaims({ iat: now() + 86_400, exp: now() + 90_000 })),
      status: 401,
      error: 'token_not_yet_valid',
    },
    {
      name: 'no exp',
      token: () => op.sign(op.poolClaims({ exp: undefined })),
      status: 401,
      error: 'invalid_claim',
    },
    {
      name: 'no sub',
      token: () => op.sign(op.poolClaims({ sub: undefined })),
      status: 401,
      error: 'invalid_claim',
    },
    // Token kinds.
    {
      name: 'a Cognito access token (client_id, no aud) where the ID token is expected',
      token: () => op.sign(op.poolClaims({ token_use: 'access', aud: undefined, client_id: op.clientId })),
      status: 401,
      error: 'wrong_token_use',
    },
    {
      name: 'a user-pool token without token_use',
      token: () => op.sign(op.poolClaims({ token_use: undefined })),
      status: 401,
      error: 'wrong_token_use',
    },
    {
      name: 'a refresh token (JWE) where the ID token is expected',
      token: () => op.refreshToken,
      status: 401,
      error: 'malformed_token',
    },
    {
      name: 'two dot-separated parts',
      token: async () => (await op.sign(op.poolClaims())).split('.').slice(0, 2).join('.'),
      status: 401,
      error: 'malformed_token',
    },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.status} ${c.error}`, async () => {
      assert.deepEqual(await withBearer(await c.token()), { status: c.status, error: c.error });
    });
  }

  it('never fetches a key from a jku header: 401 bad_signature', async () => {
    const before = op.calls.notFound ?? 0;
    const token = await op.sign(op.poolClaims(), {
      key: 'rogue',
      header: { kid: op.keys.a.kid, jku: `${op.url}/attacker/jwks.json` },
    });
    assert.deepEqual(await withBearer(token), { status: 401, error: 'bad_signature' });
    assert.equal(op.calls.notFound ?? 0, before, 'the jku URL was not requested');
  });

  it('refuses an Authorization header that is not Bearer: 400 invalid_request', async () => {
    const response = await fetch(`${h.api}/credentials`, {
      headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}`, ...asJson },
    });
    assert.deepEqual(await problemOf(response), { status: 400, error: 'invalid_request' });
  });

  it('refuses a bearer value with characters no token has: 400 invalid_request', async () => {
    const response = await fetch(`${h.api}/credentials`, {
      headers: { authorization: 'Bearer eyJ.a b.c', ...asJson },
    });
    assert.deepEqual(await problemOf(response), { status: 400, error: 'invalid_request' });
  });

  it('refuses a header section over 16 KB before any function runs (431, from the HTTP server)', async () => {
    const token = `${await op.sign(op.poolClaims())}${'A'.repeat(17_000)}`;
    const response = await fetch(`${h.api}/credentials`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 431);
  });

  it('refuses a token over 16,384 characters that reaches the function: 401 token_too_large', async () => {
    // API Gateway and Node cap headers below this; the function checks anyway, before any parsing.
    const credentials = h.stack.api.functions.get('CredentialsFunction');
    assert.ok(credentials);
    const token = `${await op.sign(op.poolClaims())}.${'A'.repeat(16_400)}`;
    const result = (await credentials.invoke(
      apiEvent({ headers: { authorization: `Bearer ${token}` } }),
    )) as {
      statusCode: number;
      body: string;
    };
    assert.equal(result.statusCode, 401);
    assert.equal((JSON.parse(result.body) as { error: string }).error, 'token_too_large');
  });
});

/**
 * The code exchange: the hostile "user pool" answers /oauth2/token with the ID token under test.
 * Each failure must leave the browser without a session and without its login-state cookie.
 */
describe('ID tokens from a hostile token endpoint at /auth/callback', () => {
  async function exchange(
    idToken: (nonce: string) => Promise<string> | string,
    extra: Record<string, unknown> = {},
  ) {
    const { browser, state, nonce } = await beginLogin(h.api);
    const token = await idToken(nonce);
    op.tokenResponder = () => ({
      body: {
        id_token: token,
        access_token: 'opaque-access-token',
        refresh_token: op.refreshToken,
        token_type: 'Bearer',
        expires_in: 3600,
        ...extra,
      },
    });
    try {
      const response = await browser.request(`${h.api}/auth/callback?code=c0de&state=${state}`, {
        headers: asJson,
      });
      return { ...(await problemOf(response)), browser, location: response.headers.get('location') };
    } finally {
      op.tokenResponder = (request) => op.defaultResponder(request);
    }
  }

  interface CallbackCase {
    name: string;
    idToken: (nonce: string) => Promise<string> | string;
    extra?: Record<string, unknown>;
    status: number;
    error: string;
  }

  const cases: CallbackCase[] = [
    {
      name: 'an ID token without the nonce',
      idToken: () => op.sign(op.poolClaims()),
      status: 401,
      error: 'nonce_mismatch',
    },
    {
      name: 'an ID token with another nonce',
      idToken: () => op.sign(op.poolClaims({ nonce: 'not-the-nonce-of-this-sign-in' })),
      status: 401,
      error: 'nonce_mismatch',
    },
    {
      name: 'alg none',
      idToken: (nonce) => op.unsigned(op.poolClaims({ nonce })),
      status: 502,
      error: 'invalid_token_response',
    },
    {
      name: 'HS256 keyed with the public key',
      idToken: (nonce) => op.hmacWithPublicKey(op.poolClaims({ nonce })),
      status: 502,
      error: 'invalid_token_response',
    },
    {
      name: 'a published kid, signed by another key',
      idToken: (nonce) => op.sign(op.poolClaims({ nonce }), { key: 'rogue', header: { kid: op.keys.a.kid } }),
      status: 401,
      error: 'bad_signature',
    },
    {
      name: 'a kid the provider does not publish',
      idToken: (nonce) => op.sign(op.poolClaims({ nonce }), { key: 'rogue' }),
      status: 401,
      error: 'unknown_key',
    },
    {
      name: 'another issuer',
      idToken: (nonce) => op.sign(op.poolClaims({ nonce, iss: op.oidcIssuer }), { key: 'oidc' }),
      status: 401,
      error: 'invalid_claim',
    },
    {
      name: 'aud is another client',
      idToken: (nonce) => op.sign(op.poolClaims({ nonce, aud: 'another-client' })),
      status: 401,
      error: 'invalid_claim',
    },
    {
      name: 'azp is another client',
      idToken: (nonce) =>
        op.sign(op.poolClaims({ nonce, aud: [op.clientId, 'another-client'], azp: 'another-client' })),
      status: 401,
      error: 'invalid_claim',
    },
    {
      name: 'exp in the past',
      idToken: (nonce) => op.sign(op.poolClaims({ nonce, iat: now() - 7200, exp: now() - 3600 })),
      status: 401,
      error: 'invalid_claim',
    },
    {
      name: 'iat far in the future',
      idToken: (nonce) => op.sign(op.poolClaims({ nonce, iat: now() + 86_400, exp: now() + 90_000 })),
      status: 401,
      error: 'token_not_yet_valid',
    },
    {
      name: 'an access token in the id_token field',
      idToken: (nonce) => op.sign(op.poolClaims({ nonce, token_use: 'access' })),
      status: 401,
      error: 'wrong_token_use',
    },
    {
      name: 'no refresh token',
      idToken: (nonce) => op.sign(op.poolClaims({ nonce })),
      extra: { refresh_token: undefined },
      status: 502,
      error: 'no_refresh_token',
    },
    {
      name: 'token_type other than Bearer',
      idToken: (nonce) => op.sign(op.poolClaims({ nonce })),
      extra: { token_type: 'MAC' },
      status: 502,
      error: 'invalid_token_response',
    },
  ];

  for (const c of cases) {
    it(`${c.name}: ${c.status} ${c.error}, no session`, async () => {
      const result = await exchange(c.idToken, c.extra);
      assert.deepEqual({ status: result.status, error: result.error }, { status: c.status, error: c.error });
      assert.equal(result.browser.cookies.has('broker-session'), false, 'no session cookie');
      assert.equal(result.browser.cookies.has('broker-login'), false, 'the login-state cookie is cleared');
    });
  }

  it('the nonce of another sign-in (a replayed ID token): 401 nonce_mismatch', async () => {
    const other = await beginLogin(h.api);
    const result = await exchange(() => op.sign(op.poolClaims({ nonce: other.nonce })));
    assert.deepEqual(
      { status: result.status, error: result.error },
      { status: 401, error: 'nonce_mismatch' },
    );
  });

  it('control: a well-formed ID token with the nonce signs in (302 and a session)', async () => {
    const result = await exchange((nonce) => op.sign(op.poolClaims({ nonce })));
    assert.equal(result.status, 302);
    assert.equal(result.location, '/');
    assert.equal(result.browser.cookies.has('broker-session'), true);
  });
});

/** The refresh behind a session: what the hostile endpoint answers decides the session's fate. */
describe('ID tokens from a hostile refresh at /credentials (session)', () => {
  async function signedIn(): Promise<Browser> {
    const { browser, state, nonce } = await beginLogin(h.api);
    op.nextNonce = nonce;
    const response = await browser.request(`${h.api}/auth/callback?code=c0de&state=${state}`);
    assert.equal(response.status, 302);
    assert.ok(browser.cookies.has('broker-session'));
    return browser;
  }

  async function refreshWith(answer: () => Promise<Record<string, unknown>> | Record<string, unknown>) {
    const browser = await signedIn();
    const cookieBefore = browser.cookies.get('broker-session')?.value;
    const identityCalls = { ...h.stack.identityPool.calls };
    op.tokenResponder = async () => ({ body: await answer() });
    try {
      const response = await browser.request(`${h.api}/credentials`, {
        method: 'POST',
        headers: { origin: h.api, ...asJson },
      });
      const setCookie = response.headers.getSetCookie();
      return {
        ...(await problemOf(response)),
        cleared: setCookie.some((c) => /broker-session=;/.test(c)),
        unchanged: setCookie.length === 0 && browser.cookies.get('broker-session')?.value === cookieBefore,
        identityPoolCalled: JSON.stringify(h.stack.identityPool.calls) !== JSON.stringify(identityCalls),
      };
    } finally {
      op.tokenResponder = (request) => op.defaultResponder(request);
    }
  }

  const bearerAnswer = async (claims: Record<string, unknown>, options = {}) => ({
    id_token: await op.sign(op.poolClaims(claims), options),
    access_token: 'opaque',
    token_type: 'Bearer',
    expires_in: 3600,
  });

  it('an ID token for another user: 401 session_mismatch before the identity pool is asked, cookie cleared', async () => {
    const result = await refreshWith(() => bearerAnswer({ sub: 'another-user' }));
    assert.deepEqual(
      { status: result.status, error: result.error },
      { status: 401, error: 'session_mismatch' },
    );
    assert.equal(result.identityPoolCalled, false, 'no credentials were minted for the other user');
    assert.equal(result.cleared, true);
  });

  it('an ID token for another client: 401 invalid_claim, cookie cleared', async () => {
    const result = await refreshWith(() => bearerAnswer({ aud: 'another-client' }));
    assert.deepEqual({ status: result.status, error: result.error }, { status: 401, error: 'invalid_claim' });
    assert.equal(result.cleared, true);
  });

  it('invalid_grant (revoked refresh token): 401 session_expired, cookie cleared', async () => {
    const browser = await signedIn();
    op.tokenResponder = () => ({ status: 400, body: { error: 'invalid_grant' } });
    try {
      const response = await browser.request(`${h.api}/credentials`, {
        method: 'POST',
        headers: { origin: h.api, ...asJson },
      });
      assert.deepEqual(await problemOf(response), { status: 401, error: 'session_expired' });
      assert.equal(browser.cookies.has('broker-session'), false);
    } finally {
      op.tokenResponder = (request) => op.defaultResponder(request);
    }
  });

  it('alg none: 502 invalid_token_response, the session cookie left as it was', async () => {
    const result = await refreshWith(() => ({
      id_token: op.unsigned(op.poolClaims()),
      access_token: 'opaque',
      token_type: 'Bearer',
      expires_in: 3600,
    }));
    assert.deepEqual(
      { status: result.status, error: result.error },
      { status: 502, error: 'invalid_token_response' },
    );
    assert.equal(result.unchanged, true);
  });

  it('a bad signature: 401 bad_signature', async () => {
    const result = await refreshWith(() =>
      bearerAnswer({}, { key: 'rogue', header: { kid: op.keys.a.kid } }),
    );
    assert.deepEqual({ status: result.status, error: result.error }, { status: 401, error: 'bad_signature' });
    assert.equal(result.identityPoolCalled, false);
  });
});
