/**
 * Fuzzing with fast-check: thousands of arbitrary requests into every HTTP handler, arbitrary and
 * mutated cookies into the cookie decoder, arbitrary return_to values into the redirect check, and
 * whatever the identity providers may send through the claim normalizers into the session cookie.
 * Never a crash, never a 500 for a client's mistake, never a redirect off the allow-list, never a
 * cookie a browser would drop. (The pre-token-generation trigger's own properties are in
 * test/unit/pre-token-generation/property.test.ts.)
 *
 * FUZZ_RUNS scales every property (default 2000).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CookieRejectedError,
  cookieValues,
  maxCookieBytes,
  openCookie,
  packCompactToken,
  unpackCompactToken,
} from '../../functions/shared/auth/cookies.ts';
import { readLoginState } from '../../functions/shared/auth/login.ts';
import { resolveReturnTo } from '../../functions/shared/auth/return-to.ts';
import { readSession, sealSession, startSession } from '../../functions/shared/auth/session.ts';
import { canonicalClaimsFor } from '../../functions/shared/claims/canonical.ts';
import { idmeAttributes } from '../../functions/shared/claims/idme.ts';
import { iduraAttributes } from '../../functions/shared/claims/idura.ts';
import { defaultProviderTable } from '../../functions/shared/claims/providers.ts';
import { BrokerError } from '../../functions/shared/errors.ts';
import type { HttpResult } from '../../functions/shared/http.ts';
import type { IdTokenClaims } from '../../functions/shared/oidc/verify.ts';
import { apiEvent, lambdaContext } from '../helpers/events.ts';
import { cognitoIdClaims, testIssuer } from '../helpers/tokens.ts';
import {
  authEnv,
  createFakeUserPool,
  type FakeUserPool,
  realisticRefreshToken,
  testFrontend,
  testPublicBaseUrl,
} from '../helpers/user-pool.ts';
import { configured, cookieValueOf, keyring, startSignIn } from '../unit/auth/support.ts';

const runs = Number(process.env.FUZZ_RUNS ?? 2000);
process.env.LOG_LEVEL = 'error';

type Handler = (event: unknown, context: unknown) => Promise<HttpResult>;

/** Identity pool answers for GetId and GetCredentialsForIdentity, without a network. */
const identityClient = {
  async send(command: { constructor: { name: string } }) {
    if (command.constructor.name === 'GetIdCommand') return { IdentityId: 'us-east-1:fuzz-identity' };
    return {
      IdentityId: 'us-east-1:fuzz-identity',
      Credentials: {
        AccessKeyId: 'ASIAFUZZ',
        SecretKey: 'fuzz-secret',
        SessionToken: 'fuzz-session',
        Expiration: new Date(Date.now() + 3_600_000),
      },
    };
  },
  destroy() {},
};

let pool: FakeUserPool;
const handlers: Record<'login' | 'callback' | 'session' | 'logout' | 'credentials', Handler> = {} as never;
/** Real artifacts the fuzzer mutates, so that it also reaches the code behind the first checks. */
const real = { sessionCookie: '', loginCookie: '', state: '', idToken: '', refreshToken: '' };

before(async () => {
  pool = await createFakeUserPool();
  const env = authEnv();
  const deps = { fetch: pool.fetch, identityClient: identityClient as never };
  handlers.login = configured('login', env).createHandler() as unknown as Handler;
  handlers.callback = configured('callback', env).createHandler(deps) as unknown as Handler;
  handlers.session = configured('session', env).createHandler({ fetch: pool.fetch }) as unknown as Handler;
  handlers.logout = configured('logout', env).createHandler({ fetch: pool.fetch }) as unknown as Handler;
  handlers.credentials = configured('credentials', env).createHandler(deps) as unknown as Handler;

  const login = (event: unknown) => handlers.login(event, lambdaContext);
  const started = await startSignIn(login, pool);
  const signedIn = await handlers.callback(
    apiEvent({
      path: '/auth/callback',
      rawQueryString: started.callbackQuery.toString(),
      cookies: [started.loginCookie],
    }),
    lambdaContext,
  );
  assert.equal(signedIn.statusCode, 302, signedIn.body);
  real.sessionCookie = cookieValueOf(
    (signedIn.cookies ?? []).find((c) => c.startsWith('__Host-broker-session=')) ?? '',
  );
  const again = await startSignIn(login, pool);
  real.loginCookie = cookieValueOf(again.loginSetCookie);
  real.state = again.callbackQuery.get('state') ?? '';
  real.idToken = await pool.issuer.sign({ aud: authEnv().USER_POOL_CLIENT_ID });
  real.refreshToken = await realisticRefreshToken();
});

