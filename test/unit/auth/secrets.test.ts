import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { parseCallbackConfig } from '../../../functions/callback/config.ts';
import { sealCookie } from '../../../functions/shared/auth/cookies.ts';
import {
  createAuthSecrets,
  createSecretsManagerReader,
  secretsMaxAgeSeconds,
} from '../../../functions/shared/auth/secrets.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';
import { authEnv, testCookieKeys } from '../../helpers/user-pool.ts';
import { keyring } from './support.ts';

/** A fake GetSecretValue: answers from `values` (or throws what is there), counting reads. */
function fakeSecretsManager(values: Record<string, string | Error>) {
  const reads: string[] = [];
  const getSecretValue = async (secretId: string) => {
    reads.push(secretId);
    const value = values[secretId];
    if (value instanceof Error) throw value;
    return { SecretString: value, $metadata: { attempts: 1 } };
  };
  return { reads, getSecretValue };
}
const awsError = (name: string) => Object.assign(new Error(name), { name });

function awsConfig() {
  const env = authEnv({ CLIENT_SECRET_ID: 'broker/client', COOKIE_KEYS_SECRET_ID: 'broker/cookies' });
  delete env.USER_POOL_CLIENT_SECRET;
  delete env.COOKIE_KEYS;
  return parseCallbackConfig(env);
}

describe('auth secrets', () => {
  let sm: ReturnType<typeof fakeSecretsManager>;
  let clock: number;
  const reader = () => createSecretsManagerReader({ getSecretValue: sm.getSecretValue, now: () => clock });
  beforeEach(() => {
    clock = 1_764_547_200_000;
    sm = fakeSecretsManager({
      'broker/client': '{"client_secret":"s3cret"}',
      'broker/cookies': JSON.stringify(testCookieKeys),
    });
  });

  it('uses plain values locally without any AWS call', async () => {
    const secrets = createAuthSecrets(parseCallbackConfig(authEnv()));
    assert.equal(await secrets.clientSecret(), authEnv().USER_POOL_CLIENT_SECRET);
    assert.equal((await secrets.cookieKeyring()).current, 'k2');
    assert.equal(sm.reads.length, 0);
  });

  it('reads each secret from Secrets Manager once and then serves it from the cache', async () => {
    const secrets = createAuthSecrets(awsConfig(), reader());
    assert.equal(await secrets.clientSecret(), 's3cret');
    assert.equal(await secrets.clientSecret(), 's3cret');
    const ring = await secrets.cookieKeyring();
    assert.equal(await secrets.cookieKeyring(), ring, 'keys are derived once');
    assert.deepEqual(sm.reads, ['broker/client', 'broker/cookies']);
  });

  it(`reads a secret again once it is ${secretsMaxAgeSeconds} s old, not before (a key rotation's wait)`, async () => {
    const read = reader();
    await read('broker/cookies');
    clock += secretsMaxAgeSeconds * 1000 - 1;
    await read('broker/cookies');
    assert.equal(sm.reads.length, 1, 'still fresh');
    clock += 1;
    await read('broker/cookies');
    assert.equal(sm.reads.length, 2, 'read again at the maximum age');
  });

  it('does not keep a failed read: the next request tries again', async () => {
    sm = fakeSecretsManager({ 'broker/cookies': awsError('InternalServiceError') });
    const read = reader();
    await assert.rejects(read('broker/cookies'));
    await assert.rejects(read('broker/cookies'));
    assert.equal(sm.reads.length, 2);
  });

  it('derives the same keys from the secret as from the plain value', async () => {
    const ring = await createAuthSecrets(awsConfig(), reader()).cookieKeyring();
    const sealed = await sealCookie('session', { meta: { exp: 2_000_000_000 } }, ring);
    const { openCookie } = await import('../../../functions/shared/auth/cookies.ts');
    assert.equal((await openCookie(sealed, 'session', keyring, 1)).kid, 'k2');
  });

  it('reports a missing or forbidden secret as a configuration problem naming the secret', async () => {
    sm = fakeSecretsManager({ 'broker/client': awsError('ResourceNotFoundException') });
    await assert.rejects(createAuthSecrets(awsConfig(), reader()).clientSecret(), (error: unknown) => {
      assert.ok(error instanceof BrokerError);
      assert.equal(error.statusCode, 500);
      assert.match(error.hint ?? '', /broker\/client/);
      return true;
    });
  });

  it('reports Secrets Manager outages as 503', async () => {
    sm = fakeSecretsManager({ 'broker/cookies': awsError('ThrottlingException') });
    await assert.rejects(createAuthSecrets(awsConfig(), reader()).cookieKeyring(), (error: unknown) => {
      assert.ok(error instanceof BrokerError);
      assert.equal(error.code, 'secrets_unavailable');
      assert.equal(error.statusCode, 503);
      return true;
    });
  });

  it('refuses a client secret that is not {"client_secret": …} and cookie keys of the wrong shape', async () => {
    sm = fakeSecretsManager({ 'broker/client': 'plain', 'broker/cookies': '{"current":"k9"}' });
    const secrets = createAuthSecrets(awsConfig(), reader());
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
  });
});
