import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { parseCallbackConfig } from '../../../functions/callback/config.ts';
import { signOut } from '../../../functions/shared/auth/logout.ts';
import { createTokenEndpoint } from '../../../functions/shared/auth/token-endpoint.ts';
import { createLogger } from '../../../functions/shared/log.ts';
import { apiEvent } from '../../helpers/events.ts';
import { testClientId } from '../../helpers/tokens.ts';
import {
  authEnv,
  basicCredentials,
  createFakeUserPool,
  testClientSecret,
  testDomain,
  testFrontend,
} from '../../helpers/user-pool.ts';
import { healthyIdentityPool, identityClient, identityId } from './identity-pool-mock.ts';
import { attributesOf, configured, fromFrontend, invoker, keyring, signIn } from './support.ts';

async function setup() {
  const pool = await createFakeUserPool();
  const now = () => pool.clock.now * 1000;
  const env = authEnv();
  const login = invoker(configured('login', env).createHandler({ now }));
  const callback = invoker(
    configured('callback', env).createHandler({ fetch: pool.fetch, identityClient, now }),
  );
  const logout = invoker(configured('logout', env).createHandler({ fetch: pool.fetch, now }));
  const credentials = invoker(
    configured('credentials', env).createHandler({ fetch: pool.fetch, identityClient, now }),
  );
  const { sessionCookie } = await signIn(login, callback, pool);
  return { pool, logout, credentials, sessionCookie };
}

const logoutEvent = (
  cookies: string[],
  headers: Record<string, string> = { ...fromFrontend, accept: 'application/json' },
) => apiEvent({ method: 'POST', path: '/auth/logout', cookies, headers });

describe('POST /auth/logout', () => {
  beforeEach(healthyIdentityPool);

  it("revokes the session's refresh token with the client's credentials", async () => {
    const { pool, logout, sessionCookie } = await setup();
    const result = await logout(logoutEvent([sessionCookie]));
    assert.equal(result.statusCode, 200);
    const revoke = pool.requests.find((r) => r.url === `${testDomain}/oauth2/revoke`);
    assert.ok(revoke, 'a revocation request was sent');
    assert.equal(revoke.form.get('token'), pool.refreshTokens[0]);
    assert.deepEqual(basicCredentials(revoke.authorization), { id: testClientId, secret: testClientSecret });
    assert.ok(pool.revoked.has(pool.refreshTokens[0] as string));
    assert.equal(JSON.parse(result.body as string).revoked, true);
  });

  it('clears both cookies', async () => {
    const { logout, sessionCookie } = await setup();
    const result = await logout(logoutEvent([sessionCookie]));
    const cookies = result.cookies ?? [];
    const session = cookies.find((c) => c.startsWith('__Host-broker-session=;')) as string;
    const login = cookies.find((c) => c.startsWith('__Secure-broker-login=;')) as string;
    assert.equal(attributesOf(session)['max-age'], '0');
    assert.equal(attributesOf(session).path, '/');
    assert.equal(attributesOf(login).path, '/auth/callback');
  });

  it("returns Cognito's /logout URL with client_id and logout_uri", async () => {
    const { logout, sessionCookie } = await setup();
    const result = await logout(logoutEvent([sessionCookie]));
    const url = new URL(JSON.parse(result.body as string).logoutUrl);
    assert.equal(`${url.origin}${url.pathname}`, `${testDomain}/logout`);
    assert.equal(url.searchParams.get('client_id'), testClientId);
    assert.equal(url.searchParams.get('logout_uri'), testFrontend);
  });

  it('redirects a form post (Accept: text/html) to the Cognito logout URL with 303', async () => {
    const { logout, sessionCookie } = await setup();
    const result = await logout(logoutEvent([sessionCookie], { ...fromFrontend, accept: 'text/html' }));
    assert.equal(result.statusCode, 303);
    assert.match(result.headers.Location as string, new RegExp(`^${testDomain}/logout\\?client_id=`));
    assert.equal((result.cookies ?? []).length, 2);
  });

  it('refuses credentials for the old session cookie afterwards', async () => {
    const { logout, credentials, sessionCookie } = await setup();
    await logout(logoutEvent([sessionCookie]));
    const result = await credentials(
      apiEvent({ path: '/credentials', cookies: [sessionCookie], headers: fromFrontend }),
    );
    assert.equal(result.statusCode, 401);
    assert.equal(JSON.parse(result.body as string).error, 'session_expired');
  });

  it('still clears the cookies when revocation fails, and says so', async () => {
    const { pool, logout, sessionCookie } = await setup();
    pool.setFault({ status: 503 });
    const result = await logout(logoutEvent([sessionCookie]));
    assert.equal(result.statusCode, 200);
    assert.equal(JSON.parse(result.body as string).revoked, false);
    assert.equal((result.cookies ?? []).length, 2);
  });

  it('answers without a session too (revoked: null)', async () => {
    const { pool, logout } = await setup();
    const result = await logout(logoutEvent([]));
    assert.equal(result.statusCode, 200);
    assert.equal(JSON.parse(result.body as string).revoked, null);
    assert.equal(pool.requests.filter((r) => r.url.endsWith('/revoke')).length, 0);
  });

  it('refuses a cross-site sign-out', async () => {
    const { pool, logout, sessionCookie } = await setup();
    const result = await logout(logoutEvent([sessionCookie], { origin: 'https://evil.example' }));
    assert.equal(result.statusCode, 403);
    assert.equal(pool.revoked.size, 0);
  });

  it('writes one audit line: provider, identity id and outcome, no tokens or names', async () => {
    const { pool, sessionCookie } = await setup();
    const lines: string[] = [];
    const config = parseCallbackConfig(authEnv());
    await signOut(logoutEvent([sessionCookie]), {
      config,
      keyring,
      tokenEndpoint: createTokenEndpoint(config, {
        clientSecret: async () => testClientSecret,
        fetch: pool.fetch,
      }),
      nowSeconds: pool.clock.now,
      log: createLogger({ write: (line) => lines.push(line) }),
    });
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] as string);
    assert.equal(line.audit, 'sign-out');
    assert.equal(line.outcome, 'success');
    assert.equal(line.provider, 'IDmeSandbox');
    assert.equal(line.identityId, identityId);
    assert.doesNotMatch(lines[0] as string, /eyJ|GARY|TWINKLE/);
  });
});
