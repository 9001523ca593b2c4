/**
 * The whole federation over real HTTP: the broker's functions behind the template-driven local
 * API, Cognito user pool and identity pool stand-ins, and the ID.me and Idura stand-ins.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OfflineStack } from '../../local/stack.ts';
import { startEphemeralStack } from '../../local/stack.ts';
import { Browser } from '../helpers/web.ts';

let stack: OfflineStack;

before(async () => {
  stack = await startEphemeralStack();
});
after(() => stack.close());

async function signIn(provider: string, identity: string, browser = new Browser(), on = stack) {
  const { url } = await browser.navigate(`${on.api.url}/auth/login?provider=${provider}&return_to=/`, {
    identity,
    stopAt: on.api.url,
  });
  return { browser, landedAt: url };
}

async function session(browser: Browser, on: OfflineStack = stack) {
  const response = await browser.request(`${on.api.url}/auth/session`, {
    headers: { accept: 'application/json' },
  });
  assert.equal(response.status, 200);
  return (await response.json()) as {
    signedIn: boolean;
    provider?: string;
    claims?: Record<string, unknown>;
    identityId?: string | null;
  };
}

async function credentials(browser: Browser, on = stack) {
  return browser.request(`${on.api.url}/credentials`, {
    method: 'POST',
    headers: { origin: on.api.url, accept: 'application/json' },
  });
}

describe('sign-in with ID.me through Cognito', () => {
  it('lands back on return_to with a session holding the canonical claims, and no national identifier', async () => {
    const { browser, landedAt } = await signIn('IDmeSandbox', 'veteran');
    assert.equal(landedAt.href, `${stack.api.url}/`);
    const view = await session(browser);
    assert.equal(view.signedIn, true);
    assert.equal(view.provider, 'IDmeSandbox');
    assert.equal(view.claims?.idp, 'idme');
    assert.equal(view.claims?.idp_env, 'sandbox');
    assert.deepEqual(view.claims?.affiliations, ['military:veteran']);
    // The callback trades the ID token for the identity id (GetId), so it needs IDENTITY_POOL_ID.
    assert.match(
      String(view.identityId),
      /^us-east-1:/,
      'the callback recorded the identity id (IDENTITY_POOL_ID)',
    );
    const everything = JSON.stringify(view);
    assert.doesNotMatch(everything, /796104437|social/, 'the SSN never reaches the session');
    assert.doesNotMatch(everything, /eyJ/, 'no token is exposed to the page');
  });

  it('trades the session for identity-pool credentials, without exposing tokens', async () => {
    const { browser } = await signIn('IDmeSandbox', 'student');
    const response = await credentials(browser);
    assert.equal(response.status, 200, await response.clone().text());
    const body = (await response.json()) as Record<string, string>;
    assert.match(body.AccessKeyId ?? '', /^ASIA/);
    assert.ok(body.SecretAccessKey && body.Token);
    assert.ok(new Date(body.Expiration ?? '').getTime() > Date.now() + 50 * 60_000);
    assert.match(body.IdentityId ?? '', /^us-east-1:[0-9a-f-]+$/);
    const issued = stack.identityPool.credentials().find((c) => c.identityId === body.IdentityId);
    assert.equal(issued?.principalTags.idp, 'idme');
  });

  it('keeps the same identity id for the same person across sign-ins', async () => {
    const first = (await (await credentials((await signIn('IDmeSandbox', 'ial2')).browser)).json()) as Record<
      string,
      string
    >;
    const second = (await (
      await credentials((await signIn('IDmeSandbox', 'ial2')).browser)
    ).json()) as Record<string, string>;
    assert.equal(first.IdentityId, second.IdentityId);
  });
});

describe('sign-in with Idura through Cognito', () => {
  it('signs in a MitID user who has only a name, without the CPR number', async () => {
    const { browser } = await signIn('IduraTest', 'mitid');
    const view = await session(browser);
    assert.equal(view.claims?.idp, 'idura');
    assert.equal(view.claims?.eid_scheme, 'dkmitid');
    assert.equal(view.claims?.name, 'Ditlev Von Testesen');
    assert.equal(view.claims?.given_name, undefined);
    assert.doesNotMatch(JSON.stringify(view), /cpr/i);
    assert.equal((await credentials(browser)).status, 200);
  });

  it("stops with idp_userinfo_not_json when Idura's user info is not plainJson (the fix is for the log, not the page)", async () => {
    stack.idura.setUserinfoStrategy('signedJwt');
    try {
      const browser = new Browser();
      const { response } = await browser.navigate(
        `${stack.api.url}/auth/login?provider=IduraTest&return_to=/`,
        {
          identity: 'se-bankid',
          stopAt: stack.api.url,
        },
      );
      const page = await response.text();
      assert.ok(response.status >= 400, `status ${response.status}`);
      assert.match(page, /data-error="idp_userinfo_not_json"/);
      assert.doesNotMatch(page, /plainJson/);
      assert.equal((await session(browser)).signedIn, false);
    } finally {
      stack.idura.setUserinfoStrategy('plainJson');
    }
  });
});

describe('login input', () => {
  it('refuses an unknown provider with the list of configured ones', async () => {
    const response = await fetch(`${stack.api.url}/auth/login?provider=Google&return_to=/`, {
      redirect: 'manual',
      headers: { accept: 'application/json' },
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as Record<string, string>;
    assert.match(body.message ?? '', /IDmeSandbox/);
    assert.match(body.message ?? '', /IduraTest/);
  });

  it('refuses an open redirect in return_to', async () => {
    const response = await fetch(
      `${stack.api.url}/auth/login?provider=IDmeSandbox&return_to=//evil.example`,
      {
        redirect: 'manual',
        headers: { accept: 'application/json' },
      },
    );
    assert.equal(response.status, 400);
  });
});

describe('logout', () => {
  it('revokes the session: a replayed session cookie gets no more credentials and shows no claims', async () => {
    const { browser } = await signIn('IDmeSandbox', 'veteran');
    assert.equal((await credentials(browser)).status, 200);
    const stolen = new Map(browser.cookies);
    const response = await browser.request(`${stack.api.url}/auth/logout`, {
      method: 'POST',
      headers: { origin: stack.api.url, accept: 'application/json' },
    });
    assert.equal(response.status, 200, await response.clone().text());
    const { logoutUrl } = (await response.json()) as { logoutUrl: string };
    assert.ok(logoutUrl.startsWith(`${stack.userPool.url}/logout?`));
    assert.equal((await session(browser)).signedIn, false);

    const replay = new Browser();
    for (const [name, cookie] of stolen) replay.cookies.set(name, cookie);
    const refused = await credentials(replay);
    assert.equal(refused.status, 401, await refused.clone().text());
    const copy = new Browser();
    for (const [name, cookie] of stolen) copy.cookies.set(name, cookie);
    const shown = await session(copy);
    assert.equal(shown.signedIn, false);
    assert.equal(shown.claims, undefined);
  });
});

describe('refresh after the ID token expires', () => {
  it('runs the refresh_token grant and still issues credentials', async () => {
    // One clock for the functions' runtimes and the stand-ins: sign in, then move the whole stack past
    // the ID token's hour and the identity pool's skew, with no waiting.
    const clocked = await startEphemeralStack();
    try {
      const { browser, landedAt } = await signIn('IDmeSandbox', 'veteran', new Browser(), clocked);
      assert.equal(landedAt.href, `${clocked.api.url}/`, 'the sign-in completed');
      const offset = 2 * 3600 * 1000;
      clocked.setClockOffset(offset);
      const tokenCalls = clocked.userPool.calls.token ?? 0;
      const response = await credentials(browser, clocked);
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal((clocked.userPool.calls.token ?? 0) - tokenCalls, 1, 'one refresh_token grant');
      const { Expiration } = (await response.json()) as { Expiration: string };
      assert.ok(Date.parse(Expiration) > Date.now() + offset, 'credentials minted at the new time');
    } finally {
      await clocked.close();
    }
  });
});

describe('misconfiguration explained at the callback', () => {
  it('explains invalid_client when the app client secret is wrong', async () => {
    const broken = await startEphemeralStack(
      {},
      { functionEnv: { USER_POOL_CLIENT_SECRET: 'not-the-secret' } },
    );
    try {
      const browser = new Browser();
      const { response } = await browser.navigate(
        `${broken.api.url}/auth/login?provider=IDmeSandbox&return_to=/`,
        {
          identity: 'veteran',
          stopAt: broken.api.url,
        },
      );
      assert.ok(response.status >= 400, `status ${response.status}`);
      assert.match(await response.text(), /client secret/i);
      assert.equal((await session(browser, broken)).signedIn, false, 'no half-written session');
    } finally {
      await broken.close();
    }
  });

  it("stops at Cognito's redirect_mismatch page when the callback URL is not registered", async () => {
    const broken = await startEphemeralStack({}, { functionEnv: { PUBLIC_BASE_URL: 'http://localhost:1' } });
    try {
      const browser = new Browser();
      const { url } = await browser.navigate(
        `${broken.api.url}/auth/login?provider=IDmeSandbox&return_to=/`,
        {
          identity: 'veteran',
        },
      );
      assert.equal(url.origin, broken.userPool.url);
      assert.equal(url.searchParams.get('error'), 'redirect_mismatch');
    } finally {
      await broken.close();
    }
  });
});