// ---------------------------------------------------------------- arbitrary requests

/** A string that is sometimes one of the real artifacts, mutated or not. */
const mutated = (value: () => string) =>
  fc.oneof(
    fc.constant(null).map(() => value()),
    fc.tuple(fc.nat(), fc.string({ maxLength: 3 })).map(([at, insert]) => {
      const v = value();
      const i = at % (v.length + 1);
      return `${v.slice(0, i)}${insert}${v.slice(i + 1)}`;
    }),
    fc.nat().map((at) => value().slice(0, at % (value().length + 1))),
  );

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.stringMatching(/^[A-Za-z0-9_.~+/=-]{0,60}$/),
  fc.constantFrom('', ' ', 'null', 'undefined', '%', '%%', '%00', '\u0000', '\r\n', '"', '{}', '[]'),
);

const headerValue = fc.oneof(
  text,
  fc.constantFrom(testFrontend, testPublicBaseUrl, 'null', 'https://evil.example'),
  fc.constantFrom('same-origin', 'same-site', 'cross-site', 'none'),
  fc.constantFrom('text/html', 'application/json', 'application/json, text/html', '*/*'),
  text.map((t) => `Bearer ${t}`),
  mutated(() => real.idToken).map((t) => `Bearer ${t}`),
  fc.constant(null).map(() => `Bearer ${real.idToken}`),
  fc.constantFrom('Basic YTpi', 'Bearer', 'bearer  x', 'Bearer a b'),
);

const headers = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'authorization',
      'origin',
      'sec-fetch-site',
      'accept',
      'content-type',
      'cookie',
      'host',
      'x-forwarded-for',
    ),
    fc.string({ maxLength: 12 }).map((s) => s.toLowerCase()),
  ),
  headerValue,
  { maxKeys: 6 },
);

const cookieNames = ['__Host-broker-session', '__Secure-broker-login', 'broker-session', 'x'];
const cookie = fc.oneof(
  fc.constant(null).map(() => `__Host-broker-session=${real.sessionCookie}`),
  fc.constant(null).map(() => `__Secure-broker-login=${real.loginCookie}`),
  fc
    .tuple(
      fc.constantFrom(...cookieNames),
      mutated(() => real.sessionCookie),
    )
    .map(([n, v]) => `${n}=${v}`),
  fc
    .tuple(
      fc.constantFrom(...cookieNames),
      mutated(() => real.loginCookie),
    )
    .map(([n, v]) => `${n}=${v}`),
  fc.tuple(fc.constantFrom(...cookieNames), text).map(([n, v]) => `${n}=${v}`),
  text,
);

const queryParam = fc.tuple(
  fc.oneof(
    fc.constantFrom('provider', 'return_to', 'code', 'state', 'error', 'error_description'),
    fc.string({ maxLength: 8 }),
  ),
  fc.oneof(
    text,
    fc.constantFrom('IDmeSandbox', 'IduraTest', 'Google', '/app', '//evil.example', testFrontend),
    fc.constant(null).map(() => real.state),
    fc.constantFrom('access_denied', 'invalid_request', 'server_error'),
  ),
);

