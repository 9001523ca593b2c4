/**
 * Hostile requests against the offline stack over HTTP: forged or replayed sign-in responses,
 * tampered and foreign cookies, open redirects in every form browsers accept, cross-site cookie
 * requests, CORS from origins that are not allowed, bodies the broker does not expect, and oversize
 * input. Each case asserts the exact status and error code, and that nothing upstream was called when
 * the request should have stopped at the door.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type CookieKeyring, deriveKeyring, sealCookie } from '../../functions/shared/auth/cookies.ts';
import { Browser } from '../helpers/web.ts';
import { asJson, beginLogin, type HostileStack, problemOf, startHostileStack } from './support.ts';

let h: HostileStack;
let keyring: CookieKeyring;

before(async () => {
  h = await startHostileStack();
  const { current, ...secrets } = h.stack.config.cookieKeys;
  keyring = deriveKeyring({ current: current as string, secrets });
});
after(() => h.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Flips one character in the middle of the JWE ciphertext (the fourth part). */
function tamper(value: string): string {
  const parts = value.split('.');
  const ciphertext = parts[3] ?? '';
  const i = Math.floor(ciphertext.length / 2);
  parts[3] = `${ciphertext.slice(0, i)}${ciphertext[i] === 'A' ? 'B' : 'A'}${ciphertext.slice(i + 1)}`;
  return parts.join('.');
}

const foreignKeyring = deriveKeyring({
  current: 'local1',
  secrets: { local1: 'another-deployment-with-the-same-key-id-0001' },
});

/** A browser signed in through the hostile pool's well-formed answers. */
async function signedIn(): Promise<Browser> {
  const { browser, state, nonce } = await beginLogin(h.api);
  h.op.nextNonce = nonce;
  const response = await browser.request(`${h.api}/auth/callback?code=c0de&state=${state}`);
  assert.equal(response.status, 302, await response.text());
  return browser;
}

function withCookie(browser: Browser, name: string, value: string): Browser {
  const other = new Browser();
  for (const [n, c] of browser.cookies) other.cookies.set(n, c);
  other.cookies.set(name, { value, path: name === 'broker-login' ? '/auth/callback' : '/' });
  return other;
}

