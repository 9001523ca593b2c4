/**
 * The sample events in events/{login,callback,session,logout,credentials} are HTTP API payload 2.0
 * events, and each gets the answer its name says (events/README.md). session/signed-in.json carries a
 * session cookie sealed with the offline stack's keys (scripts/sample-events.ts), so it is answered
 * with the offline stack's environment, as `sam local invoke --env-vars env.json` would.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { localConfig } from '../../../local/config.ts';
import { sampleSession } from '../../../local/fixtures.ts';
import { cognitoIdClaims } from '../../helpers/tokens.ts';
import { authEnv, createFakeUserPool } from '../../helpers/user-pool.ts';
import { configured, invoker } from './support.ts';

const root = new URL('../../../events/', import.meta.url).pathname;
const offline = localConfig();
/** What the offline stack gives its functions (env.json for sam local), as far as sessions need it. */
const offlineEnv = {
  ...authEnv(),
  PUBLIC_BASE_URL: offline.publicBaseUrl,
  ALLOWED_ORIGINS: offline.frontendOrigins.join(','),
  COOKIE_KEYS: JSON.stringify(offline.cookieKeys),
};

/** [status, error code or body check] per event file. */
const expected: Record<string, [number, string | RegExp]> = {
  'login/idme.json': [302, ''],
  'login/idura-to-frontend.json': [302, ''],
  'login/unknown-provider.json': [400, 'unknown_provider'],
  'login/open-redirect.json': [400, 'invalid_return_to'],
  'callback/forged-login-state.json': [400, /data-error="login_state_invalid"/],
  'callback/missing-login-state.json': [400, 'login_state_missing'],
  'callback/idura-userinfo-not-json.json': [502, /idp_userinfo_not_json/],
  'callback/required-attribute.json': [400, 'required_attribute_missing'],
  'callback/access-denied.json': [403, /cancelled/],
  'session/signed-out.json': [200, /"signedIn":false/],
  'session/signed-in.json': [200, /"signedIn":true,"provider":"IDmeSandbox"/],
  'logout/fetch.json': [200, /"revoked":null/],
  'logout/form-post.json': [303, ''],
  'logout/cross-site.json': [403, 'origin_not_allowed'],
  'credentials/session-unreadable-cookie.json': [401, 'session_invalid'],
  'credentials/session-cross-site.json': [403, 'origin_not_allowed'],
  'credentials/no-credentials.json': [401, 'unauthenticated'],
};

describe('sample events', () => {
  const files = ['login', 'callback', 'session', 'logout', 'credentials'].flatMap((dir) =>
    readdirSync(join(root, dir)).map((file) => `${dir}/${file}`),
  );

  it('cover every route, and every file has an expectation', () => {
    assert.deepEqual(files.sort(), Object.keys(expected).sort());
  });

  for (const file of files) {
    it(`${file} is payload 2.0 and gets the documented answer`, async () => {
      const event = JSON.parse(readFileSync(join(root, file), 'utf8')) as APIGatewayProxyEventV2;
      assert.equal(event.version, '2.0');
      assert.equal(event.routeKey, `${event.requestContext.http.method} ${event.rawPath}`);
      for (const name of Object.keys(event.headers)) assert.equal(name, name.toLowerCase());
      const pool = await createFakeUserPool();
      // GET /auth/session confirms a session with the refresh_token grant: this pool knows the sample's.
      pool.acceptRefreshToken(sampleSession.refreshToken, {
        ...cognitoIdClaims(),
        sub: sampleSession.sub,
        identities: [{ providerName: sampleSession.provider, providerType: 'OIDC', primary: 'true' }],
      });
      const name = file.split('/')[0] as 'login' | 'callback' | 'session' | 'logout' | 'credentials';
      const mod = configured(name, file === 'session/signed-in.json' ? offlineEnv : undefined);
      const run = invoker(mod.createHandler({ fetch: pool.fetch } as never));
      const result = await run(event as never);
      const [status, check] = expected[file] as [number, string | RegExp];
      assert.equal(result.statusCode, status, result.body);
      if (typeof check === 'string' && check !== '')
        assert.equal(JSON.parse(result.body as string).error, check);
      if (check instanceof RegExp) assert.match(result.body as string, check);
    });
  }
});