const rawQuery = fc.oneof(
  fc.array(queryParam, { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString()),
  fc.array(queryParam, { maxLength: 6 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&')),
  text,
);

const event = fc.record({
  method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'PUT'),
  headers,
  cookies: fc.option(fc.array(cookie, { maxLength: 4 }), { nil: undefined }),
  rawQueryString: rawQuery,
  body: fc.option(fc.oneof(text, fc.json({ maxDepth: 2 })), { nil: undefined }),
  isBase64Encoded: fc.boolean(),
});

interface FuzzedRequest {
  method: string;
  headers: Record<string, string>;
  cookies: string[] | undefined;
  rawQueryString: string;
  body: string | undefined;
  isBase64Encoded: boolean;
}

function toEvent(path: string, r: FuzzedRequest) {
  const base = apiEvent({
    method: r.method,
    path,
    headers: r.headers,
    rawQueryString: r.rawQueryString,
    ...(r.cookies ? { cookies: r.cookies } : {}),
    ...(r.body !== undefined ? { body: r.body } : {}),
  });
  return { ...base, isBase64Encoded: r.isBase64Encoded };
}

function checkAnswer(result: HttpResult, path: string, input: unknown): void {
  assert.equal(typeof result, 'object');
  assert.ok(Number.isInteger(result.statusCode), `${path}: no status`);
  assert.notEqual(result.statusCode, 500, `${path} answered 500 to ${JSON.stringify(input)}: ${result.body}`);
  assert.ok(result.statusCode >= 200 && result.statusCode < 600);
  for (const c of result.cookies ?? []) assert.ok(Buffer.byteLength(c) < maxCookieBytes);
  const type = result.headers['Content-Type'] ?? '';
  if (type.startsWith('application/json')) {
    const body = JSON.parse(result.body ?? 'null') as { error?: unknown; requestId?: unknown };
    if (result.statusCode >= 400) {
      assert.match(String(body.error), /^[a-z_]+$/, `${path}: a stable error code`);
      assert.equal(typeof body.requestId, 'string');
    }
  }
}

describe(`arbitrary requests into every handler (${runs} each)`, () => {
  const routes = [
    ['login', '/auth/login'],
    ['callback', '/auth/callback'],
    ['session', '/auth/session'],
    ['logout', '/auth/logout'],
    ['credentials', '/credentials'],
  ] as const;
  /** Answers that only requests past the first checks get. */
  const deeper: Record<(typeof routes)[number][0], string[]> = {
    login: ['302'],
    callback: ['400 state_mismatch', '400 state_reused'],
    session: ['200'],
    logout: ['200'],
    credentials: ['200', '401 session_invalid'],
  };
  for (const [name, path] of routes) {
    it(`${path}: never throws, never 500, and 4xx for everything a client controls`, async () => {
      const outcomes = new Set<string>();
      await fc.assert(
        fc.asyncProperty(event, async (e) => {
          const result = await handlers[name](toEvent(path, e), lambdaContext);
          checkAnswer(result, path, e);
          const code = /"error":"([a-z_]+)"|data-error="([a-z_]+)"/.exec(result.body ?? '');
          outcomes.add(`${result.statusCode} ${code?.[1] ?? code?.[2] ?? ''}`.trim());
          // The callback explains Cognito's own `error` redirects with their 5xx; nothing else may.
          const cognitoError = name === 'callback' && new URLSearchParams(e.rawQueryString).has('error');
          if (!cognitoError) {
            assert.ok(result.statusCode < 500, `${path}: ${result.statusCode} ${result.body}`);
          }
        }),
        { numRuns: runs },
      );
      // Not vacuous: the real artifacts carry requests past the first checks.
      if (process.env.FUZZ_REPORT) console.error(path, [...outcomes].sort());
      for (const expected of runs >= 1000 ? deeper[name] : []) {
        assert.ok(outcomes.has(expected), `${path} reached "${expected}" (saw ${[...outcomes].sort()})`);
      }
    });
  }

  it('survives events API Gateway never sends (no headers, null cookies, numbers)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(handlers)),
        fc.record({
          headers: fc.oneof(fc.constant(undefined), fc.constant({}), fc.dictionary(fc.string(), fc.string())),
          cookies: fc.oneof(fc.constant(undefined), fc.constant([]), fc.array(fc.string())),
          rawQueryString: fc.oneof(fc.constant(undefined), fc.string()),
          queryStringParameters: fc.oneof(fc.constant(undefined), fc.dictionary(fc.string(), fc.string())),
        }),
        async (name, overrides) => {
          const e = { ...apiEvent({ path: '/x' }), ...overrides };
          const result = await handlers[name as keyof typeof handlers](e, lambdaContext);
          checkAnswer(result, name, overrides);
        },
      ),
      { numRuns: Math.round(runs / 4) },
    );
  });
});

