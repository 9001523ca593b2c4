import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GetIdCommand } from '@aws-sdk/client-cognito-identity';
import { createIdentityClient } from '../../../functions/shared/clients.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';
import { getCredentialsForIdentity, getIdentityId } from '../../../functions/shared/identity-pool.ts';
import {
  type UpstreamRequest,
  type UpstreamResponse,
  upstreamRequest,
} from '../../../functions/shared/upstream-http.ts';

const input = {
  identityPoolId: 'us-east-1:0a1b2c3d-1111-2222-3333-444455556666',
  loginsKey: 'issuer',
  idToken: 't',
};

/** A transport answering from a list, recording what was sent. */
function scripted(answers: Array<UpstreamResponse | Error>) {
  const sent: Array<{ url: string; request: UpstreamRequest }> = [];
  const transport = async (url: string, request: UpstreamRequest) => {
    sent.push({ url, request });
    const answer = answers.shift();
    if (answer === undefined) throw new Error('no more answers');
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { sent, transport };
}

const ok = (body: unknown): UpstreamResponse => ({ status: 200, headers: {}, body: JSON.stringify(body) });
const networkError = (code: string) => Object.assign(new Error(code), { code });

async function rejectsWith(promise: Promise<unknown>, code: string, status: number) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BrokerError, String(error));
    assert.deepEqual([error.code, error.statusCode], [code, status]);
    return true;
  });
}

describe('createIdentityClient (Cognito Identity over JSON 1.1)', () => {
  it('sends GetId to the regional endpoint as the service expects it', async () => {
    const { sent, transport } = scripted([ok({ IdentityId: 'us-east-1:abc' })]);
    const client = createIdentityClient({ region: 'eu-west-1', timeoutMs: 1_000, transport });
    const out = await client.send(new GetIdCommand({ IdentityPoolId: 'eu-west-1:p', Logins: { k: 'tok' } }));
    assert.equal(out.IdentityId, 'us-east-1:abc');
    assert.equal(sent[0]?.url, 'https://cognito-identity.eu-west-1.amazonaws.com/');
    assert.equal(sent[0]?.request.method, 'POST');
    assert.equal(sent[0]?.request.headers['x-amz-target'], 'AWSCognitoIdentityService.GetId');
    assert.equal(sent[0]?.request.headers['content-type'], 'application/x-amz-json-1.1');
    assert.deepEqual(JSON.parse(sent[0]?.request.body ?? ''), {
      IdentityPoolId: 'eu-west-1:p',
      Logins: { k: 'tok' },
    });
  });

  it('gives GetCredentialsForIdentity its Expiration as a Date, as the SDK does', async () => {
    const expiration = Math.floor(Date.now() / 1000) + 3600;
    const { transport } = scripted([
      ok({
        IdentityId: 'i',
        Credentials: { AccessKeyId: 'A', SecretKey: 'S', SessionToken: 'T', Expiration: expiration },
      }),
    ]);
    const client = createIdentityClient({ region: 'us-east-1', timeoutMs: 1_000, transport });
    const credentials = await getCredentialsForIdentity(client, 'i', input);
    assert.deepEqual(credentials.expiration, new Date(expiration * 1000));
  });

  it('names errors by their Cognito type, from the header or the body, so they translate as before', async () => {
    const { transport } = scripted([
      {
        status: 400,
        headers: { 'x-amzn-errortype': 'NotAuthorizedException:http://internal.amazon.com/coral/' },
        body: JSON.stringify({ message: 'Token expired' }),
      },
      {
        status: 400,
        headers: {},
        body: JSON.stringify({
          __type: 'com.amazonaws.cognitoidentity#TooManyRequestsException',
          message: 'Rate',
        }),
      },
      {
        status: 400,
        headers: {},
        body: JSON.stringify({
          __type: 'com.amazonaws.cognitoidentity#TooManyRequestsException',
          message: 'Rate',
        }),
      },
    ]);
    const client = createIdentityClient({
      region: 'us-east-1',
      timeoutMs: 1_000,
      transport,
      pause: async () => {},
    });
    await rejectsWith(getIdentityId(client, input), 'token_expired', 401);
    await rejectsWith(getIdentityId(client, input), 'throttled', 429);
  });

  it('retries once after a dropped connection, a 5xx or throttling (the SDK decision), never after a refusal', async () => {
    const pause = async () => {};
    const retried = scripted([networkError('ECONNRESET'), ok({ IdentityId: 'a' })]);
    const client = createIdentityClient({
      region: 'us-east-1',
      timeoutMs: 1_000,
      transport: retried.transport,
      pause,
    });
    assert.equal(await getIdentityId(client, input), 'a');
    const server = scripted([
      { status: 500, headers: {}, body: '' },
      { status: 503, headers: {}, body: '' },
    ]);
    const failing = createIdentityClient({
      region: 'us-east-1',
      timeoutMs: 1_000,
      transport: server.transport,
      pause,
    });
    await rejectsWith(getIdentityId(failing, input), 'upstream_error', 502);
    assert.equal(server.sent.length, 2);
    const refused = scripted([
      { status: 400, headers: {}, body: JSON.stringify({ __type: 'NotAuthorizedException', message: 'no' }) },
    ]);
    const once = createIdentityClient({
      region: 'us-east-1',
      timeoutMs: 1_000,
      transport: refused.transport,
      pause,
    });
    await rejectsWith(getIdentityId(once, input), 'not_authorized', 401);
    assert.equal(refused.sent.length, 1);
  });

  it('refuses commands it does not implement', async () => {
    const client = createIdentityClient({
      region: 'us-east-1',
      timeoutMs: 1_000,
      transport: scripted([]).transport,
    });
    await assert.rejects(client.send({} as never), /GetId and GetCredentialsForIdentity only/);
  });
});

describe('upstreamRequest (node:http/https with timeouts)', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return;
      if (req.url === '/big') {
        res.end('x'.repeat(2_000));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reads the whole answer', async () => {
    const response = await upstreamRequest(`${url}/`, {
      method: 'POST',
      headers: {},
      body: '{}',
      timeoutMs: 1_000,
    });
    assert.equal(response.status, 200);
    assert.deepEqual(JSON.parse(response.body), { method: 'POST' });
  });

  it('gives up with a TimeoutError when the upstream does not answer in time', async () => {
    await assert.rejects(upstreamRequest(`${url}/hang`, { method: 'GET', headers: {}, timeoutMs: 150 }), {
      name: 'TimeoutError',
    });
  });

  it('a hanging identity pool becomes 504 upstream_timeout', async () => {
    const client = createIdentityClient({ region: 'us-east-1', endpoint: `${url}/hang`, timeoutMs: 150 });
    await rejectsWith(getIdentityId(client, input), 'upstream_timeout', 504);
    client.destroy();
  });

  it('refuses an answer larger than allowed', async () => {
    await assert.rejects(
      upstreamRequest(`${url}/big`, { method: 'GET', headers: {}, timeoutMs: 1_000, maxBytes: 1_000 }),
      /more than 1000 bytes/,
    );
  });
});