describe('forged and replayed sign-in responses at /auth/callback', () => {
  async function callback(browser: Browser, query: string) {
    const tokenCalls = h.op.calls.token ?? 0;
    const response = await browser.request(`${h.api}/auth/callback?${query}`, { headers: asJson });
    const result = await problemOf(response);
    return { ...result, tokenCalled: (h.op.calls.token ?? 0) > tokenCalls, browser };
  }

  const refusedBeforeExchange = async (
    result: Awaited<ReturnType<typeof callback>>,
    status: number,
    error: string,
  ) => {
    assert.deepEqual({ status: result.status, error: result.error }, { status, error });
    assert.equal(result.tokenCalled, false, 'the code was not exchanged');
    assert.equal(result.browser.cookies.has('broker-session'), false, 'no session');
  };

  it('no state: 400 state_missing', async () => {
    const { browser } = await beginLogin(h.api);
    await refusedBeforeExchange(await callback(browser, 'code=c0de'), 400, 'state_missing');
  });

  it('another state: 400 state_mismatch', async () => {
    const { browser } = await beginLogin(h.api);
    await refusedBeforeExchange(await callback(browser, 'code=c0de&state=forged'), 400, 'state_mismatch');
  });

  it('the state twice: 400 state_mismatch', async () => {
    const { browser, state } = await beginLogin(h.api);
    await refusedBeforeExchange(
      await callback(browser, `code=c0de&state=${state}&state=${state}`),
      400,
      'state_mismatch',
    );
  });

  it('a replayed response (same state and cookie after a sign-in): 400 state_reused', async () => {
    const { browser, state, nonce, loginCookie } = await beginLogin(h.api);
    h.op.nextNonce = nonce;
    assert.equal((await callback(browser, `code=c0de&state=${state}`)).status, 302);
    const replay = withCookie(new Browser(), 'broker-login', loginCookie);
    await refusedBeforeExchange(await callback(replay, `code=c0de&state=${state}`), 400, 'state_reused');
  });

  it('no login-state cookie (another browser): 400 login_state_missing', async () => {
    const { state } = await beginLogin(h.api);
    await refusedBeforeExchange(
      await callback(new Browser(), `code=c0de&state=${state}`),
      400,
      'login_state_missing',
    );
  });

  it('a tampered login-state cookie: 400 login_state_invalid', async () => {
    const { state, loginCookie } = await beginLogin(h.api);
    const browser = withCookie(new Browser(), 'broker-login', tamper(loginCookie));
    await refusedBeforeExchange(
      await callback(browser, `code=c0de&state=${state}`),
      400,
      'login_state_invalid',
    );
  });

  it('a truncated login-state cookie: 400 login_state_invalid', async () => {
    const { state, loginCookie } = await beginLogin(h.api);
    const browser = withCookie(new Browser(), 'broker-login', loginCookie.slice(0, -10));
    await refusedBeforeExchange(
      await callback(browser, `code=c0de&state=${state}`),
      400,
      'login_state_invalid',
    );
  });

  it('a login-state cookie sealed by another deployment (same key id): 400 login_state_invalid', async () => {
    const forged = await sealCookie(
      'login-state',
      {
        meta: { st: 'forged', n: 'n', cv: 'v'.repeat(43), p: 'IDmeSandbox', r: '/', exp: nowSeconds() + 600 },
      },
      foreignKeyring,
    );
    const browser = withCookie(new Browser(), 'broker-login', forged);
    await refusedBeforeExchange(
      await callback(browser, 'code=c0de&state=forged'),
      400,
      'login_state_invalid',
    );
  });

  it('a session cookie presented as the login-state cookie: 400 login_state_invalid', async () => {
    const session = (await signedIn()).cookies.get('broker-session')?.value ?? '';
    const browser = withCookie(new Browser(), 'broker-login', session);
    await refusedBeforeExchange(await callback(browser, 'code=c0de&state=x'), 400, 'login_state_invalid');
  });

  it('an expired login-state cookie (sealed with the deployment’s key): 400 login_state_expired', async () => {
    const expired = await sealCookie(
      'login-state',
      { meta: { st: 's', n: 'n', cv: 'v'.repeat(43), p: 'IDmeSandbox', r: '/', exp: nowSeconds() - 1 } },
      keyring,
    );
    const browser = withCookie(new Browser(), 'broker-login', expired);
    await refusedBeforeExchange(await callback(browser, 'code=c0de&state=s'), 400, 'login_state_expired');
  });

  it('no code: 400 code_missing', async () => {
    const { browser, state } = await beginLogin(h.api);
    await refusedBeforeExchange(await callback(browser, `state=${state}`), 400, 'code_missing');
  });

  it('two codes: 400 code_missing', async () => {
    const { browser, state } = await beginLogin(h.api);
    await refusedBeforeExchange(await callback(browser, `code=a&code=b&state=${state}`), 400, 'code_missing');
  });

  it('a forged error redirect cannot put its text on the page (400 sign_in_failed)', async () => {
    const injected = '<script>alert(1)</script>Call +1-555-SCAM';
    const browser = new Browser();
    const query = `error=x&error_description=${encodeURIComponent(injected)}&state=forged`;
    const json = await callback(browser, query);
    assert.deepEqual({ status: json.status, error: json.error }, { status: 400, error: 'sign_in_failed' });
    const page = await (await browser.request(`${h.api}/auth/callback?${query}`)).text();
    assert.doesNotMatch(page, /SCAM|<script>/);
  });
});