// ---------------------------------------------------------------- cookies

describe(`cookie decoding (${runs} each)`, () => {
  const now = Math.floor(Date.now() / 1000);
  const rejectsOnlyAsCookie = async (value: string) => {
    try {
      return await openCookie(value, 'session', keyring, now);
    } catch (error) {
      assert.ok(error instanceof CookieRejectedError, `unexpected ${String(error)}`);
      return undefined;
    }
  };

  it('refuses arbitrary values with a CookieRejectedError and nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc
            .array(fc.base64String({ maxLength: 60 }), { minLength: 1, maxLength: 6 })
            .map((p) => p.join('.')),
          fc
            .tuple(fc.json(), fc.base64String())
            .map(([h, rest]) => `${Buffer.from(h).toString('base64url')}..${rest}.${rest}.${rest}`),
        ),
        async (value) => assert.equal(await rejectsOnlyAsCookie(value), undefined),
      ),
      { numRuns: runs },
    );
  });

  it('opens a mutated session cookie only if the mutation changed no byte of the JWE', async () => {
    const original = await openCookie(real.sessionCookie, 'session', keyring, now);
    await fc.assert(
      fc.asyncProperty(
        mutated(() => real.sessionCookie),
        async (value) => {
          const opened = await rejectsOnlyAsCookie(value);
          // Changing only the unused low bits of a base64url part's last character decodes to the same bytes.
          if (opened !== undefined) assert.deepEqual(opened, original);
        },
      ),
      { numRuns: runs },
    );
  });

  it('reads sessions and login states from arbitrary cookie lists without throwing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(cookie, { maxLength: 5 }),
        fc.dictionary(fc.string(), fc.string()),
        async (cookies, h) => {
          const e = { cookies, headers: h };
          cookieValues(e, '__Host-broker-session');
          await readSession(e, keyring, { name: '__Host-broker-session', path: '/', secure: true }, now);
          await readLoginState(
            e,
            keyring,
            { name: '__Secure-broker-login', path: '/auth/callback', secure: true },
            now,
          ).catch((error: unknown) => {
            assert.ok(error instanceof BrokerError && error.statusCode === 400, String(error));
          });
        },
      ),
      { numRuns: runs },
    );
  });

  it('packs any compact token losslessly, and unpacks arbitrary bytes or refuses them', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.base64String({ maxLength: 80 }).map((s) => s.replace(/[+/=]/g, '')),
          { minLength: 1, maxLength: 6 },
        ),
        fc.uint8Array({ maxLength: 200 }),
        (parts, bytes) => {
          const token = parts.join('.');
          assert.equal(unpackCompactToken(packCompactToken(token)), token);
          try {
            assert.equal(typeof unpackCompactToken(bytes), 'string');
          } catch (error) {
            assert.ok(error instanceof CookieRejectedError);
          }
        },
      ),
      { numRuns: runs },
    );
  });
});

// ---------------------------------------------------------------- return_to

