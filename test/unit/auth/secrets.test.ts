import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { sealCookie } from '../../../functions/shared/auth/cookies.ts';
import { createAuthSecrets, createSecretsManagerReader } from '../../../functions/shared/auth/secrets.ts';
import { parseAuthConfig } from '../../../functions/shared/config.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';
import { authEnv, testCookieKeys } from '../../helpers/user-pool.ts';
import { keyring } from './support.ts';

const secretsMock = mockClient(SecretsManagerClient);
process.env.AWS_REGION ??= 'us-east-1';

function awsConfig() {
  const env = authEnv({ CLIENT_SECRET_ID: 'broker/client', COOKIE_KEYS_SECRET_ID: 'broker/cookies' });
  delete env.USER_POOL_CLIENT_SECRET;
  delete env.COOKIE_KEYS;
  return parseAuthConfig(env, { clientSecret: true });
}

describe('auth secrets', () => {
  beforeEach(() => {
    secretsMock.reset();
    clearCaches();
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'broker/client' })
      .resolves({ SecretString: '{"client_secret":"s3cret"}' });
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'broker/cookies' })
      .resolves({ SecretString: JSON.stringify(testCookieKeys) });
  });

  it('uses plain values locally without any AWS call', async () => {
    const secrets = createAuthSecrets(parseAuthConfig(authEnv(), { clientSecret: true }));
    assert.equal(await secrets.clientSecret(), authEnv().USER_POOL_CLIENT_SECRET);
    assert.equal((await secrets.cookieKeyring()).current, 'k2');
    assert.equal(secretsMock.calls().length, 0);
  });

  it('reads each secret from Secrets Manager once and then serves it from the cache', async () => {
    const secrets = createAuthSecrets(awsConfig());
    assert.equal(await secrets.clientSecret(), 's3cret');
    assert.equal(await secrets.clientSecret(), 's3cret');
    const ring = await secrets.cookieKeyring();
    assert.equal(await secrets.cookieKeyring(), ring, 'keys are derived once');
    assert.equal(secretsMock.commandCalls(GetSecretValueCommand).length, 2);
  });

  it('derives the same keys from the secret as from the plain value', async () => {
    const ring = await createAuthSecrets(awsConfig()).cookieKeyring();
    const sealed = await sealCookie('session', { meta: { exp: 2_000_000_000 } }, ring);
    const { openCookie } = await import('../../../functions/shared/auth/cookies.ts');
    assert.equal((await openCookie(sealed, 'session', keyring, 1)).kid, 'k2');
  });

  it('reports a missing or forbidden secret as a configuration problem naming the secret', async () => {
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'broker/client' })
      .rejects(Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' }));
    await assert.rejects(createAuthSecrets(awsConfig()).clientSecret(), (error: unknown) => {
      assert.ok(error instanceof BrokerError);
      assert.equal(error.statusCode, 500);
      assert.match(error.hint ?? '', /broker\/client/);
      return true;
    });
  });

  it('reports Secrets Manager outages as 503', async () => {
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'broker/cookies' })
      .rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await assert.rejects(createAuthSecrets(awsConfig()).cookieKeyring(), (error: unknown) => {
      assert.ok(error instanceof BrokerError);
      assert.equal(error.code, 'secrets_unavailable');
      assert.equal(error.statusCode, 503);
      return true;
    });
  });

  it('refuses a client secret that is not {"client_secret": …} and cookie keys of the wrong shape', async () => {
    secretsMock.on(GetSecretValueCommand, { SecretId: 'broker/client' }).resolves({ SecretString: 'plain' });
    secretsMock
      .on(GetSecretValueCommand, { SecretId: 'broker/cookies' })
      .resolves({ SecretString: '{"current":"k9"}' });
    const secrets = createAuthSecrets(awsConfig());
    await assert.rejects(secrets.clientSecret(), /not readable/);
    await assert.rejects(secrets.cookieKeyring(), /not readable/);
  });

  it('can be given a reader (tests, other stores)', async () => {
    const reads: string[] = [];
    const secrets = createAuthSecrets(awsConfig(), async (id) => {
      reads.push(id);
      return id === 'broker/client' ? '{"client_secret":"x"}' : JSON.stringify(testCookieKeys);
    });
    assert.equal(await secrets.clientSecret(), 'x');
    assert.deepEqual(reads, ['broker/client']);
    assert.equal(typeof createSecretsManagerReader(), 'function');
  });
});
