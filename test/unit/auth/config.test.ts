import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCallbackConfig } from '../../../functions/callback/config.ts';
import { parseCredentialsConfig } from '../../../functions/credentials/config.ts';
import { parseLoginConfig } from '../../../functions/login/config.ts';
import { parseLogoutConfig } from '../../../functions/logout/config.ts';
import { parseSessionFunctionConfig } from '../../../functions/session/config.ts';
import { parseProviderTable } from '../../../functions/shared/claims/providers.ts';
import type { Env } from '../../../functions/shared/config.ts';
import { ConfigError } from '../../../functions/shared/errors.ts';
import { readTemplate } from '../../../local/template.ts';
import { credentialsEnv } from '../../helpers/tokens.ts';
import { authEnv, testCookieKeys } from '../../helpers/user-pool.ts';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  assert.fail('expected a ConfigError');
}

/** Each function's parser, by its logical id in template.yaml. */
const parsers: Record<string, (env: Env) => unknown> = {
  CredentialsFunction: parseCredentialsConfig,
  LoginFunction: parseLoginConfig,
  CallbackFunction: parseCallbackConfig,
  SessionFunction: parseSessionFunctionConfig,
  LogoutFunction: parseLogoutConfig,
  PreTokenGenerationFunction: parseProviderTable,
};

/** Variables Lambda (or sam local) sets itself, which no template declares. */
const setByLambda = new Set(['AWS_REGION', 'AWS_LAMBDA_FUNCTION_NAME', 'AWS_SAM_LOCAL']);
/** Declared for a shared module that reads it itself when loaded, not for the function's parser. */
const readByModules = new Set(['POWERTOOLS_SERVICE_NAME' /* functions/shared/metrics.ts */]);

describe("each function's parser against its template Environment", () => {
  const resources = readTemplate().Resources;
  const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function');

  it('every function in the template has a parser', () => {
    assert.deepEqual(functions.map(([id]) => id).sort(), Object.keys(parsers).sort());
  });

  for (const [id, resource] of functions) {
    it(`${id} reads exactly the variables its Environment declares`, () => {
      const declared = Object.keys(
        (resource.Properties as { Environment?: { Variables?: object } }).Environment?.Variables ?? {},
      ).filter((name) => !readByModules.has(name));
      // Every variable set (a full sign-in environment), so that no branch skips a read.
      const values: Record<string, string> = { ...authEnv(), TRUSTED_CLIENT_IDS: 'other-client' };
      const read = new Set<string>();
      const env = new Proxy(values, {
        get(target, name) {
          if (typeof name === 'string') read.add(name);
          return Reflect.get(target, name);
        },
      });
      (parsers[id] as (env: Env) => unknown)(env);
      const readNames = [...read].filter((name) => !setByLambda.has(name)).sort();
      assert.deepEqual(readNames, [...declared].sort());
    });
  }
});

