/**
 * The first request each function serves in a cold-start run: its main success path, with the
 * cookies and tokens a browser would bring, built with the broker's own session and login code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  cookieSpecs,
  deriveKeyring,
  type IdTokenClaims,
  parseCallbackConfig,
  parseLoginConfig,
  sealSession,
  startLogin,
  startSession,
} from '#broker';
import { repoRoot } from '../../local/api.ts';
import { apiEvent } from '../../local/fixtures.ts';
import { benchCookieKeys, benchFrontend, deployedEnv, functionEnv, type Upstreams } from './upstreams.ts';

export interface FirstRequest {
  /** A name for the table, e.g. `CredentialsFunction (bearer)`. */
  label: string;
  functionId: string;
  event: unknown;
  /** What a successful answer looks like (checked, so a failing path is never timed as a success). */
  expect: { statusCode?: number; bodyIncludes?: string };
  env: Record<string, string>;
}

export const keyring = deriveKeyring({
  current: benchCookieKeys.current,
  secrets: { k1: benchCookieKeys.k1 },
});

function claimsOf(token: string): IdTokenClaims {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as IdTokenClaims;
}

/** A sealed session cookie as /auth/callback sets it, with a realistic Cognito refresh token. */
async function sessionCookie(upstreams: Upstreams): Promise<{ pair: string; setCookie: string }> {
  const config = parseCallbackConfig(functionEnv(upstreams));
  const claims = claimsOf(await upstreams.signer.idToken());
  const nowSeconds = Math.floor(Date.now() / 1000);
  const session = startSession({
    claims,
    refreshToken: upstreams.refreshToken,
    provider: 'IDmeSandbox',
    identityId: 'us-east-1:1f3c2b8e-7d9a-4c1e-9a3b-5e6f7a8b9c0d',
    nowSeconds,
    maxAgeSeconds: config.sessionMaxAgeSeconds,
  });
  const sealed = await sealSession(session, keyring, cookieSpecs(config).session, nowSeconds);
  return { pair: sealed.setCookie.split(';')[0] ?? '', setCookie: sealed.setCookie };
}

/** The first request of every function in template.yaml (two for /credentials: bearer and session). */
export async function firstRequests(upstreams: Upstreams): Promise<FirstRequest[]> {
  // As deployed: secrets come from (local) Secrets Manager on the first request that needs one.
  const env = deployedEnv(upstreams);
  const cookie = await sessionCookie(upstreams);
  const browser = { origin: benchFrontend, 'sec-fetch-site': 'same-site', accept: 'application/json' };
  const config = parseLoginConfig(functionEnv(upstreams));
  const login = await startLogin(
    { provider: 'IDmeSandbox', returnTo: undefined },
    { config, keyring, nowSeconds: Math.floor(Date.now() / 1000) },
  );
  const code = Buffer.from(login.state.nonce).toString('base64url');
  const trigger = JSON.parse(
    readFileSync(join(repoRoot, 'events/pre-token-generation/idme-veteran.json'), 'utf8'),
  ) as unknown;
  const event = (e: APIGatewayProxyEventV2) => e;
  return [
    {
      label: 'CredentialsFunction (bearer)',
      functionId: 'CredentialsFunction',
      event: event(apiEvent({ headers: { authorization: `Bearer ${await upstreams.signer.idToken()}` } })),
      expect: { statusCode: 200, bodyIncludes: 'AccessKeyId' },
      env,
    },
    {
      label: 'CredentialsFunction (session)',
      functionId: 'CredentialsFunction',
      event: event(apiEvent({ headers: browser, cookies: [cookie.pair] })),
      expect: { statusCode: 200, bodyIncludes: 'AccessKeyId' },
      env,
    },
    {
      label: 'LoginFunction',
      functionId: 'LoginFunction',
      event: event(apiEvent({ path: '/auth/login', query: { provider: 'IDmeSandbox' } })),
      expect: { statusCode: 302 },
      env,
    },
    {
      label: 'CallbackFunction',
      functionId: 'CallbackFunction',
      event: event(
        apiEvent({
          path: '/auth/callback',
          query: { code, state: login.state.state },
          cookies: [login.setCookie.split(';')[0] ?? ''],
        }),
      ),
      expect: { statusCode: 302 },
      env,
    },
    {
      label: 'SessionFunction',
      functionId: 'SessionFunction',
      event: event(apiEvent({ path: '/auth/session', headers: browser, cookies: [cookie.pair] })),
      expect: { statusCode: 200, bodyIncludes: '"signedIn":true' },
      env,
    },
    {
      label: 'LogoutFunction',
      functionId: 'LogoutFunction',
      event: event(
        apiEvent({ method: 'POST', path: '/auth/logout', headers: browser, cookies: [cookie.pair] }),
      ),
      expect: { statusCode: 200, bodyIncludes: '"revoked":true' },
      env,
    },
    {
      label: 'PreTokenGenerationFunction',
      functionId: 'PreTokenGenerationFunction',
      event: trigger,
      expect: { bodyIncludes: 'claimsAndScopeOverrideDetails' },
      env: { LOG_LEVEL: 'info' },
    },
  ];
}
