/**
 * Failing upstreams against the offline stack, switched per test with the stand-ins' fault switches:
 * the user pool's token endpoint (5xx, hanging, slow) at the callback and behind a session, its JWKS
 * (down with keys cached, down with a cold cache), the identity pool (throttling, a missing pool,
 * hanging). Every failure must answer with the right status and code, leave no half-written session,
 * log what to fix, and reject no promise unhandled. Then the time budget: every outbound call has a
 * timeout below the function's Timeout, and the function's own deadline answers 504 rather than dying.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Context } from 'aws-lambda';
import { createSecretsManagerReader } from '../../functions/shared/auth/secrets.ts';
import { maxUpstreamTimeoutMs } from '../../functions/shared/config.ts';
import { BrokerError } from '../../functions/shared/errors.ts';
import { createGetSecretValue } from '../../functions/shared/secrets-manager.ts';
import { routesFromTemplate } from '../../local/api.ts';
import type { OfflineStack } from '../../local/stack.ts';
import { startEphemeralStack } from '../../local/stack.ts';
import { readTemplate, TemplateResolver } from '../../local/template.ts';
import { apiEvent } from '../helpers/events.ts';
import { captureLogs, type LogCapture } from '../helpers/log-capture.ts';
import { authEnv, createFakeUserPool } from '../helpers/user-pool.ts';
import { Browser } from '../helpers/web.ts';
import { healthyIdentityPool, identityClient } from '../unit/auth/identity-pool-mock.ts';
import { configured, invoker, signIn } from '../unit/auth/support.ts';

/** Short enough to keep the suite fast, long enough for a loaded CI machine to answer in time. */
const upstreamTimeoutMs = 800;

let stack: OfflineStack;
let logs: LogCapture;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  logs = captureLogs();
  stack = await startEphemeralStack({}, { functionEnv: { UPSTREAM_TIMEOUT_MS: String(upstreamTimeoutMs) } });
  await warm(stack);
});

after(async () => {
  await stack.close();
  logs.restore();
  // Give late rejections (aborted fetches, hanging stand-ins cut at close) a moment to surface.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, [], 'no promise was rejected without a handler');
});

async function browserSignIn(on: OfflineStack = stack, identity = 'veteran') {
  const browser = new Browser();
  const { response } = await browser.navigate(`${on.api.url}/auth/login?provider=IDmeSandbox&return_to=/`, {
    identity,
    stopAt: on.api.url,
  });
  return { browser, response };
}

async function signedIn(on: OfflineStack = stack, identity = 'veteran'): Promise<Browser> {
  const { browser } = await browserSignIn(on, identity);
  assert.ok(browser.cookies.has('broker-session'), 'signed in');
  return browser;
}

/**
 * Each function is a container of its own whose first request loads what the function loads lazily; on
 * a loaded machine that can outlast the 800 ms timeouts. A sign-in and a credentials request, repeated
 * until they succeed (at most three times), leave the login, callback and credentials containers warm.
 * With `keysCached: false` the credentials container is warmed without fetching the pool's keys (its
 * refresh grant is made to fail first).
 */
async function warm(on: OfflineStack, options: { keysCached?: boolean } = {}): Promise<Browser> {
  let last = '';
  for (let round = 0; round < 3; round++) {
    const { browser } = await browserSignIn(on);
    if (!browser.cookies.has('broker-session')) {
      last = 'sign-in';
      continue;
    }
    if (options.keysCached === false) on.userPool.setFault({ tokenEndpoint: 'status500' });
    const result = await credentials(browser, on);
    on.userPool.setFault();
    if (result.status === (options.keysCached === false ? 502 : 200)) return browser;
    last = `credentials ${result.status} ${result.error}`;
  }
  assert.fail(`the stack did not warm up: ${last}`);
}