describe('tampered, foreign and oversize session cookies', () => {
  let session: string;
  before(async () => {
    session = (await signedIn()).cookies.get('broker-session')?.value ?? '';
    assert.ok(session);
  });

  async function credentialsWith(value: string) {
    const tokenCalls = h.op.calls.token ?? 0;
    const response = await fetch(`${h.api}/credentials`, {
      method: 'POST',
      headers: { origin: h.api, cookie: `broker-session=${value}`, ...asJson },
    });
    const cleared = response.headers.getSetCookie().some((c) => /^broker-session=;.*Max-Age=0/.test(c));
    return { ...(await problemOf(response)), cleared, refreshed: (h.op.calls.token ?? 0) > tokenCalls };
  }

  const cases: Array<{ name: string; value: () => Promise<string> | string; error: string }> = [
    { name: 'a tampered session cookie', value: () => tamper(session), error: 'session_invalid' },
    { name: 'a truncated session cookie', value: () => session.slice(0, -20), error: 'session_invalid' },
    {
      name: 'a session cookie sealed by another deployment',
      value: () =>
        sealCookie(
          'session',
          { meta: { exp: nowSeconds() + 600 }, token: h.op.refreshToken },
          foreignKeyring,
        ),
      error: 'session_invalid',
    },
    {
      name: 'a login-state cookie presented as the session',
      value: async () => (await beginLogin(h.api)).loginCookie,
      error: 'session_invalid',
    },
    {
      name: 'an expired session cookie sealed with the deployment’s key',
      value: () =>
        sealCookie(
          'session',
          {
            meta: { v: 1, sid: 's', sub: 'x', prv: 'IDmeSandbox', c: {}, iat: 1, exp: nowSeconds() - 1 },
            token: h.op.refreshToken,
          },
          keyring,
        ),
      error: 'session_expired',
    },
    {
      name: 'a 5 KB session cookie',
      value: () => `${session}${'A'.repeat(5_000)}`,
      error: 'session_invalid',
    },
    {
      name: 'a cookie that is not a JWE at all',
      value: () => 'eyJhbGciOiJkaXIifQ',
      error: 'session_invalid',
    },
  ];

  for (const c of cases) {
    it(`${c.name}: 401 ${c.error}, cleared, nothing refreshed`, async () => {
      const result = await credentialsWith(await c.value());
      assert.deepEqual({ status: result.status, error: result.error }, { status: 401, error: c.error });
      assert.equal(result.cleared, true, 'the cookie is cleared');
      assert.equal(result.refreshed, false, 'Cognito was not called');
    });
  }

  it('GET /auth/session with a tampered cookie: 200 signedIn false, cookie cleared', async () => {
    const response = await fetch(`${h.api}/auth/session`, {
      headers: { cookie: `broker-session=${tamper(session)}`, ...asJson },
    });
    assert.equal(response.status, 200);
    assert.equal(
      response.headers.getSetCookie().some((c) => /^broker-session=;/.test(c)),
      true,
    );
    assert.deepEqual(await response.json(), { signedIn: false });
  });
});

