import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { GetIdCommand } from '@aws-sdk/client-cognito-identity';
import { deriveKeyring, sealCookie } from '../../../functions/shared/auth/cookies.ts';
import { readSession } from '../../../functions/shared/auth/session.ts';
import { testClientId } from '../../helpers/tokens.ts';
import {
  authEnv,
  basicCredentials,
  createFakeUserPool,
  type FakeUserPool,
  testCallbackUrl,
  testClientSecret,
} from '../../helpers/user-pool.ts';
import { healthyIdentityPool, identityClient, identityId, identityMock } from './identity-pool-mock.ts';
import {
  attributesOf,
  callbackEvent,
  configured,
  cookieValueOf,
  type Invoke,
  invoker,
  keyring,
  setCookieFor,
  startSignIn,
} from './support.ts';

const json = { accept: 'application/json' };

interface Setup {
  pool: FakeUserPool;
  login: Invoke;
  callback: Invoke;
}

async function setup(env = authEnv()): Promise<Setup> {
  const pool = await createFakeUserPool();
  const now = () => pool.clock.now * 1000;
  const loginMod = configured('login', env);
  const login = invoker(loginMod.createHandler({ now }));
  const callbackMod = configured('callback', env);
  const callback = invoker(callbackMod.createHandler({ fetch: pool.fetch, identityClient, now }));
  return { pool, login, callback };
}

const tokenRequests = (pool: FakeUserPool) => pool.requests.filter((r) => r.url.endsWith('/oauth2/token'));
const errorOf = (body: string | undefined) => JSON.parse(body as string).error as string;