describe('the sign-in parsers', () => {
  it('derive the endpoints, callback and cookie security, with defaults', () => {
    const config = parseLoginConfig(authEnv());
    assert.deepEqual(config.endpoints, {
      authorize: 'https://auth.example.test/oauth2/authorize',
      token: 'https://auth.example.test/oauth2/token',
      revoke: 'https://auth.example.test/oauth2/revoke',
      logout: 'https://auth.example.test/logout',
    });
    assert.equal(config.callbackUrl, 'https://api.example.com/auth/callback');
    assert.equal(config.selfOrigin, 'https://api.example.com');
    assert.equal(config.secureCookies, true);
    assert.equal(config.scopes, 'openid email profile');
    assert.equal(parseCallbackConfig(authEnv()).sessionMaxAgeSeconds, 43_200);
    assert.deepEqual(config.identityProviders, ['IDmeSandbox', 'IduraTest']);
    assert.deepEqual(config.cookieKeys, {
      source: 'environment',
      value: { current: 'k2', secrets: { k1: testCookieKeys.k1, k2: testCookieKeys.k2 } },
    });
    assert.ok(Object.isFrozen(config));
  });

  it('take secret ids for AWS', () => {
    const env = authEnv({ CLIENT_SECRET_ID: 'broker/client', COOKIE_KEYS_SECRET_ID: 'broker/cookies' });
    delete env.USER_POOL_CLIENT_SECRET;
    delete env.COOKIE_KEYS;
    const config = parseCallbackConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: 'fn' });
    assert.deepEqual(config.clientSecret, { source: 'secrets-manager', secretId: 'broker/client' });
    assert.deepEqual(config.cookieKeys, { source: 'secrets-manager', secretId: 'broker/cookies' });
  });

  it('report every problem at once', () => {
    const env = credentialsEnv({ OAUTH_SCOPES: 'email profile', ALLOWED_ORIGINS: '' });
    const problems = [
      ...problemsOf(() => parseLoginConfig(env)),
      ...problemsOf(() => parseCallbackConfig(env)),
    ];
    for (const name of [
      'COGNITO_DOMAIN_URL',
      'PUBLIC_BASE_URL',
      'COOKIE_KEYS_SECRET_ID',
      'CLIENT_SECRET_ID',
      'IDENTITY_PROVIDERS',
      'OAUTH_SCOPES',
      'ALLOWED_ORIGINS',
    ]) {
      assert.ok(
        problems.some((p) => p.includes(name)),
        `${name} in ${problems.join(' | ')}`,
      );
    }
  });

  it('need only what the function uses: /auth/session starts without the identity pool', () => {
    const env = authEnv();
    delete env.IDENTITY_POOL_ID;
    assert.equal(parseSessionFunctionConfig(env).selfOrigin, 'https://api.example.com');
    assert.ok(
      problemsOf(() => parseLoginConfig({ ...env, USER_POOL_CLIENT_ID: '' })).some((p) =>
        p.startsWith('USER_POOL_CLIENT_ID'),
      ),
    );
  });

  it('/auth/session needs the user pool, the hosted UI and the client secret (the refresh grant confirms a session)', () => {
    const env = authEnv();
    for (const name of ['USER_POOL_ID', 'COGNITO_DOMAIN_URL', 'USER_POOL_CLIENT_SECRET']) delete env[name];
    const problems = problemsOf(() => parseSessionFunctionConfig(env));
    for (const name of ['USER_POOL_ID', 'COGNITO_DOMAIN_URL', 'CLIENT_SECRET_ID']) {
      assert.ok(
        problems.some((p) => p.includes(name)),
        `${name} in ${problems.join(' | ')}`,
      );
    }
  });

  it('the callback needs the identity pool (it resolves the identity id at sign-in)', () => {
    const env = authEnv();
    delete env.IDENTITY_POOL_ID;
    assert.ok(problemsOf(() => parseCallbackConfig(env)).some((p) => p.startsWith('IDENTITY_POOL_ID')));
  });

  it('refuse plain secrets in a deployed Lambda (sam local is fine)', () => {
    const problems = problemsOf(() => parseCallbackConfig({ ...authEnv(), AWS_LAMBDA_FUNCTION_NAME: 'fn' }));
    assert.ok(problems.some((p) => p.startsWith('USER_POOL_CLIENT_SECRET holds a plain secret')));
    assert.ok(problems.some((p) => p.startsWith('COOKIE_KEYS holds a plain secret')));
    assert.doesNotThrow(() =>
      parseCallbackConfig({ ...authEnv(), AWS_LAMBDA_FUNCTION_NAME: 'fn', AWS_SAM_LOCAL: 'true' }),
    );
  });

  it('refuse a plain value and a secret id for the same secret', () => {
    const problems = problemsOf(() => parseLogoutConfig(authEnv({ CLIENT_SECRET_ID: 'x' })));
    assert.ok(problems.some((p) => p.includes('USER_POOL_CLIENT_SECRET and CLIENT_SECRET_ID are both set')));
  });

  it('check the cookie keys without ever quoting a secret', () => {
    const short = JSON.stringify({ current: 'k1', k1: 'too-short-secret' });
    const problems = problemsOf(() => parseSessionFunctionConfig(authEnv({ COOKIE_KEYS: short })));
    assert.ok(problems.some((p) => p.includes('at least 32 characters')));
    assert.ok(!problems.join(' ').includes('too-short-secret'));
    const noCurrent = authEnv({ COOKIE_KEYS: `{"k1":"${'x'.repeat(40)}"}` });
    assert.ok(problemsOf(() => parseSessionFunctionConfig(noCurrent)).some((p) => p.includes('"current"')));
    const notJson = authEnv({ COOKIE_KEYS: 'not json' });
    assert.ok(
      problemsOf(() => parseSessionFunctionConfig(notJson)).some((p) => p.includes('not valid JSON')),
    );
  });

  it('allow plain http only for loopback, and then drop Secure', () => {
    const local = parseSessionFunctionConfig(authEnv({ PUBLIC_BASE_URL: 'http://localhost:3000' }));
    assert.equal(local.secureCookies, false);
    const plain = authEnv({ PUBLIC_BASE_URL: 'http://api.example.com' });
    assert.ok(problemsOf(() => parseSessionFunctionConfig(plain)).length > 0);
  });

  it('allow plain http for *.localhost names only under sam local, where --add-host maps them to the Docker host', () => {
    const accepts = (host: string, samLocal: boolean) => {
      const env = authEnv({
        COGNITO_DOMAIN_URL: `http://${host}:9230`,
        ALLOWED_ORIGINS: `http://${host}:5173`,
        ...(samLocal ? { AWS_SAM_LOCAL: 'true' } : {}),
      });
      try {
        parseSessionFunctionConfig(env);
        return true;
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        assert.ok(error.problems.some((p) => p.startsWith('COGNITO_DOMAIN_URL must use https://')));
        assert.ok(error.problems.some((p) => p.startsWith('ALLOWED_ORIGINS entry')));
        return false;
      }
    };
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]']) {
      assert.equal(accepts(host, false), true, host);
      assert.equal(accepts(host, true), true, `${host} under sam local`);
    }
    for (const host of ['cognito.localhost', 'a.b.localhost']) {
      assert.equal(accepts(host, false), false, `${host} refused without AWS_SAM_LOCAL`);
      assert.equal(accepts(host, true), true, `${host} under sam local`);
    }
    for (const host of [
      'localhost.evil.example',
      'cognito.localhost.evil.example',
      'evillocalhost',
      'example.com',
      '10.0.0.1',
      '172.17.0.1',
      '192.168.1.1',
    ]) {
      assert.equal(accepts(host, false), false, host);
      assert.equal(accepts(host, true), false, `${host} under sam local`);
    }
  });
});