describe('cross-site requests with the session cookie', () => {
  let browser: Browser;
  before(async () => {
    browser = await signedIn();
  });

  async function send(
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string },
  ) {
    const calls = { token: h.op.calls.token ?? 0, revoke: h.op.calls.revoke ?? 0 };
    const response = await browser.request(`${h.api}${path}`, {
      method: init.method ?? 'POST',
      headers: { ...asJson, ...init.headers },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    return {
      ...(await problemOf(response)),
      acao: response.headers.get('access-control-allow-origin'),
      upstream: (h.op.calls.token ?? 0) - calls.token + ((h.op.calls.revoke ?? 0) - calls.revoke),
    };
  }

  const refused = (result: Awaited<ReturnType<typeof send>>, status: number, error: string) => {
    assert.deepEqual({ status: result.status, error: result.error }, { status, error });
    assert.equal(result.acao, null, 'no Access-Control-Allow-Origin for that origin');
    assert.equal(result.upstream, 0, 'nothing was refreshed or revoked');
  };

  it('POST /credentials from another origin: 403 origin_not_allowed', async () => {
    refused(
      await send('/credentials', { headers: { origin: 'https://evil.example' } }),
      403,
      'origin_not_allowed',
    );
  });

  it('POST /credentials from Origin: null (sandboxed frame): 403 origin_not_allowed', async () => {
    refused(await send('/credentials', { headers: { origin: 'null' } }), 403, 'origin_not_allowed');
  });

  it('POST /credentials from a look-alike origin (http://localhost.evil.example): 403 origin_not_allowed', async () => {
    const origin = `${h.api.replace('localhost', 'localhost.evil.example')}`;
    refused(await send('/credentials', { headers: { origin } }), 403, 'origin_not_allowed');
  });

  it('GET /credentials without Origin but Sec-Fetch-Site: cross-site: 403 cross_site_request', async () => {
    refused(
      await send('/credentials', { method: 'GET', headers: { 'sec-fetch-site': 'cross-site' } }),
      403,
      'cross_site_request',
    );
  });

  it('GET /credentials from a sibling site (Sec-Fetch-Site: same-site): 403 cross_site_request', async () => {
    refused(
      await send('/credentials', { method: 'GET', headers: { 'sec-fetch-site': 'same-site' } }),
      403,
      'cross_site_request',
    );
  });

  it('GET /auth/session from another origin: 403 origin_not_allowed', async () => {
    refused(
      await send('/auth/session', { method: 'GET', headers: { origin: 'https://evil.example' } }),
      403,
      'origin_not_allowed',
    );
  });

  it('a cross-site form post to /auth/logout (text/plain): 403 origin_not_allowed, nothing revoked', async () => {
    refused(
      await send('/auth/logout', {
        headers: { origin: 'https://evil.example', 'content-type': 'text/plain' },
        body: 'logout=1',
      }),
      403,
      'origin_not_allowed',
    );
  });

  it('a cross-site form post to /credentials (multipart): 403 origin_not_allowed', async () => {
    refused(
      await send('/credentials', {
        headers: { origin: 'https://evil.example', 'content-type': 'multipart/form-data; boundary=x' },
        body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--',
      }),
      403,
      'origin_not_allowed',
    );
  });
});

describe('CORS', () => {
  it('answers a preflight from another origin without Access-Control-Allow-Origin', async () => {
    const response = await fetch(`${h.api}/credentials`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization',
      },
    });
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.equal(response.headers.get('access-control-allow-credentials'), null);
  });

  it('does not echo another origin on an answer (401 unauthenticated, no ACAO)', async () => {
    const response = await fetch(`${h.api}/credentials`, {
      headers: { origin: 'https://evil.example', ...asJson },
    });
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.deepEqual(await problemOf(response), { status: 401, error: 'unauthenticated' });
  });

  it('control: echoes an allowed origin, with credentials', async () => {
    const response = await fetch(`${h.api}/credentials`, {
      method: 'OPTIONS',
      headers: { origin: h.api, 'access-control-request-method': 'POST' },
    });
    assert.equal(response.headers.get('access-control-allow-origin'), h.api);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
  });
});

describe('bodies the broker does not read', () => {
  const post = async (path: string, headers: Record<string, string>, body: string) =>
    problemOf(await fetch(`${h.api}${path}`, { method: 'POST', headers: { ...asJson, ...headers }, body }));

  it('POST /credentials with malformed JSON and no credentials: 401 unauthenticated', async () => {
    assert.deepEqual(await post('/credentials', { 'content-type': 'application/json' }, '{"'), {
      status: 401,
      error: 'unauthenticated',
    });
  });

  it('POST /credentials with a token in a form body (not a header): 401 unauthenticated', async () => {
    const token = await h.op.sign(h.op.poolClaims());
    assert.deepEqual(
      await post(
        '/credentials',
        { 'content-type': 'application/x-www-form-urlencoded' },
        `id_token=${token}`,
      ),
      { status: 401, error: 'unauthenticated' },
    );
  });

  it('POST /credentials, text/plain, a bearer value that is no token: 401 malformed_token', async () => {
    assert.deepEqual(
      await post('/credentials', { 'content-type': 'text/plain', authorization: 'Bearer abc' }, 'hello'),
      { status: 401, error: 'malformed_token' },
    );
  });

  it('POST /credentials with a 1 MB binary body: 401 unauthenticated', async () => {
    assert.deepEqual(
      await post('/credentials', { 'content-type': 'application/octet-stream' }, 'x'.repeat(1 << 20)),
      { status: 401, error: 'unauthenticated' },
    );
  });

  it('POST /auth/logout with malformed JSON from the allowed origin and no session: 200, nothing to revoke', async () => {
    const response = await fetch(`${h.api}/auth/logout`, {
      method: 'POST',
      headers: { origin: h.api, 'content-type': 'application/json', ...asJson },
      body: '{"',
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { revoked: unknown }).revoked, null);
  });
});

