/**
 * The broker client against a scripted `fetch`: caching until the margin on an injected clock, one
 * request for concurrent callers, throttling retried after its Retry-After (injected sleep), and
 * the typed error for each of the broker's codes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BrokerError,
  brokerCredentials,
  createBrokerClient,
  OriginNotAllowedError,
  SignInRequiredError,
  ThrottledError,
  TokenRejectedError,
  UpstreamError,
} from '../../../client/index.ts';

const base = 'https://broker.example.com';
const start = Date.parse('2026-12-01T12:00:00.000Z');

interface Call {
  readonly url: string;
  readonly init: RequestInit | undefined;
}

type Answer = Response | (() => Response | Promise<Response>);

/** A fetch that answers from a queue and records each call. */
function scripted(...answers: Answer[]) {
  const calls: Call[] = [];
  const fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init });
    const next = answers.shift();
    assert.ok(next, `unexpected request ${String(input)}`);
    return typeof next === 'function' ? next() : next;
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

let issued = 0;
function credentialsAnswer(expiresAt: number): Response {
  issued += 1;
  return Response.json({
    AccessKeyId: `ASIA${issued}`,
    SecretAccessKey: `secret-${issued}`,
    Token: `token-${issued}`,
    Expiration: new Date(expiresAt).toISOString(),
    IdentityId: 'us-east-1:0000aaaa-0000-4000-8000-000000000001',
  });
}

function errorAnswer(status: number, error: string, headers: Record<string, string> = {}): Response {
  return Response.json({ error, message: `${error} happened`, requestId: 'req-1' }, { status, headers });
}

