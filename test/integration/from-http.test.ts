/**
 * The AWS SDK's own `fromHttp` credential provider, pointed at /credentials over real HTTP on
 * loopback, served by the template-driven local API. Cognito Identity is a canned JSON 1.1 responder
 * on loopback (COGNITO_IDENTITY_ENDPOINT), so the function's own client is exercised over HTTP too.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { type LocalApi, startLocalApi } from '../../local/api.ts';
import { readTemplate, TemplateResolver } from '../../local/template.ts';
import { createTestIssuer, credentialsEnv, type TestIssuer } from '../helpers/tokens.ts';

let api: LocalApi;
let idp: TestIssuer;
let closeJwks: () => void;

/** GetId and GetCredentialsForIdentity as the service answers them (Expiration in epoch seconds). */
const cognitoAnswers: Record<string, unknown> = {
  'AWSCognitoIdentityService.GetId': { IdentityId: 'us-east-1:1234' },
  'AWSCognitoIdentityService.GetCredentialsForIdentity': {
    IdentityId: 'us-east-1:1234',
    Credentials: {
      AccessKeyId: 'ASIALOCALTEST',
      SecretKey: 'secret',
      SessionToken: 'session',
      Expiration: Math.floor(Date.now() / 1000) + 3600,
    },
  },
};

before(async () => {
  const jwksServer = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(idp.jwks));
    void req;
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  const cognito = createServer((req, res) => {
    req.resume();
    const answer = cognitoAnswers[String(req.headers['x-amz-target'])];
    res.writeHead(answer ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(answer ?? { __type: 'UnknownOperationException' }));
  });
  await new Promise<void>((resolve) => cognito.listen(0, '127.0.0.1', resolve));
  const cognitoEndpoint = `http://127.0.0.1:${(cognito.address() as AddressInfo).port}`;
  closeJwks = () => {
    jwksServer.close();
    cognito.close();
  };
  const issuer = `http://localhost:${(jwksServer.address() as AddressInfo).port}/us-east-1_TestPool1`;
  idp = await createTestIssuer({ issuer });
  const resolver = new TemplateResolver(readTemplate(), {
    parameters: {
      HostedUiDomainPrefix: 'local',
      IdmeClientId: 'x',
      IduraDomain: 'localhost',
      IduraClientId: 'y',
    },
  });
  api = await startLocalApi({
    resolver,
    port: 0,
    quiet: true,
    envVars: {
      Parameters: credentialsEnv({ USER_POOL_ISSUER: issuer, COGNITO_IDENTITY_ENDPOINT: cognitoEndpoint }),
    },
  });
});

after(async () => {
  // The servers first: when a function fails to start there is no API, and they must not keep the file alive.
  closeJwks();
  await api?.close();
});

describe('GET /credentials through the SDK fromHttp provider', () => {
  it('returns the identity-pool credentials', async () => {
    const token = await idp.sign();
    const provider = fromHttp({
      awsContainerCredentialsFullUri: `${api.url.replace('localhost', '127.0.0.1')}/credentials`,
      awsContainerAuthorizationToken: `Bearer ${token}`,
    });
    const credentials = await provider();
    assert.equal(credentials.accessKeyId, 'ASIALOCALTEST');
    assert.equal(credentials.secretAccessKey, 'secret');
    assert.equal(credentials.sessionToken, 'session');
    assert.ok(credentials.expiration instanceof Date && credentials.expiration.getTime() > Date.now());
  });

  it('answers 401 with WWW-Authenticate and the error format for a bad token', async () => {
    const response = await fetch(`${api.url}/credentials`, { headers: { authorization: 'Bearer a.b.c' } });
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    assert.equal(response.headers.get('cache-control'), 'no-store');
    const body = (await response.json()) as Record<string, string>;
    assert.equal(body.error, 'malformed_token');
    assert.ok(body.requestId);
  });

  it('answers POST the same way as GET', async () => {
    const response = await fetch(`${api.url}/credentials`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await idp.sign()}` },
    });
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as Record<string, string>).IdentityId, 'us-east-1:1234');
  });

  it('answers 404 for a route the template does not declare', async () => {
    assert.equal((await fetch(`${api.url}/nope`)).status, 404);
  });
});
