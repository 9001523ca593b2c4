import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { GetCredentialsForIdentityCommand } from '@aws-sdk/client-cognito-identity';
import { readSession } from '../../../functions/shared/auth/session.ts';
import { apiEvent } from '../../helpers/events.ts';
import { credentialsEnv } from '../../helpers/tokens.ts';
import { authEnv, createFakeUserPool, type FakeUserPool, testFrontend } from '../../helpers/user-pool.ts';
import { healthyIdentityPool, identityClient, identityId, identityMock } from '../auth/identity-pool-mock.ts';
import {
  attributesOf,
  configured,
  cookieValueOf,
  fromFrontend,
  invoker,
  keyring,
  pairOf,
  setCookieFor,
  signIn,
} from '../auth/support.ts';

const sessionSpec = { name: '__Host-broker-session', path: '/', secure: true };

/** `startedAgo`: how long before the real now the sign-in happened (the verifier uses the real clock). */
async function setup(env = authEnv(), startedAgo = 0) {
  const pool = await createFakeUserPool();
  pool.clock.now -= startedAgo;
  const now = () => pool.clock.now * 1000;
  const login = invoker(configured('login', env).createHandler({ now }));
  const callback = invoker(
    configured('callback', env).createHandler({ fetch: pool.fetch, identityClient, now }),
  );
  const credentials = invoker(
    configured('credentials', env).createHandler({ fetch: pool.fetch, identityClient, now }),
  );
  const { sessionCookie } = await signIn(login, callback, pool);
  identityMock.resetHistory();
  return { pool, login, callback, credentials, sessionCookie };
}

const refreshes = (pool: FakeUserPool) =>
  pool.requests.filter(
    (r) => r.url.endsWith('/oauth2/token') && r.form.get('grant_type') === 'refresh_token',
  );

function credentialsEvent(cookies: string[], headers: Record<string, string> = fromFrontend, method = 'GET') {
  return apiEvent({ method, path: '/credentials', cookies, headers });
}