describe('credential provider', () => {
  it('returns what the AWS SDK reads (accessKeyId, secretAccessKey, sessionToken, expiration as a Date)', async () => {
    const { fetch, calls } = scripted(credentialsAnswer(start + 3_600_000));
    const credentials = await brokerCredentials({ baseUrl: `${base}/`, fetch, now: () => start })();
    assert.match(credentials.accessKeyId, /^ASIA/);
    assert.match(credentials.secretAccessKey, /^secret-/);
    assert.match(credentials.sessionToken, /^token-/);
    assert.equal(credentials.expiration.getTime(), start + 3_600_000);
    assert.equal(credentials.identityId, 'us-east-1:0000aaaa-0000-4000-8000-000000000001');
    assert.equal(calls[0]?.url, `${base}/credentials`);
    assert.equal(calls[0]?.init?.method, 'POST');
  });

  it('sends the session cookie (credentials: include) and no Authorization header without idToken', async () => {
    const { fetch, calls } = scripted(credentialsAnswer(start + 3_600_000));
    await brokerCredentials({ baseUrl: base, fetch, now: () => start })();
    assert.equal(calls[0]?.init?.credentials, 'include');
    assert.equal(new Headers(calls[0]?.init?.headers).has('authorization'), false);
  });

  it('sends a fresh bearer token from idToken on every request, and no cookies', async () => {
    let n = 0;
    const { fetch, calls } = scripted(
      credentialsAnswer(start + 3_600_000),
      credentialsAnswer(start + 3_600_000),
    );
    const provider = brokerCredentials({
      baseUrl: base,
      fetch,
      now: () => start,
      idToken: async () => `t${++n}`,
    });
    await provider();
    await provider({ forceRefresh: true });
    assert.deepEqual(
      calls.map((c) => new Headers(c.init?.headers).get('authorization')),
      ['Bearer t1', 'Bearer t2'],
    );
    assert.equal(calls[0]?.init?.credentials, 'omit');
  });

  it('shares one request among 10 concurrent callers', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { fetch, calls } = scripted(async () => {
      await gate;
      return credentialsAnswer(start + 3_600_000);
    });
    const provider = brokerCredentials({ baseUrl: base, fetch, now: () => start });
    const all = Promise.all(Array.from({ length: 10 }, () => provider()));
    release();
    const results = await all;
    assert.equal(calls.length, 1);
    assert.equal(new Set(results.map((c) => c.accessKeyId)).size, 1);
  });

  it('reuses credentials until the margin before Expiration, then asks once more', async () => {
    let now = start;
    const expiresAt = start + 3_600_000;
    const { fetch, calls } = scripted(credentialsAnswer(expiresAt), credentialsAnswer(expiresAt + 3_600_000));
    const provider = brokerCredentials({ baseUrl: base, fetch, now: () => now, refreshMarginMs: 300_000 });
    const first = await provider();
    now = expiresAt - 300_001; // one millisecond before the margin: still cached
    assert.equal((await provider()).accessKeyId, first.accessKeyId);
    assert.equal(calls.length, 1);
    now = expiresAt - 300_000; // at the margin: refreshed
    const second = await provider();
    assert.notEqual(second.accessKeyId, first.accessKeyId);
    assert.equal(calls.length, 2);
    assert.equal((await provider()).accessKeyId, second.accessKeyId);
    assert.equal(calls.length, 2);
  });

  it('defaults to the AWS SDK’s five-minute window', async () => {
    let now = start;
    const expiresAt = start + 3_600_000;
    const { fetch, calls } = scripted(credentialsAnswer(expiresAt), credentialsAnswer(expiresAt));
    const provider = brokerCredentials({ baseUrl: base, fetch, now: () => now });
    await provider();
    now = expiresAt - 5 * 60_000 - 1; // one millisecond before the window: still cached
    await provider();
    assert.equal(calls.length, 1);
    now = expiresAt - 5 * 60_000 + 1;
    await provider();
    assert.equal(calls.length, 2);
  });

  it('asks again when the SDK passes forceRefresh', async () => {
    const { fetch, calls } = scripted(
      credentialsAnswer(start + 3_600_000),
      credentialsAnswer(start + 3_600_000),
    );
    const provider = brokerCredentials({ baseUrl: base, fetch, now: () => start });
    await provider();
    await provider({ forceRefresh: true });
    assert.equal(calls.length, 2);
  });

  it('does not cache a failure: the next call asks again', async () => {
    const { fetch, calls } = scripted(
      errorAnswer(502, 'upstream_error'),
      credentialsAnswer(start + 3_600_000),
    );
    const provider = brokerCredentials({ baseUrl: base, fetch, now: () => start });
    await assert.rejects(provider(), UpstreamError);
    await provider();
    assert.equal(calls.length, 2);
  });

  it('retries throttled after the Retry-After it was given, then succeeds', async () => {
    const waits: number[] = [];
    const { fetch, calls } = scripted(
      errorAnswer(429, 'throttled', { 'retry-after': '2' }),
      errorAnswer(429, 'limit_exceeded', { 'retry-after': '3' }),
      credentialsAnswer(start + 3_600_000),
    );
    const provider = brokerCredentials({
      baseUrl: base,
      fetch,
      now: () => start,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await provider();
    assert.deepEqual(waits, [2000, 3000]);
    assert.equal(calls.length, 3);
  });

  it('reads an HTTP-date Retry-After against the injected clock', async () => {
    const waits: number[] = [];
    const { fetch } = scripted(
      errorAnswer(429, 'throttled', { 'retry-after': new Date(start + 4000).toUTCString() }),
      credentialsAnswer(start + 3_600_000),
    );
    await brokerCredentials({
      baseUrl: base,
      fetch,
      now: () => start,
      sleep: async (ms) => {
        waits.push(ms);
      },
    })();
    assert.deepEqual(waits, [4000]);
  });

  it('throws ThrottledError with the last Retry-After once the retries run out', async () => {
    const waits: number[] = [];
    const { fetch, calls } = scripted(
      errorAnswer(429, 'throttled', { 'retry-after': '1' }),
      errorAnswer(429, 'throttled', { 'retry-after': '1' }),
      errorAnswer(429, 'throttled', { 'retry-after': '5' }),
    );
    const provider = brokerCredentials({
      baseUrl: base,
      fetch,
      now: () => start,
      maxRetries: 2,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    const error = await provider().then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof ThrottledError);
    assert.equal(error.code, 'throttled');
    assert.equal(error.retryAfterMs, 5000);
    assert.deepEqual(waits, [1000, 1000]);
    assert.equal(calls.length, 3);
  });

  it('does not wait for a Retry-After beyond maxRetryAfterMs', async () => {
    const waits: number[] = [];
    const { fetch, calls } = scripted(errorAnswer(429, 'throttled', { 'retry-after': '120' }));
    const provider = brokerCredentials({
      baseUrl: base,
      fetch,
      now: () => start,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await assert.rejects(provider(), ThrottledError);
    assert.deepEqual(waits, []);
    assert.equal(calls.length, 1);
  });
});

describe('typed errors', () => {
  const cases: Array<[number, string, new (...args: never[]) => BrokerError, Record<string, string>?]> = [
    [401, 'session_expired', SignInRequiredError],
    [401, 'session_revoked', SignInRequiredError],
    [401, 'session_invalid', SignInRequiredError],
    [401, 'unauthenticated', SignInRequiredError, { 'www-authenticate': 'Bearer' }],
    [403, 'origin_not_allowed', OriginNotAllowedError],
    [403, 'cross_site_request', OriginNotAllowedError],
    // With the cookie, a rejected (refreshed) token ends the session: sign in again.
    [401, 'session_mismatch', SignInRequiredError, { 'www-authenticate': 'Bearer error="invalid_token"' }],
    [401, 'token_expired', SignInRequiredError, { 'www-authenticate': 'Bearer error="invalid_token"' }],
    [502, 'upstream_error', UpstreamError],
    [503, 'upstream_unavailable', UpstreamError],
    [503, 'keys_unavailable', UpstreamError],
    [504, 'upstream_timeout', UpstreamError],
    [409, 'identity_conflict', BrokerError],
    [500, 'internal_error', BrokerError],
  ];
  for (const [status, code, type, headers] of cases) {
    it(`${status} ${code} → ${type.name}`, async () => {
      const { fetch } = scripted(errorAnswer(status, code, headers));
      const error = await brokerCredentials({ baseUrl: base, fetch, now: () => start })().then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof type, `${String(error)} is a ${type.name}`);
      assert.equal(error.constructor, type);
      assert.equal((error as BrokerError).code, code);
      assert.equal((error as BrokerError).status, status);
      assert.equal((error as BrokerError).requestId, 'req-1');
      assert.equal((error as BrokerError).message, `${code} happened`);
    });
  }

  const bearerCases: Array<[string, new (...args: never[]) => BrokerError]> = [
    ['token_expired', TokenRejectedError],
    ['wrong_audience', TokenRejectedError],
  ];
  for (const [code, type] of bearerCases) {
    it(`with idToken: 401 ${code} (Bearer error="invalid_token") → ${type.name}`, async () => {
      const { fetch } = scripted(
        errorAnswer(401, code, { 'www-authenticate': 'Bearer error="invalid_token"' }),
      );
      const provider = brokerCredentials({
        baseUrl: base,
        fetch,
        now: () => start,
        idToken: async () => 'id',
      });
      const error = await provider().then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
      assert.equal((error as BrokerError).constructor, type);
      assert.equal((error as BrokerError).code, code);
    });
  }

  it('SignInRequiredError carries the login URL for the provider of the last session', async () => {
    const { fetch } = scripted(
      Response.json({
        signedIn: true,
        provider: 'IDmeSandbox',
        identityId: null,
        claims: {},
        signedInAt: '',
        expiresAt: '',
      }),
      errorAnswer(401, 'session_revoked'),
    );
    const broker = createBrokerClient({ baseUrl: base, fetch, now: () => start });
    await broker.session();
    const error = await broker.credentials().then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SignInRequiredError);
    assert.equal(error.loginUrl, `${base}/auth/login?provider=IDmeSandbox&return_to=%2F`);
    assert.equal(
      error.signInUrl('IduraTest', '/account'),
      `${base}/auth/login?provider=IduraTest&return_to=%2Faccount`,
    );
  });

  it('an answer that is not the broker’s JSON is classified by its status', async () => {
    const { fetch } = scripted(new Response('<html>Service Unavailable</html>', { status: 503 }));
    const error = await brokerCredentials({ baseUrl: base, fetch, now: () => start })().then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof UpstreamError);
    assert.equal(error.code, 'http_503');
  });

  it('an unreachable broker is a BrokerError with status 0 and the cause kept', async () => {
    const cause = new TypeError('fetch failed');
    const fetch = (async () => {
      throw cause;
    }) as typeof globalThis.fetch;
    const error = await brokerCredentials({ baseUrl: base, fetch, now: () => start })().then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BrokerError);
    assert.equal(error.status, 0);
    assert.equal(error.cause, cause);
  });

  it('a 200 without the credential fields is refused rather than handed to the SDK', async () => {
    const { fetch } = scripted(Response.json({ AccessKeyId: 'ASIA1' }));
    await assert.rejects(brokerCredentials({ baseUrl: base, fetch, now: () => start })(), {
      code: 'invalid_response',
    });
  });
});

