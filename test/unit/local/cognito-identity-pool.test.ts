import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
  GetOpenIdTokenCommand,
} from '@aws-sdk/client-cognito-identity';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  type IdentityPoolStandIn,
  type IdentityPoolStandInOptions,
  readIdentityPoolTemplate,
  startIdentityPoolStandIn,
} from '../../../local/cognito/identity-pool.ts';
import {
  APP_CLIENT,
  claimsOf,
  IDURA,
  redeem,
  resolver,
  type Stack,
  signIn,
  startStack,
  type TokenSet,
} from './cognito-support.ts';

const IDURA_MITID = {
  provider: IDURA,
  extra: { login_hint: 'acr_values:urn:grn:authn:dk:mitid:substantial' },
};

/** The SDK error's name and message, for assert.rejects. */
function sdkError(name: string, message?: string | RegExp): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof Error, String(error));
    assert.equal(error.name, name, error.message);
    if (typeof message === 'string') assert.equal(error.message, message);
    else if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

describe('identity pool stand-in', () => {
  let stack: Stack;
  let identity: IdentityPoolStandIn;
  let client: CognitoIdentityClient;
  let veteran: TokenSet;
  let mitid: TokenSet;
  let clockOffsetMs = 0;

  const logins = (token: string, key = stack.pool.loginsKey): Record<string, string> => ({ [key]: token });
  const getId = (token: string, key?: string) =>
    client.send(new GetIdCommand({ IdentityPoolId: identity.identityPoolId, Logins: logins(token, key) }));

  before(async () => {
    stack = await startStack();
    const settings = readIdentityPoolTemplate(resolver());
    identity = await startIdentityPoolStandIn({
      providers: [
        {
          providerName: stack.pool.loginsKey,
          issuer: stack.pool.issuer,
          clientIds: [APP_CLIENT.clientId],
          jwksUri: stack.pool.jwksUri,
          serverSideTokenCheck: settings.serverSideTokenCheck,
        },
      ],
      serverSideTokenCheck: (claims) => stack.pool.isTokenActive(claims),
      principalTags: settings.principalTags,
      now: () => Date.now() + clockOffsetMs,
    });
    // One attempt: the tests look at each answer, not at the SDK's retries.
    client = new CognitoIdentityClient({ region: 'us-east-1', endpoint: identity.url, maxAttempts: 1 });
    veteran = await redeem(stack.pool, await signIn(stack.pool, 'veteran'));
    mitid = await redeem(stack.pool, await signIn(stack.pool, 'mitid', IDURA_MITID));
  });

  after(async () => {
    client.destroy();
    await Promise.all([stack.close(), identity.close()]);
  });

  afterEach(() => {
    identity.setFault();
    clockOffsetMs = 0;
  });

  describe('GetId', () => {
    it('returns a REGION:GUID identity id that is stable for the same user', async () => {
      const first = await getId(veteran.id_token);
      assert.match(
        first.IdentityId ?? '',
        /^us-east-1:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
      const again = await getId(veteran.id_token);
      assert.equal(again.IdentityId, first.IdentityId);
    });

    it('gives another user another identity id', async () => {
      const a = await getId(veteran.id_token);
      const b = await getId(mitid.id_token);
      assert.notEqual(a.IdentityId, b.IdentityId);
      assert.ok(identity.identities().some((record) => record.identityId === b.IdentityId));
    });

    it('gives a new ID token of the same user the same identity id', async () => {
      const renewed = await redeem(stack.pool, await signIn(stack.pool, 'veteran'));
      assert.equal((await getId(renewed.id_token)).IdentityId, (await getId(veteran.id_token)).IdentityId);
    });

    it('refuses an unknown identity pool with ResourceNotFoundException', async () => {
      await assert.rejects(
        client.send(
          new GetIdCommand({
            IdentityPoolId: 'us-east-1:00000000-0000-0000-0000-000000000000',
            Logins: logins(veteran.id_token),
          }),
        ),
        sdkError(
          'ResourceNotFoundException',
          "IdentityPool 'us-east-1:00000000-0000-0000-0000-000000000000' not found.",
        ),
      );
    });

    it('refuses a malformed identity pool id with InvalidParameterException', async () => {
      await assert.rejects(
        client.send(new GetIdCommand({ IdentityPoolId: 'not an id', Logins: logins(veteran.id_token) })),
        sdkError('InvalidParameterException', /identityPoolId/),
      );
    });
  });

  describe('GetCredentialsForIdentity', () => {
    it('returns one-hour credentials that are plainly local', async () => {
      const { IdentityId } = await getId(veteran.id_token);
      const started = Date.now();
      const answer = await client.send(
        new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins(veteran.id_token) }),
      );
      assert.equal(answer.IdentityId, IdentityId);
      const credentials = answer.Credentials;
      assert.ok(credentials);
      assert.match(credentials.AccessKeyId ?? '', /^ASIALOCAL[A-Z2-7]{11}$/);
      assert.match(credentials.SecretKey ?? '', /^offline\//);
      assert.match(credentials.SessionToken ?? '', /^OFFLINE-SESSION\./);
      assert.ok(credentials.Expiration instanceof Date);
      const lifetime = (credentials.Expiration.getTime() - started) / 1000;
      assert.ok(lifetime > 3590 && lifetime <= 3601, `lifetime ${lifetime}`);
    });

    it('records the principal tags the template maps from the canonical claims', async () => {
      const { IdentityId } = await getId(veteran.id_token);
      const answer = await client.send(
        new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins(veteran.id_token) }),
      );
      const issued = identity.credentials().find((c) => c.accessKeyId === answer.Credentials?.AccessKeyId);
      assert.deepEqual(issued?.principalTags, {
        idp: 'idme',
        idp_env: 'sandbox',
        assurance: 'IAL2',
        affiliations: 'military:veteran',
      });
      assert.equal(issued?.identityId, IdentityId);
    });

    it('refuses an unknown identity id with ResourceNotFoundException', async () => {
      const unknown = 'us-east-1:11111111-1111-4111-8111-111111111111';
      await assert.rejects(
        client.send(
          new GetCredentialsForIdentityCommand({ IdentityId: unknown, Logins: logins(veteran.id_token) }),
        ),
        sdkError('ResourceNotFoundException', `Identity '${unknown}' not found.`),
      );
    });

    it("refuses another user's login for an identity: Logins don't match", async () => {
      const { IdentityId } = await getId(veteran.id_token);
      await assert.rejects(
        client.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins(mitid.id_token) })),
        sdkError('NotAuthorizedException', /^Logins don't match/),
      );
    });

    /** A fresh sign-in of `who`, its identity id, and a GetCredentialsForIdentity call with its ID token. */
    async function freshLogin(who: string, params?: Parameters<typeof signIn>[2]) {
      const tokens = await redeem(stack.pool, await signIn(stack.pool, who, params));
      const { IdentityId } = await getId(tokens.id_token);
      const credentials = () =>
        client.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins(tokens.id_token) }));
      return { tokens, credentials };
    }

    it('still accepts an ID token whose refresh token was revoked (RevokeToken is not a global sign-out)', async () => {
      const { tokens, credentials } = await freshLogin('student');
      const revoked = await fetch(`${stack.pool.url}/oauth2/revoke`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${APP_CLIENT.clientId}:${APP_CLIENT.clientSecret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ token: tokens.refresh_token }),
      });
      assert.equal(revoked.status, 200);
      assert.ok((await credentials()).Credentials?.AccessKeyId);
    });

    it('refuses the ID tokens of a user signed out globally (ServerSideTokenCheck)', async () => {
      const { tokens, credentials } = await freshLogin('student');
      stack.pool.globalSignOut(String(claimsOf(tokens.id_token)['cognito:username']));
      await assert.rejects(credentials(), sdkError('NotAuthorizedException', /^Invalid login token\./));
      // A sign-in after the global sign-out is a new session, and works.
      assert.ok((await (await freshLogin('student')).credentials()).Credentials?.AccessKeyId);
    });

    it('refuses the ID tokens of a disabled user (ServerSideTokenCheck)', async () => {
      const { tokens, credentials } = await freshLogin('de-eid', { provider: IDURA });
      assert.ok(stack.pool.disableUser(String(claimsOf(tokens.id_token)['cognito:username'])));
      await assert.rejects(credentials(), sdkError('NotAuthorizedException', /^Invalid login token\./));
    });

    it('refuses the ID tokens of a deleted user (ServerSideTokenCheck)', async () => {
      const { tokens, credentials } = await freshLogin('no-bankid', { provider: IDURA });
      assert.ok(stack.pool.deleteUser(String(claimsOf(tokens.id_token)['cognito:username'])));
      await assert.rejects(credentials(), sdkError('NotAuthorizedException', /^Invalid login token\./));
    });

    it('refuses a token that lacks a claim mapped to a principal tag (the strictest reading)', async () => {
      const tagged = await startIdentityPoolStandIn({
        providers: [
          {
            providerName: stack.pool.loginsKey,
            issuer: stack.pool.issuer,
            clientIds: [APP_CLIENT.clientId],
            jwksUri: stack.pool.jwksUri,
          },
        ],
        // ID.me tokens have no eid_scheme; MitID tokens do.
        principalTags: { idp: 'idp', scheme: 'eid_scheme' },
      });
      const taggedClient = new CognitoIdentityClient({
        region: 'us-east-1',
        endpoint: tagged.url,
        maxAttempts: 1,
      });
      const credentialsFor = async (token: string) => {
        const { IdentityId } = await taggedClient.send(
          new GetIdCommand({ IdentityPoolId: tagged.identityPoolId, Logins: logins(token) }),
        );
        return taggedClient.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins(token) }));
      };
      try {
        await assert.rejects(
          credentialsFor(veteran.id_token),
          sdkError(
            'NotAuthorizedException',
            'Invalid login token. Missing a required claim: eid_scheme (mapped to the principal tag scheme)',
          ),
        );
        const answer = await credentialsFor(mitid.id_token);
        const issued = tagged.credentials().find((c) => c.accessKeyId === answer.Credentials?.AccessKeyId);
        assert.deepEqual(issued?.principalTags, { idp: 'idura', scheme: 'dkmitid' });
      } finally {
        taggedClient.destroy();
        await tagged.close();
      }
    });

    it('gives a Swedish BankID user the documented "none" tags: no assurance level, no affiliations', async () => {
      const { credentials } = await freshLogin('se-bankid', { provider: IDURA });
      const answer = await credentials();
      const issued = identity.credentials().find((c) => c.accessKeyId === answer.Credentials?.AccessKeyId);
      assert.deepEqual(issued?.principalTags, {
        idp: 'idura',
        idp_env: 'test',
        assurance: 'none',
        affiliations: 'none',
      });
    });
  });

  describe('login validation (NotAuthorizedException)', () => {
    it("refuses a logins key that is not the token's issuer", async () => {
      await assert.rejects(
        getId(veteran.id_token, 'cognito-idp.us-east-1.amazonaws.com/us-east-1_OfflinePool'),
        sdkError('NotAuthorizedException', "Invalid login token. Issuer doesn't match providerName"),
      );
    });

    it('refuses a key written with https://', async () => {
      await assert.rejects(
        getId(veteran.id_token, stack.pool.issuer),
        sdkError('NotAuthorizedException', "Invalid login token. Issuer doesn't match providerName"),
      );
    });

    it('refuses an access token: Missing a required claim: aud', async () => {
      await assert.rejects(
        getId(veteran.access_token),
        sdkError('NotAuthorizedException', 'Invalid login token. Missing a required claim: aud'),
      );
    });

    it('refuses a token whose signature does not verify', async () => {
      const [header, payload, signature = ''] = veteran.id_token.split('.');
      const forged = { ...claimsOf(veteran.id_token), 'cognito:username': 'someone-else' };
      const token = `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
      assert.notEqual(payload, token.split('.')[1]);
      await assert.rejects(
        getId(token),
        sdkError('NotAuthorizedException', "Invalid login token. Couldn't verify signed token."),
      );
    });

    /** GetId with the veteran's token against a second identity pool configured with `providers`. */
    async function getIdFromPool(providers: IdentityPoolStandInOptions['providers']) {
      const other = await startIdentityPoolStandIn({ providers });
      const otherClient = new CognitoIdentityClient({
        region: 'us-east-1',
        endpoint: other.url,
        maxAttempts: 1,
      });
      try {
        return await otherClient.send(
          new GetIdCommand({ IdentityPoolId: other.identityPoolId, Logins: logins(veteran.id_token) }),
        );
      } finally {
        otherClient.destroy();
        await other.close();
      }
    }

    it('refuses a token of an app client the identity pool does not list', async () => {
      await assert.rejects(
        getIdFromPool([
          {
            providerName: stack.pool.loginsKey,
            issuer: stack.pool.issuer,
            clientIds: ['another-client'],
            jwksUri: stack.pool.jwksUri,
          },
        ]),
        sdkError('NotAuthorizedException', 'Token is not from a supported provider of this identity pool.'),
      );
    });

    it('refuses a token from a provider the pool does not list', async () => {
      await assert.rejects(
        getIdFromPool([]),
        sdkError('NotAuthorizedException', 'Token is not from a supported provider of this identity pool.'),
      );
    });

    it('accepts an expired token within the 5-minute grace', async () => {
      const exp = Number(claimsOf(veteran.id_token).exp);
      clockOffsetMs = (exp + 299) * 1000 - Date.now();
      assert.ok((await getId(veteran.id_token)).IdentityId);
    });

    it('refuses a token expired for more than 5 minutes: Token expired: <now> >= <exp>', async () => {
      const exp = Number(claimsOf(veteran.id_token).exp);
      clockOffsetMs = (exp + 301) * 1000 - Date.now();
      await assert.rejects(getId(veteran.id_token), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(error.name, 'NotAuthorizedException');
        const match = /^Invalid login token\. Token expired: (\d+) >= (\d+)$/.exec(error.message);
        assert.ok(match, error.message);
        assert.equal(Number(match[2]), exp);
        assert.ok(Number(match[1]) >= exp + 300);
        return true;
      });
    });

    it('refuses a call without logins: unauthenticated access is off', async () => {
      await assert.rejects(
        client.send(new GetIdCommand({ IdentityPoolId: identity.identityPoolId })),
        sdkError('NotAuthorizedException', 'Unauthenticated access is not supported for this identity pool.'),
      );
    });
  });

  describe('GetOpenIdToken', () => {
    it('returns a 10-minute token for the identity, verifiable with the stand-in JWKS', async () => {
      const { IdentityId } = await getId(mitid.id_token);
      const answer = await client.send(
        new GetOpenIdTokenCommand({ IdentityId, Logins: logins(mitid.id_token) }),
      );
      assert.equal(answer.IdentityId, IdentityId);
      const { payload } = await jwtVerify(
        answer.Token ?? '',
        createRemoteJWKSet(new URL(`${identity.url}/.well-known/jwks_uri`)),
        {
          issuer: identity.openIdIssuer,
          audience: identity.identityPoolId,
        },
      );
      assert.equal(payload.sub, IdentityId);
      assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 600);
      assert.deepEqual(payload.amr, ['authenticated', stack.pool.loginsKey]);
    });
  });

  describe('wire format and call counts', () => {
    it('answers errors as JSON 1.1 {__type, message} with HTTP 400', async () => {
      const response = await fetch(identity.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'AWSCognitoIdentityService.GetId',
        },
        body: JSON.stringify({
          IdentityPoolId: identity.identityPoolId,
          Logins: logins(veteran.access_token),
        }),
      });
      assert.equal(response.status, 400);
      assert.equal(response.headers.get('content-type'), 'application/x-amz-json-1.1');
      assert.deepEqual(await response.json(), {
        __type: 'NotAuthorizedException',
        message: 'Invalid login token. Missing a required claim: aud',
      });
    });

    it('counts calls per operation', async () => {
      identity.resetCalls();
      const { IdentityId } = await getId(veteran.id_token);
      await client.send(
        new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins(veteran.id_token) }),
      );
      await client.send(
        new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins(veteran.id_token) }),
      );
      assert.deepEqual({ ...identity.calls }, { GetId: 1, GetCredentialsForIdentity: 2 });
    });
  });

  describe('faults', () => {
    it('throttles with TooManyRequestsException', async () => {
      identity.setFault({ error: 'TooManyRequestsException' });
      await assert.rejects(getId(veteran.id_token), sdkError('TooManyRequestsException', 'Rate exceeded'));
    });

    it('a throttle for one call is retried by the SDK with its default retries', async () => {
      const retrying = new CognitoIdentityClient({ region: 'us-east-1', endpoint: identity.url });
      try {
        identity.resetCalls();
        identity.setFault({ error: 'TooManyRequestsException', operation: 'GetId', times: 1 });
        const answer = await retrying.send(
          new GetIdCommand({ IdentityPoolId: identity.identityPoolId, Logins: logins(veteran.id_token) }),
        );
        assert.ok(answer.IdentityId);
        assert.equal(identity.calls.GetId, 2);
      } finally {
        retrying.destroy();
      }
    });

    it('answers ResourceNotFoundException on demand', async () => {
      identity.setFault({ error: 'ResourceNotFoundException' });
      await assert.rejects(getId(veteran.id_token), sdkError('ResourceNotFoundException', /not found/));
    });

    it('answers InvalidIdentityPoolConfigurationException for one operation only', async () => {
      const { IdentityId } = await getId(veteran.id_token);
      identity.setFault({
        error: 'InvalidIdentityPoolConfigurationException',
        operation: 'GetCredentialsForIdentity',
      });
      assert.ok((await getId(veteran.id_token)).IdentityId);
      await assert.rejects(
        client.send(new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins(veteran.id_token) })),
        sdkError(
          'InvalidIdentityPoolConfigurationException',
          'Invalid identity pool configuration. Check assigned IAM roles for this pool.',
        ),
      );
    });

    it('answers InvalidIdentityPoolConfigurationException when the pool has no authenticated role', async () => {
      const roleless = await startIdentityPoolStandIn({
        providers: [
          {
            providerName: stack.pool.loginsKey,
            issuer: stack.pool.issuer,
            clientIds: [APP_CLIENT.clientId],
            jwksUri: stack.pool.jwksUri,
          },
        ],
        authenticatedRoleArn: null,
      });
      const rolelessClient = new CognitoIdentityClient({
        region: 'us-east-1',
        endpoint: roleless.url,
        maxAttempts: 1,
      });
      try {
        const { IdentityId } = await rolelessClient.send(
          new GetIdCommand({ IdentityPoolId: roleless.identityPoolId, Logins: logins(veteran.id_token) }),
        );
        await assert.rejects(
          rolelessClient.send(
            new GetCredentialsForIdentityCommand({ IdentityId, Logins: logins(veteran.id_token) }),
          ),
          sdkError('InvalidIdentityPoolConfigurationException'),
        );
      } finally {
        rolelessClient.destroy();
        await roleless.close();
      }
    });

    it('answers late with delayMs', async () => {
      identity.setFault({ delayMs: 150 });
      const started = Date.now();
      assert.ok((await getId(veteran.id_token)).IdentityId);
      assert.ok(Date.now() - started >= 140);
    });
  });

  describe('template settings', () => {
    it('reads the principal tags and the server-side token check from template.yaml', () => {
      const settings = readIdentityPoolTemplate(resolver());
      assert.deepEqual(settings, {
        allowUnauthenticated: false,
        serverSideTokenCheck: true,
        principalTags: {
          idp: 'idp',
          idp_env: 'idp_env',
          assurance: 'assurance_level',
          affiliations: 'affiliation_tags',
        },
      });
    });
  });
});
