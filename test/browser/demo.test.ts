/**
 * The demo page in real headless Chromium (Debian's, driven by playwright-core): sign in with
 * each provider through the Cognito and IdP stand-ins, see the claims, get credentials, sign out.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import type { OfflineStack } from '../../local/stack.ts';
import { startEphemeralStack } from '../../local/stack.ts';

const executablePath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => p !== undefined && existsSync(p),
);

let stack: OfflineStack;
let browser: Browser;

before(async () => {
  assert.ok(executablePath, 'Chromium is not installed: run scripts/ensure-chromium.sh (npm test does)');
  stack = await startEphemeralStack();
  browser = await chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await stack?.close();
});

describe('demo page', () => {
  // The access table is the pinned matrix's row (test/integration/access.test.ts) for this person.
  for (const [button, identity, expected, tags, decisions] of [
    [
      'login-idme',
      'identity-veteran',
      '"idp": "idme"',
      'idp=idme idp_env=sandbox assurance=IAL2 affiliations=military:veteran',
      'allow allow allow deny deny',
    ],
    [
      'login-idura',
      'identity-se-bankid',
      '"idp": "idura"',
      'idp=idura idp_env=test assurance=none affiliations=none',
      'allow allow deny deny deny',
    ],
  ] as const) {
    it(`signs in (${button}), shows claims, credentials and what they may do, and signs out`, async () => {
      const page = await browser.newPage();
      try {
        await page.goto(`${stack.api.url}/`);
        await page.getByTestId(button).click();
        await page.getByTestId(identity).click();
        await page.waitForURL(`${stack.api.url}/`);
        const claims = page.getByTestId('claims');
        await claims.waitFor();
        assert.match((await claims.textContent()) ?? '', new RegExp(expected));
        await page.getByTestId('get-credentials').click();
        const credentials = page.getByTestId('credentials');
        await credentials.waitFor();
        const text = (await credentials.textContent()) ?? '';
        assert.match(text, /AccessKeyId\s+ASIA…/);
        assert.match(text, /Expiration\s+\d{4}-/);
        assert.doesNotMatch(text, /SecretAccessKey\s+\S{12,}/, 'the secret is masked');
        await page.getByTestId('access').waitFor();
        assert.equal(await page.getByTestId('principal-tags').textContent(), tags);
        const cells = await page.locator('#access-rows td:last-child').allTextContents();
        assert.equal(cells.join(' '), decisions);
        if (button === 'login-idme')
          await page.screenshot({ path: 'test/browser/last-run.png', fullPage: true });
        // Page scripts cannot read the session: it is HttpOnly.
        assert.equal(await page.evaluate(() => document.cookie.includes('session')), false);
        await page.getByTestId('logout').click();
        await page.getByTestId('login-idme').waitFor();
      } finally {
        await page.close();
      }
    });
  }

  it('says "sign in again" with the login URL when the session was revoked elsewhere (SignInRequiredError)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${stack.api.url}/`);
      await page.getByTestId('login-idme').click();
      await page.getByTestId('identity-student').click();
      await page.getByTestId('claims').waitFor();
      // Another device signs the session out: the refresh token is revoked, this browser keeps its cookie.
      const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
      const logout = await fetch(`${stack.api.url}/auth/logout`, {
        method: 'POST',
        headers: { cookie, accept: 'application/json' },
      });
      assert.equal(logout.status, 200);
      await page.getByTestId('get-credentials').click();
      const again = page.getByTestId('sign-in-again');
      await again.waitFor();
      assert.equal(await again.getAttribute('href'), '/auth/login?provider=IDmeSandbox&return_to=%2F');
      assert.match((await page.getByTestId('error').textContent()) ?? '', /sign in again/i);
    } finally {
      await context.close();
    }
  });

  it('serves the demo script as one bundle with the client module inside (no other broker code)', async () => {
    const response = await fetch(`${stack.api.url}/demo/app.js`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /javascript/);
    const script = await response.text();
    assert.match(script, /SignInRequiredError = class extends BrokerError/);
    assert.doesNotMatch(script, /^\s*import\b/m, 'bundled: nothing left to import');
    // Only the client names the broker's routes.
    assert.equal(script.match(/\/credentials/g)?.length, 1);
  });

  it('answers /demo/access only for credentials the identity pool stand-in issued', async () => {
    const response = await fetch(`${stack.api.url}/demo/access?accessKeyId=ASIALOCALNOTISSUED`);
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: string }).error, 'not_found');
  });
});
