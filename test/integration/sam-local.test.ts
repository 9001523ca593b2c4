/**
 * The `npm run sam:local` layout, offline: the Cognito stand-ins are named cognito.localhost (what the
 * browser and the function containers both resolve), and the functions reach them only through a
 * mapping like `sam local --add-host cognito.localhost:host-gateway` (this machine does not resolve the
 * name otherwise). A sign-in with each provider, and a session's /credentials, complete.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isLoopback } from '../../functions/shared/config.ts';
import { ephemeralConfig } from '../../local/config.ts';
import { lambdaFunctions, repoRoot } from '../../local/lambda/functions.ts';
import { functionRuntime } from '../../local/lambda/runtime.ts';
import { type OfflineStack, type StandIns, startEphemeralStack, startStandIns } from '../../local/stack.ts';
import { Browser } from '../helpers/web.ts';

const cognitoHost = 'cognito.localhost';
let stack: OfflineStack;

before(async () => {
  stack = await startEphemeralStack({ cognitoHost }, { functionHosts: { [cognitoHost]: '127.0.0.1' } });
});
after(() => stack?.close());

async function signIn(provider: string, identity: string): Promise<Browser> {
  const browser = new Browser();
  const { url } = await browser.navigate(`${stack.api.url}/auth/login?provider=${provider}&return_to=/`, {
    identity,
    stopAt: stack.api.url,
  });
  assert.equal(url.href, `${stack.api.url}/`, `${provider}: the sign-in came back to return_to`);
  return browser;
}

describe('sam local layout: Cognito stand-ins named cognito.localhost', () => {
  it('gives the functions only cognito.localhost URLs for Cognito, never a loopback address', () => {
    let checked = 0;
    for (const [id, runtime] of stack.api.functions) {
      for (const name of ['USER_POOL_ISSUER', 'COGNITO_DOMAIN_URL', 'COGNITO_IDENTITY_ENDPOINT']) {
        const value = runtime.environment[name];
        if (value === undefined) continue;
        assert.equal(new URL(value).hostname, cognitoHost, `${id} ${name}=${value}`);
        checked += 1;
      }
    }
    // The issuer, the hosted UI and the identity pool endpoint of five HTTP functions: 11 today.
    assert.ok(checked >= 10, `only ${checked} Cognito URLs found`);
    assert.equal(new URL(stack.userPool.issuer).hostname, cognitoHost, 'the ID token issuer');
  });

  it('signs in with ID.me and with Idura, and trades the session for credentials', async () => {
    for (const [provider, identity] of [
      ['IDmeSandbox', 'veteran'],
      ['IduraTest', 'mitid'],
    ] as const) {
      const browser = await signIn(provider, identity);
      const response = await browser.request(`${stack.api.url}/credentials`, {
        method: 'POST',
        headers: { origin: stack.api.url, accept: 'application/json' },
      });
      assert.equal(response.status, 200, `${provider}: ${await response.clone().text()}`);
      assert.match(((await response.json()) as { AccessKeyId: string }).AccessKeyId, /^ASIA/);
    }
  });
});

describe('sam local invoke -e events/session/signed-in.json --env-vars env.json', () => {
  // `npm run start:stand-ins`' layout with the default API origin (http://localhost:3000, the one
  // the sample is sealed for), which nothing here binds: only the stand-ins run, as with sam local.
  let standIns: StandIns;
  before(async () => {
    standIns = await startStandIns(ephemeralConfig(3000, { cognitoHost }));
  });
  after(() => standIns?.close());

  /** SessionFunction alone, from its bundle, with env.json's values, invoked with the sample file. */
  async function invokeSample(hosts: Record<string, string> | undefined) {
    const session = lambdaFunctions(standIns.template).find((fn) => fn.id === 'SessionFunction');
    assert.ok(session, 'the template has a SessionFunction');
    const runtime = await functionRuntime(session, {
      region: standIns.config.region,
      quiet: true,
      envVars: { Parameters: standIns.functionEnv },
      ...(hosts ? { hosts } : {}),
    });
    try {
      const event = JSON.parse(readFileSync(join(repoRoot, 'events', 'session', 'signed-in.json'), 'utf8'));
      return (await runtime.invoke(event)) as { statusCode: number; body: string; cookies?: string[] };
    } finally {
      await runtime.close();
    }
  }

  it('cannot confirm the session without the --add-host style mapping: cognito.localhost is unreachable', async (t) => {
    const resolved = await lookup(cognitoHost).then(
      () => true,
      () => false,
    );
    if (resolved) {
      t.skip('this machine resolves *.localhost itself (systemd-resolved): no mapping needed');
      return;
    }
    const grants = standIns.userPool.calls.token ?? 0;
    const result = await invokeSample(undefined);
    assert.ok(result.statusCode >= 500, `${result.statusCode} ${result.body}`);
    assert.doesNotMatch(result.body, /signedIn/);
    assert.equal(standIns.userPool.calls.token ?? 0, grants, 'the token endpoint was never reached');
  });

  it('answers signedIn: true: the stand-in user pool confirms the sample session by its refresh token', async () => {
    {
      const grants = standIns.userPool.calls.token ?? 0;
      const result = await invokeSample({ [cognitoHost]: '127.0.0.1' });
      assert.equal(result.statusCode, 200, result.body);
      assert.match(result.body, /^\{"signedIn":true,"provider":"IDmeSandbox"/);
      assert.equal(standIns.userPool.calls.token, grants + 1, 'confirmed by one refresh_token grant');
      assert.deepEqual(result.cookies ?? [], [], 'the session cookie is kept, not cleared');
    }
  });
});

describe('plain http only for loopback names', () => {
  it('accepts localhost, its subdomains and 127/8, and refuses everything else', () => {
    for (const host of [
      'localhost',
      'cognito.localhost',
      'a.b.localhost',
      '127.0.0.1',
      '127.1.2.3',
      '[::1]',
    ]) {
      assert.equal(isLoopback(host), true, host);
    }
    for (const host of [
      'localhost.evil.example',
      'cognito.localhost.evil.example',
      'evillocalhost',
      'example.com',
      '10.0.0.1',
      '172.17.0.1',
      '192.168.1.1',
      '',
    ]) {
      assert.equal(isLoopback(host), false, host);
    }
  });
});
