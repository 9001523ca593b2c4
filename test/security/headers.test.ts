/**
 * Security headers on every page and redirect of the broker (functions/shared/http.ts
 * `documentHeaders`): a CSP that runs nothing and allows no framing, X-Frame-Options for older
 * browsers, nosniff, no Referer (the callback URL carries the code, the authorize URL the state and
 * nonce), no caching, and HSTS once the broker is served over https.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { apiEvent } from '../helpers/events.ts';
import { authEnv } from '../helpers/user-pool.ts';
import { configured, invoker } from '../unit/auth/support.ts';
import { beginLogin, type HostileStack, startHostileStack } from './support.ts';

type Headers = Record<string, string | null | undefined>;

/** The headers every page and redirect must carry. */
function assertDocumentHeaders(get: (name: string) => string | null | undefined, https: boolean): void {
  const csp = get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /base-uri 'none'/);
  assert.match(csp, /form-action 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|script-src/);
  assert.equal(get('x-frame-options'), 'DENY');
  assert.equal(get('x-content-type-options'), 'nosniff');
  assert.equal(get('referrer-policy'), 'no-referrer');
  assert.equal(get('cache-control'), 'no-store');
  if (https) assert.match(get('strict-transport-security') ?? '', /^max-age=\d{8,}; includeSubDomains$/);
  else assert.equal(get('strict-transport-security') ?? null, null, 'no HSTS over plain http');
}

const fromFetch = (response: Response) => (name: string) => response.headers.get(name);
const fromResult = (headers: Headers) => (name: string) => {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
};

describe('over http (the offline stack)', () => {
  let h: HostileStack;
  before(async () => {
    h = await startHostileStack();
  });
  after(() => h.close());

  it('GET /auth/login: the 302 to the authorize endpoint', async () => {
    const response = await fetch(`${h.api}/auth/login?provider=IDmeSandbox&return_to=/`, {
      redirect: 'manual',
    });
    assert.equal(response.status, 302);
    assertDocumentHeaders(fromFetch(response), false);
  });

  it('GET /auth/callback: the 302 that sets the session', async () => {
    const { browser, state, nonce } = await beginLogin(h.api);
    h.op.nextNonce = nonce;
    const response = await browser.request(`${h.api}/auth/callback?code=c0de&state=${state}`);
    assert.equal(response.status, 302);
    assertDocumentHeaders(fromFetch(response), false);
  });

  it('GET /auth/callback: the error page, whose only style is allowed by its hash', async () => {
    const response = await fetch(`${h.api}/auth/callback?error=access_denied`, {
      headers: { accept: 'text/html' },
    });
    assert.equal(response.status, 403);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assertDocumentHeaders(fromFetch(response), false);
    const style = /<style>([^<]*)<\/style>/.exec(await response.text())?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    assert.match(
      response.headers.get('content-security-policy') ?? '',
      new RegExp(`style-src 'sha256-${hash.replace(/[+/]/g, '\\$&')}'`),
    );
  });

  it('GET /auth/callback: a broker refusal rendered as a page', async () => {
    const response = await fetch(`${h.api}/auth/callback?code=c&state=s`, {
      headers: { accept: 'text/html' },
    });
    assert.equal(response.status, 400);
    assertDocumentHeaders(fromFetch(response), false);
  });

  it('POST /auth/logout from a form: the 303 to Cognito’s /logout', async () => {
    const response = await fetch(`${h.api}/auth/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: h.api, accept: 'text/html', 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(response.status, 303);
    assertDocumentHeaders(fromFetch(response), false);
  });

  it('JSON answers are not sniffed or cached', async () => {
    const response = await fetch(`${h.api}/credentials`);
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('cache-control'), 'no-store');
  });
});

describe('over https (PUBLIC_BASE_URL https://…): HSTS as well', () => {
  const env = authEnv();

  it('GET /auth/login', async () => {
    const login = invoker(configured('login', env).createHandler());
    const result = await login(apiEvent({ path: '/auth/login', query: { provider: 'IDmeSandbox' } }));
    assert.equal(result.statusCode, 302);
    assertDocumentHeaders(fromResult(result.headers), true);
  });

  it('GET /auth/callback error page', async () => {
    const callback = invoker(configured('callback', env).createHandler());
    const result = await callback(
      apiEvent({
        path: '/auth/callback',
        query: { error: 'access_denied' },
        headers: { accept: 'text/html' },
      }),
    );
    assert.equal(result.statusCode, 403);
    assertDocumentHeaders(fromResult(result.headers), true);
  });

  it('GET /auth/callback refusal page (no login state)', async () => {
    const callback = invoker(configured('callback', env).createHandler());
    const result = await callback(
      apiEvent({
        path: '/auth/callback',
        query: { code: 'c', state: 's' },
        headers: { accept: 'text/html' },
      }),
    );
    assert.equal(result.statusCode, 400);
    assertDocumentHeaders(fromResult(result.headers), true);
  });

  it('POST /auth/logout from a form', async () => {
    const logout = invoker(configured('logout', env).createHandler());
    const result = await logout(
      apiEvent({
        method: 'POST',
        path: '/auth/logout',
        headers: { origin: 'https://app.example.com', accept: 'text/html' },
      }),
    );
    assert.equal(result.statusCode, 303);
    assertDocumentHeaders(fromResult(result.headers), true);
  });
});
