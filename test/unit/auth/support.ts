/**
 * Support for the sign-in tests: handler modules loaded fresh with a given environment (they read
 * process.env at module scope), Set-Cookie parsing, and a full sign-in against the fake user pool.
 */
import assert from 'node:assert/strict';
import { deriveKeyring } from '../../../functions/shared/auth/cookies.ts';
import type { HttpResult } from '../../../functions/shared/http.ts';
import { apiEvent, lambdaContext } from '../../helpers/events.ts';
import { authEnv, type FakeUserPool, testCookieKeys, testFrontend } from '../../helpers/user-pool.ts';

export type LoginModule = typeof import('../../../functions/login/handler.ts');
export type CallbackModule = typeof import('../../../functions/callback/handler.ts');
export type SessionModule = typeof import('../../../functions/session/handler.ts');
export type LogoutModule = typeof import('../../../functions/logout/handler.ts');
export type CredentialsModule = typeof import('../../../functions/credentials/handler.ts');

const paths = {
  login: '../../../functions/login/handler.ts',
  callback: '../../../functions/callback/handler.ts',
  session: '../../../functions/session/handler.ts',
  logout: '../../../functions/logout/handler.ts',
  credentials: '../../../functions/credentials/handler.ts',
} as const;

/** Variables a test may set; cleared before each load so one test's settings never leak into the next. */
const managed = [
  ...Object.keys(authEnv()),
  'CLIENT_SECRET_ID',
  'COOKIE_KEYS_SECRET_ID',
  'OAUTH_SCOPES',
  'SESSION_MAX_AGE_SECONDS',
  'UPSTREAM_TIMEOUT_MS',
  'CLOCK_SKEW_SECONDS',
  'AWS_LAMBDA_FUNCTION_NAME',
  'COGNITO_IDENTITY_ENDPOINT',
];

let generation = 0;
process.env.LOG_LEVEL ??= 'error';

/** Imports a handler module as a new "container" with exactly `env` set. */
export async function load<K extends keyof typeof paths>(
  name: K,
  env: Record<string, string> = authEnv(),
): Promise<
  K extends 'login'
    ? LoginModule
    : K extends 'callback'
      ? CallbackModule
      : K extends 'session'
        ? SessionModule
        : K extends 'logout'
          ? LogoutModule
          : CredentialsModule
> {
  for (const key of managed) delete process.env[key];
  Object.assign(process.env, env);
  // Not `?container=`: local/api.ts names its modules that way, and a test that also runs the offline
  // stack would be handed the stack's module (same URL, same module cache entry).
  return import(`${new URL(paths[name], import.meta.url).href}?unit-container=${++generation}`);
}

export const keyring = deriveKeyring({
  current: testCookieKeys.current,
  secrets: { k1: testCookieKeys.k1, k2: testCookieKeys.k2 },
});

/** `name=value` of a Set-Cookie line. */
export function pairOf(setCookie: string): string {
  return setCookie.split(';')[0] as string;
}

export function cookieValueOf(setCookie: string): string {
  const pair = pairOf(setCookie);
  return pair.slice(pair.indexOf('=') + 1);
}

/** The attributes of a Set-Cookie line, lower-cased names. */
export function attributesOf(setCookie: string): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const part of setCookie.split(';').slice(1)) {
    const [k, v] = part.trim().split('=');
    out[(k as string).toLowerCase()] = v === undefined ? true : v;
  }
  return out;
}

/** The Set-Cookie line for `name` in a result, if any. */
export function setCookieFor(result: HttpResult, name: string): string | undefined {
  return (result.cookies ?? []).find((c) => c.startsWith(`${name}=`));
}

export type Invoke = (event: ReturnType<typeof apiEvent>) => Promise<HttpResult>;

export function invoker(handler: (event: never, context: never) => Promise<unknown>): Invoke {
  return (event) => handler(event as never, lambdaContext as never) as Promise<HttpResult>;
}

export interface SignedIn {
  /** `name=value` of the session cookie, ready for `cookies`. */
  sessionCookie: string;
  sessionSetCookie: string;
  callback: HttpResult;
}

/** /auth/login, the fake pool's authorize step, then /auth/callback. */
export async function startSignIn(
  login: Invoke,
  pool: FakeUserPool,
  options: { provider?: string; returnTo?: string; nonce?: string | null } = {},
) {
  const started = await login(
    apiEvent({
      path: '/auth/login',
      query: {
        provider: options.provider ?? 'IDmeSandbox',
        ...(options.returnTo ? { return_to: options.returnTo } : {}),
      },
    }),
  );
  assert.equal(started.statusCode, 302, started.body);
  const loginSetCookie = (started.cookies ?? [])[0] as string;
  const location = started.headers.Location as string;
  const callbackQuery = pool.authorize(location, options.nonce === undefined ? {} : { nonce: options.nonce });
  return { started, location, loginSetCookie, loginCookie: pairOf(loginSetCookie), callbackQuery };
}

export function callbackEvent(
  query: URLSearchParams | string,
  cookies: string[],
  headers: Record<string, string> = {},
) {
  return apiEvent({
    path: '/auth/callback',
    rawQueryString: String(query),
    query: Object.fromEntries(new URLSearchParams(String(query))),
    cookies,
    headers,
  });
}

export async function signIn(login: Invoke, callback: Invoke, pool: FakeUserPool): Promise<SignedIn> {
  const { loginCookie, callbackQuery } = await startSignIn(login, pool);
  const result = await callback(callbackEvent(callbackQuery, [loginCookie]));
  assert.equal(result.statusCode, 302, result.body);
  const sessionSetCookie = (result.cookies ?? []).find((c) => /broker-session=[^;]/.test(c)) as string;
  assert.ok(sessionSetCookie, 'the callback sets a session cookie');
  return { sessionCookie: pairOf(sessionSetCookie), sessionSetCookie, callback: result };
}

export const fromFrontend = { origin: testFrontend };