async function credentials(browser: Browser, on: OfflineStack = stack) {
  const before = browser.cookies.get('broker-session')?.value;
  const response = await browser.request(`${on.api.url}/credentials`, {
    method: 'POST',
    headers: { origin: on.api.url, accept: 'application/json' },
  });
  const body = (await response.json()) as { error?: string; message?: string; AccessKeyId?: string };
  return {
    status: response.status,
    error: body.error,
    body,
    retryAfter: response.headers.get('retry-after'),
    setCookie: response.headers.getSetCookie(),
    cookieUnchanged: browser.cookies.get('broker-session')?.value === before,
  };
}

async function signedInState(browser: Browser, on: OfflineStack = stack): Promise<boolean> {
  const response = await browser.request(`${on.api.url}/auth/session`, {
    headers: { accept: 'application/json' },
  });
  return ((await response.json()) as { signedIn: boolean }).signedIn;
}

const errorOfPage = (html: string) => /data-error="([a-z_]+)"/.exec(html)?.[1];

describe('the token endpoint at the callback', () => {
  after(() => stack.userPool.setFault());

  it('answers 500: 502 upstream_error, no session, login state cleared', async () => {
    stack.userPool.setFault({ tokenEndpoint: 'status500' });
    const { browser, response } = await browserSignIn();
    assert.equal(response.status, 502);
    assert.equal(errorOfPage(await response.text()), 'upstream_error');
    assert.equal(browser.cookies.has('broker-session'), false, 'no session cookie');
    assert.equal(browser.cookies.has('broker-login'), false, 'the single-use login state is gone');
    stack.userPool.setFault();
    assert.equal(await signedInState(browser), false);
  });

  it('hangs: 504 upstream_timeout after UPSTREAM_TIMEOUT_MS, the code is not retried, no session', async () => {
    stack.userPool.setFault({ tokenEndpoint: 'hang' });
    const tokenCalls = stack.userPool.calls.token ?? 0;
    const started = Date.now();
    const { browser, response } = await browserSignIn();
    assert.equal(response.status, 504);
    assert.equal(errorOfPage(await response.text()), 'upstream_timeout');
    assert.equal((stack.userPool.calls.token ?? 0) - tokenCalls, 1, 'one exchange, never retried');
    assert.ok(Date.now() - started < 5_000);
    assert.equal(browser.cookies.has('broker-session'), false);
  });

  it('answers slowly but within the timeout: signed in', async () => {
    stack.userPool.setFault({ tokenEndpoint: { delayMs: upstreamTimeoutMs / 8 } });
    const { browser } = await browserSignIn();
    assert.equal(browser.cookies.has('broker-session'), true);
  });

  it('answers slower than the timeout: 504 upstream_timeout, no session', async () => {
    stack.userPool.setFault({ tokenEndpoint: { delayMs: upstreamTimeoutMs * 3 } });
    const { browser, response } = await browserSignIn();
    assert.equal(response.status, 504);
    assert.equal(browser.cookies.has('broker-session'), false);
  });
});

describe('the token endpoint behind a session (/credentials refresh)', () => {
  let browser: Browser;
  before(async () => {
    browser = await signedIn();
  });
  after(() => stack.userPool.setFault());

  it('answers 500: 502 upstream_error, the session cookie left as it was', async () => {
    stack.userPool.setFault({ tokenEndpoint: 'status500' });
    const result = await credentials(browser);
    assert.deepEqual([result.status, result.error], [502, 'upstream_error']);
    assert.deepEqual(result.setCookie, []);
    assert.equal(result.cookieUnchanged, true);
  });

  it('hangs: 504 upstream_timeout, the session cookie left as it was', async () => {
    stack.userPool.setFault({ tokenEndpoint: 'hang' });
    const result = await credentials(browser);
    assert.deepEqual([result.status, result.error], [504, 'upstream_timeout']);
    assert.deepEqual(result.setCookie, []);
  });

  it('answers slowly but within the timeout: 200', async () => {
    stack.userPool.setFault({ tokenEndpoint: { delayMs: upstreamTimeoutMs / 8 } });
    const result = await credentials(browser);
    assert.equal(result.status, 200, JSON.stringify(result.body));
  });

  it('recovers: the session survived the failures', async () => {
    stack.userPool.setFault();
    const result = await credentials(browser);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.match(result.body.AccessKeyId ?? '', /^ASIA/);
  });
});