describe('parseCredentialsConfig', () => {
  it('has no session support when no sign-in variable is set, so /credentials stays bearer-only', () => {
    assert.equal(parseCredentialsConfig(credentialsEnv()).session, undefined);
  });

  it('needs the client secret with sessions (for the refresh_token grant)', () => {
    const env = authEnv();
    delete env.USER_POOL_CLIENT_SECRET;
    assert.ok(problemsOf(() => parseCredentialsConfig(env)).some((p) => p.includes('CLIENT_SECRET_ID')));
  });

  it('reports a bad UPSTREAM_TIMEOUT_MS once, with sessions or without', () => {
    for (const env of [
      authEnv({ UPSTREAM_TIMEOUT_MS: 'soon' }),
      credentialsEnv({ UPSTREAM_TIMEOUT_MS: 'soon' }),
    ]) {
      const problems = problemsOf(() => parseCredentialsConfig(env));
      assert.equal(
        problems.filter((p) => p.startsWith('UPSTREAM_TIMEOUT_MS')).length,
        1,
        problems.join(' | '),
      );
    }
  });

  it('trusts the extra app clients of TRUSTED_CLIENT_IDS for bearer tokens', () => {
    const config = parseCredentialsConfig(credentialsEnv({ TRUSTED_CLIENT_IDS: 'mobile-app, cli' }));
    assert.deepEqual(config.userPool.clientIds, [credentialsEnv().USER_POOL_CLIENT_ID, 'mobile-app', 'cli']);
  });
});