describe('GET /auth/callback', () => {
  beforeEach(healthyIdentityPool);

  it('exchanges the code, sets the session and sends the browser to return_to', async () => {
    const { pool, login, callback } = await setup();
    const { loginCookie, callbackQuery } = await startSignIn(login, pool, { returnTo: '/app?tab=2' });
    const result = await callback(callbackEvent(callbackQuery, [loginCookie]));
    assert.equal(result.statusCode, 302, result.body);
    assert.equal(result.headers.Location, '/app?tab=2');
    const session = setCookieFor(result, '__Host-broker-session') as string;
    assert.deepEqual(attributesOf(session), {
      path: '/',
      'max-age': '43200',
      httponly: true,
      secure: true,
      samesite: 'Lax',
    });
    const read = await readSession(
      { cookies: [session.split(';')[0] as string], headers: {} },
      keyring,
      { name: '__Host-broker-session', path: '/', secure: true },
      pool.clock.now,
    );
    assert.equal(read.session?.provider, 'IDmeSandbox');
    assert.equal(read.session?.identityId, identityId);
    assert.equal(read.session?.claims.assurance_level, 'IAL2');
    assert.equal(read.session?.refreshToken, pool.refreshTokens[0]);
  });

  it('sends the PKCE verifier, the exact redirect_uri and client_secret_basic to the token endpoint', async () => {
    const { pool, login, callback } = await setup();
    const { loginCookie, callbackQuery } = await startSignIn(login, pool);
    await callback(callbackEvent(callbackQuery, [loginCookie]));
    const [request] = tokenRequests(pool);
    assert.ok(request);
    assert.equal(request.form.get('grant_type'), 'authorization_code');
    assert.equal(request.form.get('code'), callbackQuery.get('code'));
    assert.equal(request.form.get('redirect_uri'), testCallbackUrl);
    assert.match(request.form.get('code_verifier') ?? '', /^[\w-]{43}$/);
    assert.equal(
      request.form.get('client_secret'),
      null,
      'the secret travels in the Authorization header only',
    );
    assert.deepEqual(basicCredentials(request.authorization), { id: testClientId, secret: testClientSecret });
  });

  it('clears the single-use login-state cookie on success', async () => {
    const { pool, login, callback } = await setup();
    const { loginCookie, callbackQuery } = await startSignIn(login, pool);
    const result = await callback(callbackEvent(callbackQuery, [loginCookie]));
    const cleared = setCookieFor(result, '__Secure-broker-login') as string;
    assert.equal(cookieValueOf(cleared), '');
    assert.equal(attributesOf(cleared)['max-age'], '0');
    assert.equal(attributesOf(cleared).path, '/auth/callback');
  });

  describe('refuses, without calling the token endpoint,', () => {
    it('a callback without the login-state cookie (login_state_missing)', async () => {
      const { pool, login, callback } = await setup();
      const { callbackQuery } = await startSignIn(login, pool);
      const result = await callback(callbackEvent(callbackQuery, [], json));
      assert.equal(result.statusCode, 400);
      assert.equal(errorOf(result.body), 'login_state_missing');
      assert.equal(tokenRequests(pool).length, 0);
    });

    it('a callback without state (state_missing)', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      callbackQuery.delete('state');
      const result = await callback(callbackEvent(callbackQuery, [loginCookie], json));
      assert.equal(errorOf(result.body), 'state_missing');
      assert.equal(tokenRequests(pool).length, 0);
    });

    it('a state that does not match the cookie (state_mismatch)', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      callbackQuery.set('state', 'x'.repeat(43));
      const result = await callback(callbackEvent(callbackQuery, [loginCookie], json));
      assert.equal(result.statusCode, 400);
      assert.equal(errorOf(result.body), 'state_mismatch');
      assert.equal(tokenRequests(pool).length, 0);
    });

    it('the state of another sign-in in the same browser (state_mismatch)', async () => {
      const { pool, login, callback } = await setup();
      const first = await startSignIn(login, pool);
      const second = await startSignIn(login, pool);
      const result = await callback(callbackEvent(first.callbackQuery, [second.loginCookie], json));
      assert.equal(errorOf(result.body), 'state_mismatch');
    });

    it('a repeated state parameter (state_mismatch)', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      const raw = `${callbackQuery}&state=${callbackQuery.get('state')}`;
      const result = await callback(callbackEvent(raw, [loginCookie], json));
      assert.equal(errorOf(result.body), 'state_mismatch');
    });

    it('a state that was already used (state_reused), so the code is exchanged once', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      assert.equal((await callback(callbackEvent(callbackQuery, [loginCookie]))).statusCode, 302);
      const again = await callback(callbackEvent(callbackQuery, [loginCookie], json));
      assert.equal(again.statusCode, 400);
      assert.equal(errorOf(again.body), 'state_reused');
      assert.equal(tokenRequests(pool).length, 1);
    });

    it('an expired login-state cookie (login_state_expired)', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      pool.clock.now += 601;
      const result = await callback(callbackEvent(callbackQuery, [loginCookie], json));
      assert.equal(errorOf(result.body), 'login_state_expired');
      assert.equal(tokenRequests(pool).length, 0);
    });

    it('a tampered login-state cookie (login_state_invalid)', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      const [name, value] = loginCookie.split('=') as [string, string];
      const parts = value.split('.');
      const ciphertext = parts[3] as string;
      parts[3] = `${ciphertext.slice(0, 10)}${ciphertext[10] === 'A' ? 'B' : 'A'}${ciphertext.slice(11)}`;
      const result = await callback(callbackEvent(callbackQuery, [`${name}=${parts.join('.')}`], json));
      assert.equal(errorOf(result.body), 'login_state_invalid');
      assert.equal(tokenRequests(pool).length, 0);
    });

    it('a login-state cookie sealed with a key this deployment does not have (login_state_invalid)', async () => {
      const { pool, login, callback } = await setup();
      const { callbackQuery } = await startSignIn(login, pool);
      const foreign = deriveKeyring({
        current: 'k2',
        secrets: { k2: 'another-deployment-key-0123456789abcdef' },
      });
      const value = await sealCookie(
        'login-state',
        {
          meta: {
            st: callbackQuery.get('state'),
            n: 'n',
            cv: 'v'.repeat(43),
            p: 'IDmeSandbox',
            r: '/',
            exp: pool.clock.now + 60,
          },
        },
        foreign,
      );
      const result = await callback(callbackEvent(callbackQuery, [`__Secure-broker-login=${value}`], json));
      assert.equal(errorOf(result.body), 'login_state_invalid');
      assert.equal(tokenRequests(pool).length, 0);
    });

    it('a session cookie presented as the login-state cookie (login_state_invalid)', async () => {
      const { pool, login, callback } = await setup();
      const { callbackQuery } = await startSignIn(login, pool);
      const value = await sealCookie(
        'session',
        { meta: { st: callbackQuery.get('state'), exp: pool.clock.now + 60 } },
        keyring,
      );
      const result = await callback(callbackEvent(callbackQuery, [`__Secure-broker-login=${value}`], json));
      assert.equal(errorOf(result.body), 'login_state_invalid');
    });
  });

  it('refuses a callback without a code, or with two, after using up the state', async () => {
    const { pool, login, callback } = await setup();
    const { loginCookie, callbackQuery } = await startSignIn(login, pool);
    const raw = `${callbackQuery}&code=second`;
    const result = await callback(callbackEvent(raw, [loginCookie], json));
    assert.equal(result.statusCode, 400);
    assert.equal(errorOf(result.body), 'code_missing');
    assert.equal(tokenRequests(pool).length, 0);
  });

  describe('checks the ID token nonce', () => {
    it('refuses an ID token without a nonce (nonce_mismatch) and sets no session', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool, { nonce: null });
      const result = await callback(callbackEvent(callbackQuery, [loginCookie], json));
      assert.equal(result.statusCode, 401);
      assert.equal(errorOf(result.body), 'nonce_mismatch');
      assert.equal(setCookieFor(result, '__Host-broker-session'), undefined);
    });

    it('refuses an ID token with another nonce (nonce_mismatch)', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool, { nonce: 'n'.repeat(43) });
      const result = await callback(callbackEvent(callbackQuery, [loginCookie], json));
      assert.equal(result.statusCode, 401);
      assert.equal(errorOf(result.body), 'nonce_mismatch');
    });
  });

  describe('the token endpoint', () => {
    it('reports a code Cognito refuses (invalid_grant) with a restart hint', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      pool.setFault({ status: 400, body: { error: 'invalid_grant' } });
      const result = await callback(callbackEvent(callbackQuery, [loginCookie], json));
      assert.equal(result.statusCode, 400);
      assert.equal(errorOf(result.body), 'invalid_grant');
      assert.match(JSON.parse(result.body as string).message, /already used.*start sign-in again/);
    });

    it('times out and does not retry the single-use code', async () => {
      const { pool, login, callback } = await setup(authEnv({ UPSTREAM_TIMEOUT_MS: '150' }));
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      pool.setFault('hang');
      const result = await callback(callbackEvent(callbackQuery, [loginCookie], json));
      assert.equal(result.statusCode, 504);
      assert.equal(errorOf(result.body), 'upstream_timeout');
      assert.equal(tokenRequests(pool).length, 1);
    });

    it('reports refused client credentials (invalid_client) as a configuration problem', async () => {
      const { pool, login, callback } = await setup(authEnv({ USER_POOL_CLIENT_SECRET: 'wrong-secret' }));
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      const result = await callback(callbackEvent(callbackQuery, [loginCookie], json));
      assert.equal(result.statusCode, 502);
      assert.equal(errorOf(result.body), 'invalid_client');
      assert.match(JSON.parse(result.body as string).message, /client secret/);
      assert.doesNotMatch(result.body as string, /CLIENT_SECRET_ID/, 'the variable is for the log only');
    });
  });

  describe('Cognito error redirects', () => {
    it('explains the error on an HTML page without operator detail, and clears the login-state cookie', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      const query = new URLSearchParams({
        error: 'invalid_request',
        error_description: 'invalid token_type in idp oauth response',
        state: callbackQuery.get('state') as string,
      });
      const result = await callback(callbackEvent(query, [loginCookie], { accept: 'text/html' }));
      assert.equal(result.statusCode, 502);
      assert.match(result.headers['Content-Type'] as string, /text\/html/);
      assert.match(result.body as string, /could not read its answer/);
      assert.doesNotMatch(result.body as string, /plainJson|invalid token_type/);
      assert.equal(cookieValueOf(setCookieFor(result, '__Secure-broker-login') as string), '');
      assert.equal(tokenRequests(pool).length, 0);
    });

    it('answers JSON when asked, with the explanation only', async () => {
      const { pool, login, callback } = await setup();
      const { loginCookie, callbackQuery } = await startSignIn(login, pool);
      const query = new URLSearchParams({
        error: 'access_denied',
        state: callbackQuery.get('state') as string,
      });
      const result = await callback(callbackEvent(query, [loginCookie], json));
      assert.equal(result.statusCode, 403);
      const body = JSON.parse(result.body as string);
      assert.equal(body.error, 'access_denied');
      assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId', 'title']);
    });

    it("does not repeat Cognito's description when the state does not belong to this browser", async () => {
      const { callback } = await setup();
      const query = new URLSearchParams({
        error: 'server_error',
        error_description: 'Call +1 555 0100 to unlock',
        state: 'forged',
      });
      const result = await callback(callbackEvent(query, [], { accept: 'text/html' }));
      assert.equal(result.statusCode, 502);
      assert.doesNotMatch(result.body as string, /555/);
    });

    it('renders broker errors (state, cookie) as a page for browsers', async () => {
      const { pool, login, callback } = await setup();
      const { callbackQuery } = await startSignIn(login, pool);
      const result = await callback(
        callbackEvent(callbackQuery, [], { accept: 'text/html,application/xhtml+xml' }),
      );
      assert.equal(result.statusCode, 400);
      assert.match(result.headers['Content-Type'] as string, /text\/html/);
      assert.match(result.body as string, /login_state_missing/);
      assert.match(result.headers['Content-Security-Policy'] as string, /default-src 'none'/);
    });
  });

  it('still signs in when the identity pool cannot be reached (the identity id comes later)', async () => {
    identityMock.reset();
    identityMock
      .on(GetIdCommand)
      .rejects(Object.assign(new Error('down'), { name: 'InternalErrorException' }));
    const { pool, login, callback } = await setup();
    const { loginCookie, callbackQuery } = await startSignIn(login, pool);
    const result = await callback(callbackEvent(callbackQuery, [loginCookie]));
    assert.equal(result.statusCode, 302);
  });
});
