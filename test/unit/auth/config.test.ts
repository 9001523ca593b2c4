import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ConfigError,
  parseAuthConfig,
  parseCredentialsConfig,
  parseSessionConfig,
} from '../../../functions/shared/config.ts';
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

describe('parseAuthConfig', () => {
  it('derives the endpoints, callback and cookie security, with defaults', () => {
    const config = parseAuthConfig(authEnv());
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
    assert.equal(config.sessionMaxAgeSeconds, 43_200);
    assert.deepEqual(config.identityProviders, ['IDmeSandbox', 'IduraTest']);
    assert.deepEqual(config.cookieKeys, {
      source: 'environment',
      value: { current: 'k2', secrets: { k1: testCookieKeys.k1, k2: testCookieKeys.k2 } },
    });
    assert.ok(Object.isFrozen(config));
  });

  it('takes secret ids for AWS', () => {
    const env = authEnv({ CLIENT_SECRET_ID: 'broker/client', COOKIE_KEYS_SECRET_ID: 'broker/cookies' });
    delete env.USER_POOL_CLIENT_SECRET;
    delete env.COOKIE_KEYS;
    const config = parseAuthConfig({ ...env, AWS_LAMBDA_FUNCTION_NAME: 'fn' }, { clientSecret: true });
    assert.deepEqual(config.clientSecret, { source: 'secrets-manager', secretId: 'broker/client' });
    assert.deepEqual(config.cookieKeys, { source: 'secrets-manager', secretId: 'broker/cookies' });
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(() =>
      parseAuthConfig(credentialsEnv({ OAUTH_SCOPES: 'email profile', ALLOWED_ORIGINS: '' }), {
        clientSecret: true,
        identityProviders: true,
      }),
    );
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

  it('refuses plain secrets in a deployed Lambda (sam local is fine)', () => {
    const problems = problemsOf(() =>
      parseAuthConfig({ ...authEnv(), AWS_LAMBDA_FUNCTION_NAME: 'fn' }, { clientSecret: true }),
    );
    assert.ok(problems.some((p) => p.startsWith('USER_POOL_CLIENT_SECRET holds a plain secret')));
    assert.ok(problems.some((p) => p.startsWith('COOKIE_KEYS holds a plain secret')));
    assert.doesNotThrow(() =>
      parseAuthConfig({ ...authEnv(), AWS_LAMBDA_FUNCTION_NAME: 'fn', AWS_SAM_LOCAL: 'true' }),
    );
  });

  it('refuses a plain value and a secret id for the same secret', () => {
    const problems = problemsOf(() => parseAuthConfig(authEnv({ CLIENT_SECRET_ID: 'x' })));
    assert.ok(problems.some((p) => p.includes('USER_POOL_CLIENT_SECRET and CLIENT_SECRET_ID are both set')));
  });

  it('checks the cookie keys without ever quoting a secret', () => {
    const short = JSON.stringify({ current: 'k1', k1: 'too-short-secret' });
    const problems = problemsOf(() => parseAuthConfig(authEnv({ COOKIE_KEYS: short })));
    assert.ok(problems.some((p) => p.includes('at least 32 characters')));
    assert.ok(!problems.join(' ').includes('too-short-secret'));
    assert.ok(
      problemsOf(() => parseAuthConfig(authEnv({ COOKIE_KEYS: `{"k1":"${'x'.repeat(40)}"}` }))).some((p) =>
        p.includes('"current"'),
      ),
    );
    assert.ok(
      problemsOf(() => parseAuthConfig(authEnv({ COOKIE_KEYS: 'not json' }))).some((p) =>
        p.includes('not valid JSON'),
      ),
    );
  });

  it('allows plain http only for loopback, and then drops Secure', () => {
    assert.equal(parseAuthConfig(authEnv({ PUBLIC_BASE_URL: 'http://localhost:3000' })).secureCookies, false);
    assert.ok(
      problemsOf(() => parseAuthConfig(authEnv({ PUBLIC_BASE_URL: 'http://api.example.com' }))).length > 0,
    );
  });
});

describe('parseSessionConfig', () => {
  it('is undefined when no sign-in variable is set, so /credentials stays bearer-only', () => {
    assert.equal(parseSessionConfig(credentialsEnv()), undefined);
  });

  it('needs the client secret (for the refresh_token grant)', () => {
    const env = authEnv();
    delete env.USER_POOL_CLIENT_SECRET;
    assert.ok(problemsOf(() => parseSessionConfig(env)).some((p) => p.includes('CLIENT_SECRET_ID')));
  });

  it('leaves parseCredentialsConfig as it was', () => {
    assert.equal(parseCredentialsConfig(authEnv()).identityPoolId, credentialsEnv().IDENTITY_POOL_ID);
  });
});