describe('the JWKS endpoint down', () => {
  after(() => stack.userPool.setFault());

  it('keys already cached keep working (credentials and a new sign-in)', async () => {
    const browser = await signedIn();
    assert.equal((await credentials(browser)).status, 200, 'warms the credentials function');
    stack.userPool.setFault({ jwks: 'down' });
    const jwksCalls = stack.userPool.calls.jwks ?? 0;
    assert.equal((await credentials(browser)).status, 200);
    assert.equal((await browserSignIn()).browser.cookies.has('broker-session'), true);
    assert.equal(stack.userPool.calls.jwks ?? 0, jwksCalls, 'the JWKS was not asked again');
  });

  it('with a cold cache (down or hanging): 503 keys_unavailable, the session cookie left as it was', async () => {
    const cold = await startEphemeralStack(
      {},
      { functionEnv: { UPSTREAM_TIMEOUT_MS: String(upstreamTimeoutMs) } },
    );
    try {
      const browser = await warm(cold, { keysCached: false });
      cold.userPool.setFault({ jwks: 'down' });
      const result = await credentials(browser, cold);
      assert.deepEqual([result.status, result.error], [503, 'keys_unavailable']);
      assert.deepEqual(result.setCookie, []);
      cold.userPool.setFault({ jwks: 'hang' });
      const jwksCalls = cold.userPool.calls.jwks ?? 0;
      const started = Date.now();
      const hanging = await credentials(browser, cold);
      assert.deepEqual([hanging.status, hanging.error], [503, 'keys_unavailable']);
      assert.ok((cold.userPool.calls.jwks ?? 0) > jwksCalls, 'the keys were asked for again');
      assert.ok(Date.now() - started < 5_000, 'the JWKS request timed out');
      cold.userPool.setFault();
      assert.equal((await credentials(browser, cold)).status, 200, 'the failed fetch was not cached');
    } finally {
      await cold.close();
    }
  });
});

describe('the identity pool', () => {
  let browser: Browser;
  before(async () => {
    // A user with no cached credentials in this container: the cache would answer without the pool.
    browser = await signedIn(stack, 'ial2');
  });
  after(() => stack.identityPool.setFault());

  it('throttling: 429 throttled with Retry-After, the session cookie left as it was', async () => {
    stack.identityPool.setFault({ error: 'TooManyRequestsException' });
    const result = await credentials(browser);
    assert.deepEqual([result.status, result.error], [429, 'throttled']);
    assert.match(result.retryAfter ?? '', /^\d+$/);
    assert.deepEqual(result.setCookie, []);
  });

  it('ResourceNotFoundException: 500, and the log line names the setting to fix', async () => {
    stack.identityPool.setFault({ error: 'ResourceNotFoundException' });
    logs.clear();
    const result = await credentials(browser);
    assert.deepEqual([result.status, result.error], [500, 'internal_error']);
    assert.doesNotMatch(JSON.stringify(result.body), /IDENTITY_POOL_ID/, 'operators’ hints stay in the log');
    const line = logs.lines.find((l) => l.level === 'ERROR' && /IDENTITY_POOL_ID/.test(String(l.hint)));
    assert.ok(line, `a log line names IDENTITY_POOL_ID: ${JSON.stringify(logs.lines)}`);
    assert.match(String(line.hint), /AWS_REGION/);
  });

  it('hanging: 504 upstream_timeout', async () => {
    stack.identityPool.setFault({ hang: true });
    const started = Date.now();
    const result = await credentials(browser);
    assert.deepEqual([result.status, result.error], [504, 'upstream_timeout']);
    assert.ok(Date.now() - started < 5_000);
  });

  it('throttling at sign-in is not fatal: the session is set, the identity id comes later', async () => {
    stack.identityPool.setFault({ error: 'TooManyRequestsException', operation: 'GetId' });
    const fresh = await signedIn();
    stack.identityPool.setFault();
    const result = await credentials(fresh);
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.setCookie.length, 1, 'the cookie now records the identity id');
  });
});

