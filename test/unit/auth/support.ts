/**
 * Support for the sign-in tests: handlers built from a parsed environment, Set-Cookie parsing, and a
 * full sign-in against the fake user pool.
 */
import assert from 'node:assert/strict';
import * as callback from '../../../functions/callback/app.ts';
import { parseCallbackConfig } from '../../../functions/callback/config.ts';
import * as credentials from '../../../functions/credentials/app.ts';
import { parseCredentialsConfig } from '../../../functions/credentials/config.ts';
import * as login from '../../../functions/login/app.ts';
import { parseLoginConfig } from '../../../functions/login/config.ts';
import * as logout from '../../../functions/logout/app.ts';
import { parseLogoutConfig } from '../../../functions/logout/config.ts';
import * as session from '../../../functions/session/app.ts';
import { parseSessionFunctionConfig } from '../../../functions/session/config.ts';
import { deriveKeyring } from '../../../functions/shared/auth/cookies.ts';
import type { HttpResult } from '../../../functions/shared/http.ts';
import { createLogger } from '../../../functions/shared/log.ts';
import { apiEvent, lambdaContext } from '../../helpers/events.ts';
import { authEnv, type FakeUserPool, testCookieKeys, testFrontend } from '../../helpers/user-pool.ts';

/** Errors only, as the tests read the answers rather than the log. */
const quietLog = createLogger({ level: 'error' });

const functions = {
  login: { app: login, parse: parseLoginConfig },
  callback: { app: callback, parse: parseCallbackConfig },
  session: { app: session, parse: parseSessionFunctionConfig },
  logout: { app: logout, parse: parseLogoutConfig },
  credentials: { app: credentials, parse: parseCredentialsConfig },
} as const;

type Functions = typeof functions;
type DepsOf<K extends keyof Functions> = Omit<Parameters<Functions[K]['app']['createHandler']>[0], 'config'>;

/**
 * A function's configuration parsed from `env` (as its handler.ts parses process.env), and
 * `createHandler` bound to it: each call is a new "container". process.env is never touched.
 */
export function configured<K extends keyof Functions>(name: K, env: Record<string, string> = authEnv()) {
  const { app, parse } = functions[name];
  const config = parse(env) as Parameters<Functions[K]['app']['createHandler']>[0]['config'];
  return {
    config,
    createHandler: (deps: DepsOf<K> = {} as DepsOf<K>) =>
      (app.createHandler as (deps: object) => ReturnType<Functions[K]['app']['createHandler']>)({
        config,
        log: quietLog,
        ...deps,
      }),
  };
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
