import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import {
  CognitoIdentityClient,
  CognitoIdentityServiceException,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import { mockClient } from 'aws-sdk-client-mock';
import { parseCredentialsConfig } from '../../../functions/credentials/config.ts';
import {
  createCredentialsCaches,
  issueCredentials,
  toCredentialsResponse,
} from '../../../functions/shared/credentials.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';
import { loginsKeyFor } from '../../../functions/shared/identity-pool.ts';
import { createIdTokenVerifier } from '../../../functions/shared/oidc/verify.ts';
import { createTestIssuer, credentialsEnv, testIssuer } from '../../helpers/tokens.ts';

const identityMock = mockClient(CognitoIdentityClient);
const client = new CognitoIdentityClient({ region: 'us-east-1' });
const config = parseCredentialsConfig(credentialsEnv());
const poolKey = 'cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool1';
const hour = 3_600_000;

function exception(name: string, message: string) {
  return new CognitoIdentityServiceException({ name, message, $fault: 'client', $metadata: {} });
}

function credentialsFor(identityId: string, expiresInMs = hour) {
  return {
    IdentityId: identityId,
    Credentials: {
      AccessKeyId: `ASIA${identityId.slice(-6).toUpperCase()}`,
      SecretKey: `secret-${identityId}`,
      SessionToken: `session-${identityId}`,
      Expiration: new Date(Date.now() + expiresInMs),
    },
  };
}

async function setup() {
  const idp = await createTestIssuer();
  const deps = {
    identityClient: client,
    verifier: createIdTokenVerifier(config, idp.fetch),
    identityPoolId: config.identityPoolId,
    caches: createCredentialsCaches(),
  };
  return { idp, deps };
}

beforeEach(() => identityMock.reset());

describe('loginsKeyFor', () => {
  it('is the issuer without its scheme', () => {
    assert.equal(loginsKeyFor(testIssuer), poolKey);
    assert.equal(loginsKeyFor('https://api.id.me/oidc'), 'api.id.me/oidc');
  });
});

describe('issueCredentials', () => {
  it('calls GetId then GetCredentialsForIdentity with the logins map keyed by the issuer', async () => {
    const { idp, deps } = await setup();
    const token = await idp.sign();
    identityMock.on(GetIdCommand).resolves({ IdentityId: 'us-east-1:aaaa' });
    identityMock.on(GetCredentialsForIdentityCommand).resolves(credentialsFor('us-east-1:aaaa'));
    const issued = await issueCredentials(token, deps);
    assert.equal(issued.identityId, 'us-east-1:aaaa');
    assert.deepEqual(identityMock.commandCalls(GetIdCommand)[0]?.args[0].input, {
      IdentityPoolId: config.identityPoolId,
      Logins: { [poolKey]: token },
    });
    assert.deepEqual(identityMock.commandCalls(GetCredentialsForIdentityCommand)[0]?.args[0].input, {
      IdentityId: 'us-east-1:aaaa',
      Logins: { [poolKey]: token },
    });
  });

  it('answers in the shape the SDK fromHttp provider reads', async () => {
    const { idp, deps } = await setup();
    identityMock.on(GetIdCommand).resolves({ IdentityId: 'us-east-1:aaaa' });
    identityMock.on(GetCredentialsForIdentityCommand).resolves(credentialsFor('us-east-1:aaaa'));
    const body = toCredentialsResponse(await issueCredentials(await idp.sign(), deps));
    assert.deepEqual(Object.keys(body).sort(), [
      'AccessKeyId',
      'Expiration',
      'IdentityId',
      'SecretAccessKey',
      'Token',
    ]);
    assert.match(body.Expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('makes no Cognito call while cached credentials have more than five minutes left', async () => {
    const { idp, deps } = await setup();
    identityMock.on(GetIdCommand).resolves({ IdentityId: 'us-east-1:aaaa' });
    identityMock.on(GetCredentialsForIdentityCommand).resolves(credentialsFor('us-east-1:aaaa'));
    const token = await idp.sign();
    await issueCredentials(token, deps);
    const again = await issueCredentials(token, deps);
    assert.equal(again.cached, true);
    assert.equal(identityMock.calls().length, 2);
  });

  it('makes one call (no GetId) for a known identity whose credentials are about to expire', async () => {
    const { idp, deps } = await setup();
    identityMock.on(GetIdCommand).resolves({ IdentityId: 'us-east-1:aaaa' });
    identityMock.on(GetCredentialsForIdentityCommand).resolves(credentialsFor('us-east-1:aaaa', 4 * 60_000));
    const token = await idp.sign();
    await issueCredentials(token, deps);
    const again = await issueCredentials(token, deps);
    assert.equal(again.cached, false);
    assert.equal(identityMock.commandCalls(GetIdCommand).length, 1);
    assert.equal(identityMock.commandCalls(GetCredentialsForIdentityCommand).length, 2);
  });

  it("never serves one user's cached credentials to another", async () => {
    const { idp, deps } = await setup();
    identityMock.on(GetIdCommand).callsFake((input) => {
      const token = Object.values(input.Logins as Record<string, string>)[0] as string;
      const sub = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()).sub;
      return { IdentityId: `us-east-1:${sub}` };
    });
    identityMock.on(GetCredentialsForIdentityCommand).callsFake((input) => credentialsFor(input.IdentityId));
    const alice = await issueCredentials(await idp.sign({ sub: 'alice' }), deps);
    const bob = await issueCredentials(await idp.sign({ sub: 'bob' }), deps);
    assert.equal(alice.identityId, 'us-east-1:alice');
    assert.equal(bob.identityId, 'us-east-1:bob');
    assert.notEqual(alice.credentials.secretAccessKey, bob.credentials.secretAccessKey);
  });

  it('fetches new credentials after a new sign-in (new auth_time)', async () => {
    const { idp, deps } = await setup();
    identityMock.on(GetIdCommand).resolves({ IdentityId: 'us-east-1:aaaa' });
    identityMock.on(GetCredentialsForIdentityCommand).resolves(credentialsFor('us-east-1:aaaa'));
    const t = Math.floor(Date.now() / 1000);
    await issueCredentials(await idp.sign({ auth_time: t - 100 }), deps);
    const second = await issueCredentials(await idp.sign({ auth_time: t }), deps);
    assert.equal(second.cached, false);
    assert.equal(identityMock.commandCalls(GetIdCommand).length, 1);
  });

  it('asks GetId again, once, when a cached identity no longer exists', async () => {
    const { idp, deps } = await setup();
    identityMock
      .on(GetIdCommand)
      .resolvesOnce({ IdentityId: 'us-east-1:old' })
      .resolves({ IdentityId: 'us-east-1:new' });
    identityMock
      .on(GetCredentialsForIdentityCommand, { IdentityId: 'us-east-1:old' })
      .resolvesOnce(credentialsFor('us-east-1:old', 60_000))
      .rejects(exception('ResourceNotFoundException', 'IdentityId not found: us-east-1:old'));
    identityMock
      .on(GetCredentialsForIdentityCommand, { IdentityId: 'us-east-1:new' })
      .resolves(credentialsFor('us-east-1:new'));
    await issueCredentials(await idp.sign(), deps);
    const again = await issueCredentials(await idp.sign(), deps);
    assert.equal(again.identityId, 'us-east-1:new');
  });

  it('verifies the token before any Cognito call', async () => {
    const { idp, deps } = await setup();
    await assert.rejects(issueCredentials(await idp.sign({ aud: 'other' }), deps));
    assert.equal(identityMock.calls().length, 0);
  });
});

describe('Cognito Identity exceptions', () => {
  const cases: Array<[string, string, number, string, Record<string, string>?]> = [
    [
      'NotAuthorizedException',
      'Invalid login token. Token expired: 1754028847 >= 1754027905',
      401,
      'token_expired',
    ],
    [
      'NotAuthorizedException',
      "Invalid login token. Issuer doesn't match providerName",
      401,
      'issuer_not_accepted',
    ],
    [
      'NotAuthorizedException',
      'Token is not from a supported provider of this identity pool.',
      401,
      'provider_not_accepted',
    ],
    ['NotAuthorizedException', "Invalid login token. Couldn't verify signed token.", 401, 'bad_signature'],
    [
      'NotAuthorizedException',
      "Logins don't match. Please include at least one valid login for this identity or identity pool.",
      401,
      'not_authorized',
    ],
    ['TooManyRequestsException', 'Rate exceeded', 429, 'throttled', { 'Retry-After': '1' }],
    ['LimitExceededException', 'limit', 429, 'limit_exceeded', { 'Retry-After': '5' }],
    ['ResourceNotFoundException', 'IdentityPool not found', 500, 'misconfigured'],
    [
      'InvalidIdentityPoolConfigurationException',
      'Invalid identity pool configuration. Check assigned IAM roles for this pool.',
      500,
      'misconfigured',
    ],
    ['InvalidParameterException', '1 validation error', 500, 'misconfigured'],
    ['ResourceConflictException', 'already linked', 409, 'identity_conflict'],
    ['ExternalServiceException', 'external', 502, 'external_service_error'],
    ['InternalErrorException', 'internal', 502, 'upstream_error'],
    ['TimeoutError', 'socket hang up', 504, 'upstream_timeout'],
    ['Error', 'getaddrinfo ENOTFOUND', 503, 'upstream_unavailable'],
  ];
  for (const [name, message, status, code, headers] of cases) {
    it(`maps ${name} "${message.slice(0, 40)}" to ${status} ${code}`, async () => {
      const { idp, deps } = await setup();
      identityMock
        .on(GetIdCommand)
        .rejects(
          name === 'Error' || name === 'TimeoutError'
            ? Object.assign(new Error(message), { name })
            : exception(name, message),
        );
      await assert.rejects(issueCredentials(await idp.sign(), deps), (error: unknown) => {
        assert.ok(error instanceof BrokerError);
        assert.equal(error.statusCode, status);
        assert.equal(error.code, code);
        for (const [k, v] of Object.entries(headers ?? {})) assert.equal(error.headers[k], v);
        if (status === 500)
          assert.ok(error.hint && error.hint.length > 20, 'a 500 carries a hint for the log');
        return true;
      });
    });
  }
});