describe(`return_to validation (${runs * 2} values)`, () => {
  const self = new URL(testPublicBaseUrl).origin;
  const policy = { selfOrigin: self, allowedOrigins: [testFrontend] };
  const allowed = new Set([self, testFrontend]);

  const prefix = fc.constantFrom(
    '/',
    '//',
    '///',
    '\\',
    '/\\',
    '\\/',
    'https:',
    'https:/',
    'https://',
    'http://',
    'javascript:',
    'data:',
    '%2F',
    '%2F%2F',
    '/%2F',
    '%5C',
    '/%5C',
    '/\t/',
    '/%09/',
    '/\n/',
    ' ',
    '/..',
    '/./',
    '',
  );
  const host = fc.constantFrom(
    'evil.example',
    'app.example.com',
    'app.example.com.evil.example',
    'api.example.com',
    'app.example.com@evil.example',
    'evil.example\\@app.example.com',
    '[::1]',
    '127.0.0.1',
    'localhost',
    'evil。example',
  );
  const crafted = fc
    .tuple(prefix, host, fc.oneof(fc.constant(''), fc.string({ maxLength: 10 })))
    .map(([p, h, rest]) => `${p}${h}${rest}`);
  const encoded = fc.tuple(crafted, fc.boolean()).map(([v, twice]) => {
    const once = encodeURIComponent(v);
    return twice ? encodeURIComponent(once) : once;
  });

  it('returns only targets a browser resolves to this site or an allowed origin', () => {
    fc.assert(
      fc.property(
        fc.oneof(crafted, encoded, fc.string({ maxLength: 60 }), fc.webUrl(), fc.webPath()),
        (raw) => {
          let target: string;
          try {
            target = resolveReturnTo(raw, policy, '/');
          } catch (error) {
            assert.ok(error instanceof BrokerError, String(error));
            assert.deepEqual([error.statusCode, error.code], [400, 'invalid_return_to']);
            return;
          }
          // As a browser would read the Location header, relative to the broker.
          const resolved = new URL(target, self);
          assert.ok(allowed.has(resolved.origin), `${JSON.stringify(raw)} -> ${target} (${resolved.origin})`);
          // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is checked.
          assert.doesNotMatch(target, /[\u0000-\u001f\u007f\\]/);
          if (target.startsWith('/')) assert.ok(!target.startsWith('//'), target);
        },
      ),
      { numRuns: runs * 2 },
    );
  });
});

// ---------------------------------------------------------------- claims into the session cookie

describe(`claims from the identity providers into the session cookie (${runs})`, () => {
  const long = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ minLength: 200, maxLength: 2048 }),
    fc.string({ unit: 'grapheme', maxLength: 300 }),
  );
  const identities = (providerName: string) =>
    JSON.stringify([{ userId: 'u1', providerName, providerType: 'OIDC', issuer: null, primary: 'true' }]);
  const attributes = fc.oneof(
    fc
      .tuple(
        fc.constantFrom('IDme', 'IDmeSandbox'),
        fc.dictionary(fc.constantFrom(...Object.values(idmeAttributes)), long),
      )
      .map(([p, a]) => ({ ...a, identities: identities(p) })),
    fc
      .tuple(
        fc.constantFrom('Idura', 'IduraTest'),
        fc.dictionary(fc.constantFrom(...Object.values(iduraAttributes)), long),
      )
      .map(([p, a]) => ({ ...a, identities: identities(p) })),
  );
  const spec = { name: '__Host-broker-session', path: '/', secure: true };

  it('always fits the cookie (trimming claims if needed) and reads back exactly', async () => {
    const refreshToken = await realisticRefreshToken();
    const nowSeconds = Math.floor(Date.now() / 1000);
    await fc.assert(
      fc.asyncProperty(attributes, async (attrs) => {
        const outcome = canonicalClaimsFor(attrs, defaultProviderTable, { now: new Date() });
        assert.equal(outcome.decision, 'normalized');
        if (outcome.decision !== 'normalized') return;
        const claims = { ...cognitoIdClaims(testIssuer, nowSeconds), ...outcome.claims } as IdTokenClaims;
        const session = startSession({
          claims,
          refreshToken,
          provider: 'IDmeSandbox',
          identityId: 'us-east-1:0a1b2c3d-1111-2222-3333-444455556666',
          nowSeconds,
          maxAgeSeconds: 43_200,
        });
        const sealed = await sealSession(session, keyring, spec, nowSeconds);
        assert.ok(sealed.bytes <= 3584, `${sealed.bytes} bytes`);
        const value = sealed.setCookie.slice(
          sealed.setCookie.indexOf('=') + 1,
          sealed.setCookie.indexOf(';'),
        );
        const read = await readSession(
          { cookies: [`${spec.name}=${value}`], headers: {} },
          keyring,
          spec,
          nowSeconds,
        );
        assert.deepEqual(read.session, sealed.session);
      }),
      { numRuns: runs },
    );
  });
});