describe('/credentials with a session cookie', () => {
  beforeEach(healthyIdentityPool);

  it('gets credentials: refresh_token grant first, then the identity pool', async () => {
    const { pool, credentials, sessionCookie } = await setup();
    const result = await credentials(credentialsEvent([sessionCookie]));
    assert.equal(result.statusCode, 200, result.body);
    const body = JSON.parse(result.body as string);
    assert.equal(body.AccessKeyId, 'ASIAEXAMPLE');
    assert.equal(body.IdentityId, identityId);
    assert.equal(refreshes(pool).length, 1);
    assert.equal(refreshes(pool)[0]?.form.get('refresh_token'), pool.refreshTokens[0]);
    assert.equal(result.cookies, undefined, 'nothing changed since sign-in: the cookie stays');
    const logins = identityMock.commandCalls(GetCredentialsForIdentityCommand)[0]?.args[0].input.Logins ?? {};
    const idToken = Object.values(logins)[0] as string;
    assert.equal(pool.issuer.issuer.replace('https://', ''), Object.keys(logins)[0]);
    assert.ok(idToken.startsWith('eyJ'));
  });

  it('refreshes for every request, and rewrites the cookie only when something changed', async () => {
    const { pool, credentials, sessionCookie } = await setup();
    await credentials(credentialsEvent([sessionCookie]));
    const second = await credentials(credentialsEvent([sessionCookie]));
    assert.equal(second.statusCode, 200);
    assert.equal(refreshes(pool).length, 2);
    assert.equal(second.cookies, undefined, 'same claims, same identity id, no rotation: no new cookie');
  });

  it('gets a new ID token after the last one expired, and keeps the session claims current', async () => {
    const { pool, credentials, sessionCookie } = await setup(authEnv(), 3000);
    // 50 minutes after sign-in the trigger's claims have changed; the refreshed ID token carries them.
    pool.clock.now += 3000;
    pool.refreshClaims = { assurance_level: 'IAL1' };
    const result = await credentials(credentialsEvent([sessionCookie]));
    assert.equal(result.statusCode, 200, result.body);
    assert.equal(refreshes(pool).length, 1);
    const updated = setCookieFor(result, '__Host-broker-session') as string;
    assert.equal(attributesOf(updated).httponly, true);
    assert.equal(attributesOf(updated)['max-age'], String(43_200 - 3000), 'the session end does not move');
    const read = await readSession(
      { cookies: [pairOf(updated)], headers: {} },
      keyring,
      sessionSpec,
      pool.clock.now,
    );
    assert.equal(read.session?.claims.assurance_level, 'IAL1', 'claims from the refreshed ID token');
  });

  it('ends the session at once (401, cookie cleared) when the refresh token is revoked, even right after a successful call', async () => {
    const { pool, credentials, sessionCookie } = await setup();
    assert.equal((await credentials(credentialsEvent([sessionCookie]))).statusCode, 200);
    for (const token of pool.refreshTokens) pool.revoked.add(token);
    const result = await credentials(credentialsEvent([sessionCookie]));
    assert.equal(result.statusCode, 401);
    assert.equal(JSON.parse(result.body as string).error, 'session_expired');
    assert.match(result.headers['Set-Cookie'] as string, /^__Host-broker-session=; .*Max-Age=0/);
  });

  it('stores a rotated refresh token in the cookie', async () => {
    const { pool, credentials, sessionCookie } = await setup();
    pool.rotateRefreshTokens = true;
    const result = await credentials(credentialsEvent([sessionCookie]));
    const updated = pairOf(setCookieFor(result, '__Host-broker-session') as string);
    const read = await readSession({ cookies: [updated], headers: {} }, keyring, sessionSpec, pool.clock.now);
    assert.equal(read.session?.refreshToken, pool.refreshTokens[1]);
  });

  it('refuses a refreshed ID token for another user (401 session_mismatch) before the identity pool is asked', async () => {
    const { pool, credentials, sessionCookie } = await setup();
    pool.refreshClaims = { sub: 'someone-else' };
    const result = await credentials(credentialsEvent([sessionCookie]));
    assert.equal(result.statusCode, 401, result.body);
    assert.equal(JSON.parse(result.body as string).error, 'session_mismatch');
    assert.equal(identityMock.calls().length, 0, 'the identity pool was not asked');
  });

  it('refuses a tampered session cookie (401, cookie cleared) without calling Cognito', async () => {
    const { pool, credentials, sessionCookie } = await setup();
    const value = cookieValueOf(sessionCookie);
    const tampered = `__Host-broker-session=${value.slice(0, -30)}${value.slice(-30).replace(/[A-Za-z]/, (c) => (c === 'a' ? 'b' : 'a'))}`;
    const result = await credentials(credentialsEvent([tampered]));
    assert.equal(result.statusCode, 401);
    assert.equal(JSON.parse(result.body as string).error, 'session_invalid');
    assert.equal(refreshes(pool).length, 0);
    assert.match(result.headers['Set-Cookie'] as string, /Max-Age=0/);
  });

  it('refuses an expired session', async () => {
    const { pool, credentials, sessionCookie } = await setup();
    pool.clock.now += 43_200;
    const result = await credentials(credentialsEvent([sessionCookie]));
    assert.equal(result.statusCode, 401);
    assert.equal(JSON.parse(result.body as string).error, 'session_expired');
  });

  describe('cross-site protection', () => {
    it('refuses an Origin that is not allowed, and gives no credentials', async () => {
      const { pool, credentials, sessionCookie } = await setup();
      const result = await credentials(credentialsEvent([sessionCookie], { origin: 'https://evil.example' }));
      assert.equal(result.statusCode, 403);
      assert.equal(JSON.parse(result.body as string).error, 'origin_not_allowed');
      assert.equal(refreshes(pool).length, 0);
      assert.equal(identityMock.calls().length, 0);
    });

    it('refuses Origin: null', async () => {
      const { credentials, sessionCookie } = await setup();
      const result = await credentials(credentialsEvent([sessionCookie], { origin: 'null' }));
      assert.equal(result.statusCode, 403);
    });

    it('refuses a cross-site request without Origin (Sec-Fetch-Site: cross-site or same-site)', async () => {
      const { credentials, sessionCookie } = await setup();
      for (const site of ['cross-site', 'same-site']) {
        const result = await credentials(credentialsEvent([sessionCookie], { 'sec-fetch-site': site }));
        assert.equal(result.statusCode, 403, site);
        assert.equal(JSON.parse(result.body as string).error, 'cross_site_request');
      }
    });

    it('accepts a same-origin request without Origin (browsers omit it on same-origin GET)', async () => {
      const { credentials, sessionCookie } = await setup();
      const result = await credentials(
        credentialsEvent([sessionCookie], { 'sec-fetch-site': 'same-origin' }),
      );
      assert.equal(result.statusCode, 200);
    });

    it('accepts POST from the allowed frontend origin', async () => {
      const { credentials, sessionCookie } = await setup();
      const result = await credentials(credentialsEvent([sessionCookie], { origin: testFrontend }, 'POST'));
      assert.equal(result.statusCode, 200);
    });
  });

  describe('bearer tokens (unchanged)', () => {
    it('uses the bearer token when both are sent, and never touches the session', async () => {
      const { pool, credentials, sessionCookie } = await setup();
      const idToken = await pool.issuer.sign();
      const result = await credentials(
        credentialsEvent([sessionCookie], {
          authorization: `Bearer ${idToken}`,
          origin: 'https://evil.example',
        }),
      );
      assert.equal(result.statusCode, 200);
      assert.equal(result.cookies, undefined);
      assert.equal(refreshes(pool).length, 0);
    });

    it('answers 401 unauthenticated when there is neither a token nor a session', async () => {
      const { credentials } = await setup();
      const result = await credentials(credentialsEvent([]));
      assert.equal(result.statusCode, 401);
      assert.equal(JSON.parse(result.body as string).error, 'unauthenticated');
      assert.equal(result.headers['WWW-Authenticate'], 'Bearer');
    });

    it('ignores session cookies when sessions are not configured', async () => {
      const pool = await createFakeUserPool();
      const credentials = invoker(
        configured('credentials', credentialsEnv()).createHandler({ fetch: pool.fetch, identityClient }),
      );
      const result = await credentials(credentialsEvent(['__Host-broker-session=abc']));
      assert.equal(result.statusCode, 401);
      assert.equal(JSON.parse(result.body as string).error, 'unauthenticated');
    });
  });
});