describe('session helpers', () => {
  it('signInUrl names the provider and return_to, encoded', () => {
    const broker = createBrokerClient({ baseUrl: base, fetch: scripted().fetch });
    assert.equal(
      broker.signInUrl('IduraTest', '/app?tab=1'),
      `${base}/auth/login?provider=IduraTest&return_to=%2Fapp%3Ftab%3D1`,
    );
  });

  it('session() reads /auth/session with the cookie', async () => {
    const { fetch, calls } = scripted(Response.json({ signedIn: false }));
    const session = await createBrokerClient({ baseUrl: base, fetch }).session();
    assert.deepEqual(session, { signedIn: false });
    assert.equal(calls[0]?.url, `${base}/auth/session`);
    assert.equal(calls[0]?.init?.method, 'GET');
    assert.equal(calls[0]?.init?.credentials, 'include');
  });

  it('signOut() posts /auth/logout, returns the logout URL and forgets cached credentials', async () => {
    const { fetch, calls } = scripted(
      credentialsAnswer(start + 3_600_000),
      Response.json({ signedOut: true, revoked: true, logoutUrl: 'https://auth.example.com/logout?x=1' }),
      credentialsAnswer(start + 3_600_000),
    );
    const broker = createBrokerClient({ baseUrl: base, fetch, now: () => start });
    const before = await broker.credentials();
    assert.equal(await broker.signOut(), 'https://auth.example.com/logout?x=1');
    assert.equal(calls[1]?.url, `${base}/auth/logout`);
    assert.equal(calls[1]?.init?.method, 'POST');
    assert.equal(new Headers(calls[1]?.init?.headers).get('accept'), 'application/json');
    const after = await broker.credentials();
    assert.notEqual(after.accessKeyId, before.accessKeyId);
    assert.equal(calls.length, 3);
  });

  it('credentials in flight during signOut do not refill the cache', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { fetch, calls } = scripted(
      async () => {
        await gate;
        return credentialsAnswer(start + 3_600_000);
      },
      Response.json({ logoutUrl: 'https://auth.example.com/logout' }),
      credentialsAnswer(start + 3_600_000),
    );
    const broker = createBrokerClient({ baseUrl: base, fetch, now: () => start });
    const pending = broker.credentials();
    await broker.signOut();
    release();
    const old = await pending;
    const next = await broker.credentials();
    assert.notEqual(next.accessKeyId, old.accessKeyId);
    assert.equal(calls.length, 3);
  });
});