describe('open redirects in return_to (GET /auth/login)', () => {
  const forms = (api: string): Array<[string, string]> => {
    const self = new URL(api);
    return [
      ['protocol-relative', '//evil.example'],
      ['protocol-relative with path', '//evil.example/app'],
      ['slash backslash', '/\\evil.example'],
      ['backslash backslash', '\\\\evil.example'],
      ['scheme without slashes', 'https:evil.example'],
      ['scheme with one slash', 'https:/evil.example'],
      ['javascript:', 'javascript:alert(document.cookie)'],
      ['JavaScript: mixed case', 'JaVaScRiPt:alert(1)'],
      ['javascript: behind a leading space', ' javascript:alert(1)'],
      ['data:', 'data:text/html,<script>alert(1)</script>'],
      ['vbscript:', 'vbscript:msgbox(1)'],
      ['encoded slashes', '/%2F%2Fevil.example'],
      ['encoded protocol-relative', '%2F%2Fevil.example'],
      ['double-encoded slashes', '/%252F%252Fevil.example'],
      ['encoded backslash', '/%5Cevil.example'],
      ['tab between slashes', '/\t/evil.example'],
      ['encoded tab', '/%09/evil.example'],
      ['CR LF', '/\r\n/evil.example'],
      ['encoded CR LF', '/%0d%0a/evil.example'],
      ['NUL', '/\u0000/evil.example'],
      ['dot segments collapsing into //', '/..//evil.example'],
      ['encoded dot segments', '/%2e%2e//evil.example'],
      ['an absolute URL elsewhere', 'https://evil.example/'],
      ['the allowed host as a subdomain prefix', `http://localhost.evil.example:${self.port}/`],
      ['the allowed origin plus a suffix', `${api}.evil.example/`],
      ['userinfo with the allowed origin', `http://localhost:${self.port}@evil.example/`],
      ['the allowed host on another port', `http://localhost:${Number(self.port) + 1}/`],
      ['the allowed host over another scheme', `https://localhost:${self.port}/`],
      ['a fullwidth-dot host', '//evil。example'],
    ];
  };

  it('control: a path on the broker is accepted (302)', async () => {
    const response = await fetch(`${h.api}/auth/login?provider=IDmeSandbox&return_to=%2Fapp%3Fx%3D1`, {
      redirect: 'manual',
    });
    assert.equal(response.status, 302);
  });

  // The list needs the API's port; the cases are created once the stack runs.
  it('refuses every form with 400 invalid_return_to and starts no sign-in', async (t) => {
    for (const [name, value] of forms(h.api)) {
      await t.test(`${name}: ${JSON.stringify(value)}`, async () => {
        const response = await fetch(
          `${h.api}/auth/login?provider=IDmeSandbox&return_to=${encodeURIComponent(value)}`,
          { redirect: 'manual', headers: asJson },
        );
        assert.equal(response.headers.getSetCookie().length, 0, 'no login-state cookie');
        assert.deepEqual(await problemOf(response), { status: 400, error: 'invalid_return_to' });
      });
    }
  });
});
