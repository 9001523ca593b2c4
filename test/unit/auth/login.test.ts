import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { openCookie } from '../../../functions/shared/auth/cookies.ts';
import { MetricsCollector, tapStdout } from '../../../local/emf.ts';
import { apiEvent } from '../../helpers/events.ts';
import { authEnv, testCallbackUrl, testDomain, testFrontend } from '../../helpers/user-pool.ts';
import { attributesOf, configured, cookieValueOf, invoker, keyring, pairOf } from './support.ts';

async function loginWith(query: Record<string, string>, env = authEnv()) {
  const mod = configured('login', env);
  const login = invoker(mod.createHandler());
  return login(apiEvent({ path: '/auth/login', query }));
}

describe('GET /auth/login', () => {
  it('redirects to /oauth2/authorize for the chosen provider with code flow, scopes, state, nonce and PKCE S256', async () => {
    const result = await loginWith({ provider: 'IduraTest', return_to: '/app' });
    assert.equal(result.statusCode, 302);
    const url = new URL(result.headers.Location as string);
    assert.equal(`${url.origin}${url.pathname}`, `${testDomain}/oauth2/authorize`);
    const q = url.searchParams;
    assert.equal(q.get('identity_provider'), 'IduraTest');
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), authEnv().USER_POOL_CLIENT_ID);
    assert.equal(q.get('redirect_uri'), testCallbackUrl);
    assert.equal(q.get('scope'), 'openid email profile');
    assert.equal(q.get('code_challenge_method'), 'S256');
    assert.match(q.get('state') ?? '', /^[\w-]{43}$/);
    assert.match(q.get('nonce') ?? '', /^[\w-]{43}$/);
    assert.equal(result.headers['Cache-Control'], 'no-store');
  });

  it('keeps state, nonce, the code verifier, provider and return_to in the encrypted login-state cookie', async () => {
    const result = await loginWith({ provider: 'IDmeSandbox', return_to: '/app?tab=1' });
    const q = new URL(result.headers.Location as string).searchParams;
    const setCookie = (result.cookies ?? [])[0] as string;
    const opened = await openCookie(
      cookieValueOf(setCookie),
      'login-state',
      keyring,
      Math.floor(Date.now() / 1000),
    );
    assert.equal(opened.meta.st, q.get('state'));
    assert.equal(opened.meta.n, q.get('nonce'));
    assert.equal(opened.meta.p, 'IDmeSandbox');
    assert.equal(opened.meta.r, '/app?tab=1');
    const challenge = createHash('sha256').update(String(opened.meta.cv)).digest('base64url');
    assert.equal(q.get('code_challenge'), challenge);
    // Nothing readable in the cookie itself.
    assert.ok(!setCookie.includes(q.get('state') as string));
    assert.equal(decodeProtectedHeader(cookieValueOf(setCookie)).kid, 'k2');
  });

  it('refuses with invalid_return_to a return_to whose sealed login cookie would exceed the 4096-byte browser limit', async () => {
    // 400 euro signs: 400 characters as given, 3 600 once percent-encoded, ~5.3 KB sealed.
    const result = await loginWith({ provider: 'IDmeSandbox', return_to: `/${'€'.repeat(400)}` });
    assert.equal(result.statusCode, 400);
    assert.equal(JSON.parse(result.body as string).error, 'invalid_return_to');
    assert.equal(result.cookies, undefined);
  });

  it('counts SignInStarted only for a login that passed every check', async () => {
    const collector = new MetricsCollector();
    const untap = tapStdout((chunk) => collector.ingestWrite(chunk));
    const started = () => collector.datapoints.filter((p) => p.name === 'SignInStarted').length;
    try {
      const tooLong = await loginWith({ provider: 'IDmeSandbox', return_to: `/${'€'.repeat(400)}` });
      assert.equal(tooLong.statusCode, 400);
      const unknown = await loginWith({ provider: 'Nope', return_to: '/' });
      assert.equal(unknown.statusCode, 400);
      assert.equal(started(), 0, 'a refused login counted as started');
      assert.equal((await loginWith({ provider: 'IDmeSandbox', return_to: '/' })).statusCode, 302);
      assert.ok(started() > 0, 'an accepted login is counted');
    } finally {
      untap();
    }
  });

  it('accepts the longest return_to whose login cookie still fits in 4096 bytes, and refuses one byte more', async () => {
    const sizeFor = async (n: number) => {
      const result = await loginWith({ provider: 'IDmeSandbox', return_to: `/${'€'.repeat(n)}` });
      return result.statusCode === 302 ? Buffer.byteLength((result.cookies ?? [])[0] as string) : undefined;
    };
    let fits = 0;
    let tooLong = 400;
    while (tooLong - fits > 1) {
      const mid = Math.floor((fits + tooLong) / 2);
      if ((await sizeFor(mid)) === undefined) tooLong = mid;
      else fits = mid;
    }
    const largest = (await sizeFor(fits)) as number;
    assert.ok(largest <= 4096 && largest > 4000, `largest accepted cookie: ${largest} bytes`);
    assert.equal(await sizeFor(tooLong), undefined);
  });

  it('scopes the login-state cookie to the callback path: HttpOnly, Secure, SameSite=Lax, 10 minutes', async () => {
    const result = await loginWith({ provider: 'IDmeSandbox' });
    const setCookie = (result.cookies ?? [])[0] as string;
    assert.match(pairOf(setCookie), /^__Secure-broker-login=/);
    assert.deepEqual(attributesOf(setCookie), {
      path: '/auth/callback',
      'max-age': '600',
      httponly: true,
      secure: true,
      samesite: 'Lax',
    });
  });

  it('drops Secure and the cookie prefixes when the broker is served over http://localhost', async () => {
    const result = await loginWith(
      { provider: 'IDmeSandbox' },
      authEnv({ PUBLIC_BASE_URL: 'http://localhost:3000', ALLOWED_ORIGINS: 'http://localhost:3000' }),
    );
    const setCookie = (result.cookies ?? [])[0] as string;
    assert.match(setCookie, /^broker-login=/);
    assert.equal(attributesOf(setCookie).secure, undefined);
  });

  it('uses a fresh state, nonce and verifier for every sign-in', async () => {
    const mod = configured('login');
    const login = invoker(mod.createHandler());
    const a = new URL(
      (await login(apiEvent({ path: '/auth/login', query: { provider: 'IDmeSandbox' } }))).headers
        .Location as string,
    );
    const b = new URL(
      (await login(apiEvent({ path: '/auth/login', query: { provider: 'IDmeSandbox' } }))).headers
        .Location as string,
    );
    for (const name of ['state', 'nonce', 'code_challenge']) {
      assert.notEqual(a.searchParams.get(name), b.searchParams.get(name), name);
    }
  });

  it('sends users to the first allowed origin when no return_to is given', async () => {
    const result = await loginWith({ provider: 'IDmeSandbox' });
    const opened = await openCookie(
      cookieValueOf((result.cookies ?? [])[0] as string),
      'login-state',
      keyring,
      Math.floor(Date.now() / 1000),
    );
    assert.equal(opened.meta.r, `${testFrontend}/`);
  });

  it('refuses an unknown provider with 400 listing the configured ones', async () => {
    const result = await loginWith({ provider: 'idme' });
    assert.equal(result.statusCode, 400);
    const body = JSON.parse(result.body as string);
    assert.equal(body.error, 'unknown_provider');
    assert.match(body.message, /IDmeSandbox, IduraTest/);
    assert.equal(result.cookies, undefined);
  });

  it('refuses a missing provider with 400 listing the configured ones', async () => {
    const result = await loginWith({});
    assert.equal(result.statusCode, 400);
    assert.match(
      JSON.parse(result.body as string).message,
      /provider is missing: use one of IDmeSandbox, IduraTest/,
    );
  });

  it('refuses an open redirect in return_to with 400 and sets no cookie', async () => {
    const result = await loginWith({ provider: 'IDmeSandbox', return_to: '//evil.example' });
    assert.equal(result.statusCode, 400);
    assert.equal(JSON.parse(result.body as string).error, 'invalid_return_to');
    assert.equal(result.cookies, undefined);
  });

  it('refuses a repeated provider parameter', async () => {
    const mod = configured('login');
    const login = invoker(mod.createHandler());
    const result = await login(
      apiEvent({ path: '/auth/login', rawQueryString: 'provider=IDmeSandbox&provider=IduraTest' }),
    );
    assert.equal(result.statusCode, 400);
  });

  it('accepts an absolute return_to on an allowed origin', async () => {
    const result = await loginWith({ provider: 'IDmeSandbox', return_to: `${testFrontend}/done#x` });
    assert.equal(result.statusCode, 302);
  });
});