describe('the time budget', () => {
  it('every HTTP function’s UPSTREAM_TIMEOUT_MS is below its Timeout, and the configuration caps it', () => {
    const resolver = new TemplateResolver(readTemplate(), {
      parameters: {
        HostedUiDomainPrefix: 'x',
        IdmeClientId: 'x',
        IduraDomain: 'x.example',
        IduraClientId: 'x',
      },
    });
    const routes = routesFromTemplate(resolver);
    assert.ok(routes.length >= 5);
    for (const route of routes) {
      const timeout = Number(route.environment.UPSTREAM_TIMEOUT_MS);
      assert.ok(Number.isInteger(timeout), `${route.functionId} declares UPSTREAM_TIMEOUT_MS`);
      assert.ok(timeout <= maxUpstreamTimeoutMs, `${route.functionId}: ${timeout} ms`);
      assert.ok(maxUpstreamTimeoutMs < route.timeoutSeconds * 1000, `${route.functionId} Timeout`);
    }
  });

  it('Secrets Manager reads time out too (503 secrets_unavailable), instead of spending the Timeout', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const hanging: Server = createServer(() => {});
    hanging.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const read = createSecretsManagerReader({
        getSecretValue: createGetSecretValue({
          region: 'us-east-1',
          endpoint: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
          timeoutMs: 200,
          credentials: async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' }),
        }),
      });
      const started = Date.now();
      await assert.rejects(read('broker/cookie-keys'), (error: unknown) => {
        assert.ok(error instanceof BrokerError);
        assert.deepEqual([error.statusCode, error.code], [503, 'secrets_unavailable']);
        return true;
      });
      assert.ok(Date.now() - started < 3_000, `gave up after ${Date.now() - started} ms`);
    } finally {
      for (const socket of sockets) socket.destroy();
      hanging.close();
    }
  });

  it('calls that together outlast the function answer 504 upstream_timeout at its deadline', async () => {
    // Each call is within UPSTREAM_TIMEOUT_MS, but the function has less time left than that.
    const pool = await createFakeUserPool();
    healthyIdentityPool();
    const env = authEnv({ UPSTREAM_TIMEOUT_MS: '2000' });
    const login = invoker(configured('login', env).createHandler());
    const callback = invoker(
      configured('callback', env).createHandler({ fetch: pool.fetch, identityClient }),
    );
    const handler = configured('credentials', env).createHandler({ fetch: pool.fetch });
    const { sessionCookie } = await signIn(login, callback, pool);
    pool.setFault('hang');
    logs.clear();
    const deadline = Date.now() + 300;
    const context = {
      awsRequestId: 'deadline-test',
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    } as unknown as Context;
    const result = (await handler(
      apiEvent({ method: 'POST', cookies: [sessionCookie], headers: { origin: 'https://app.example.com' } }),
      context,
    )) as { statusCode: number; body: string; cookies?: string[] };
    assert.equal(result.statusCode, 504);
    assert.equal((JSON.parse(result.body) as { error: string }).error, 'upstream_timeout');
    assert.equal(result.cookies, undefined, 'no cookie written');
    assert.ok(
      logs.lines.some((l) => /Timeout/.test(String(l.hint))),
      'the log says which budget ran out',
    );
    assert.ok(Date.now() < deadline + 200, 'answered at the deadline, not after the call timed out');
  });
});
