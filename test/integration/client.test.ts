/**
 * The broker client in Node with a real AWS SDK v3 client: STSClient signs GetCallerIdentity with the
 * provider's credentials, and a loopback "STS" verifies the SigV4 signature by re-signing the
 * request (@smithy/signature-v4) with the secret key the broker issued (read off the wire, not
 * from the provider). Credentials come from the offline stack: the identity pool stand-in issues
 * them for an ID token (bearer) or for the session cookie.
 */
import assert from 'node:assert/strict';
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { createBrokerClient, SignInRequiredError } from '../../client/index.ts';
import type { OfflineStack } from '../../local/stack.ts';
import { startEphemeralStack } from '../../local/stack.ts';
import { probeSignIn, redeemCode, targetsFromStack } from '../../tools/doctor/offline.ts';
import { Browser } from '../helpers/web.ts';

interface Issued {
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

/** Access key id → what the broker sent, recorded by wrapping the client's fetch. */
const issued = new Map<string, Issued>();
const verdicts: string[] = [];

function recordingFetch(inner: typeof fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await inner(input, init);
    if (String(input).endsWith('/credentials') && response.ok) {
      const body = (await response.clone().json()) as Record<string, string>;
      issued.set(body.AccessKeyId ?? '', {
        secretAccessKey: body.SecretAccessKey ?? '',
        sessionToken: body.Token ?? '',
      });
    }
    return response;
  }) as typeof fetch;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Why the request's SigV4 signature is wrong, or undefined when it checks out. */
async function checkSignature(req: IncomingMessage, body: string): Promise<string | undefined> {
  const auth =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      req.headers.authorization ?? '',
    );
  if (auth === null) return 'no SigV4 Authorization header';
  const [, accessKeyId = '', , region = '', service = '', signedHeaders = '', signature = ''] = auth;
  const secret = issued.get(accessKeyId);
  if (secret === undefined) return `access key ${accessKeyId} was never issued`;
  if (req.headers['x-amz-security-token'] !== secret.sessionToken) return 'wrong session token';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  const signingDate = new Date(
    amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) headers[name] = String(req.headers[name] ?? '');
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: secret.secretAccessKey, sessionToken: secret.sessionToken },
    region,
    service,
    sha256: Hash.bind(null, 'sha256'),
  });
  const resigned = await signer.sign(
    {
      method: req.method ?? 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
      body,
    },
    { signingDate },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(resigned.headers.authorization))?.[1] ?? '';
  return expected.length === signature.length &&
    timingSafeEqual(Buffer.from(expected), Buffer.from(signature))
    ? undefined
    : 'SignatureDoesNotMatch';
}

let stack: OfflineStack;
let sts: Server;
let stsUrl: string;

before(async () => {
  stack = await startEphemeralStack();
  sts = createServer(async (req, res) => {
    const body = await readAll(req);
    const problem = await checkSignature(req, body);
    verdicts.push(problem ?? 'ok');
    res.setHeader('content-type', 'text/xml');
    if (problem !== undefined) {
      res.statusCode = 403;
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>${problem}</Message></Error><RequestId>r</RequestId></ErrorResponse>`,
      );
      return;
    }
    const key = /Credential=([^/]+)/.exec(req.headers.authorization ?? '')?.[1];
    res.end(
      `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:sts::123456789012:assumed-role/offline/${key}</Arn><UserId>AROAOFFLINE:${key}</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  });
  await new Promise<void>((resolve) => sts.listen(0, '127.0.0.1', resolve));
  stsUrl = `http://127.0.0.1:${(sts.address() as AddressInfo).port}`;
});

after(async () => {
  sts?.closeAllConnections();
  await new Promise((resolve) => sts?.close(resolve));
  await stack?.close();
});

/** A user-pool ID token for a test identity: the hosted UI's code flow, then /oauth2/token. */
async function idTokenFor(provider: string): Promise<string> {
  const outcome = await probeSignIn(targetsFromStack(stack), provider, { fetch, timeoutMs: 10_000 });
  assert.equal(outcome.kind, 'code', JSON.stringify(outcome));
  const { idToken, status } = await redeemCode(
    targetsFromStack(stack),
    outcome.kind === 'code' ? outcome.code : '',
    {
      fetch,
      timeoutMs: 10_000,
    },
  );
  assert.ok(idToken, `the token endpoint answered ${status}`);
  return idToken;
}

/** A Node broker client for a bearer token, counting its requests to the broker. */
function countingBroker(token: string) {
  let requests = 0;
  const broker = createBrokerClient({
    baseUrl: stack.api.url,
    idToken: async () => token,
    fetch: recordingFetch(async (input, init) => {
      requests += 1;
      return fetch(input, init);
    }),
  });
  return { broker, requests: () => requests };
}

function stsWith(credentials: AwsCredentialIdentityProvider): STSClient {
  return new STSClient({ region: 'us-east-1', endpoint: stsUrl, credentials, maxAttempts: 1 });
}

describe('brokerCredentials with the AWS SDK (Node, bearer)', () => {
  it('STSClient signs GetCallerIdentity with the issued credentials, and the signature verifies', async () => {
    const { broker, requests } = countingBroker(await idTokenFor('IDmeSandbox'));
    const client = stsWith(broker.credentials);
    const first = await client.send(new GetCallerIdentityCommand({}));
    const second = await client.send(new GetCallerIdentityCommand({}));
    const { accessKeyId } = await broker.credentials();
    assert.equal(first.Arn, `arn:aws:sts::123456789012:assumed-role/offline/${accessKeyId}`);
    assert.equal(second.Arn, first.Arn);
    assert.match(accessKeyId, /^ASIALOCAL/);
    assert.equal(
      requests(),
      1,
      'the SDK and the app share one broker request while the credentials are fresh',
    );
    assert.deepEqual(verdicts.slice(-2), ['ok', 'ok']);
  });

  it('the verifier refuses a signature made with another secret (it really checks)', async () => {
    const token = await idTokenFor('IduraTest');
    const broker = createBrokerClient({
      baseUrl: stack.api.url,
      idToken: async () => token,
      fetch: recordingFetch(fetch),
    });
    const real = await broker.credentials();
    const forged: AwsCredentialIdentityProvider = async () => ({
      ...real,
      secretAccessKey: `${real.secretAccessKey}x`,
    });
    await assert.rejects(stsWith(forged).send(new GetCallerIdentityCommand({})), {
      name: 'SignatureDoesNotMatch',
    });
    assert.equal(verdicts.at(-1), 'SignatureDoesNotMatch');
  });

  it('ten concurrent SDK calls from a cold provider cost one broker request', async () => {
    const { broker, requests } = countingBroker(await idTokenFor('IDmeSandbox'));
    const client = stsWith(broker.credentials);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => client.send(new GetCallerIdentityCommand({}))),
    );
    assert.equal(new Set(answers.map((a) => a.Arn)).size, 1);
    assert.equal(requests(), 1);
  });
});

describe('brokerCredentials with the session cookie (Node, a cookie-keeping fetch)', () => {
  it('signs with credentials for the session, then asks for sign-in again after sign-out', async () => {
    const browser = new Browser();
    await browser.navigate(`${stack.api.url}/auth/login?provider=IduraTest&return_to=/`, {
      identity: 'mitid',
      stopAt: stack.api.url,
    });
    const broker = createBrokerClient({
      baseUrl: stack.api.url,
      fetch: recordingFetch((input, init) => browser.request(String(input), init ?? {})),
    });
    const session = await broker.session();
    assert.equal(session.signedIn, true);
    const answer = await stsWith(broker.credentials).send(new GetCallerIdentityCommand({}));
    assert.equal(verdicts.at(-1), 'ok');
    assert.match(answer.Arn ?? '', /assumed-role\/offline\/ASIALOCAL/);

    // A copy of the cookie taken before sign-out stops working once the refresh token is revoked.
    const copyOf = () => {
      const copy = new Browser();
      for (const [name, cookie] of browser.cookies) copy.cookies.set(name, cookie);
      return createBrokerClient({
        baseUrl: stack.api.url,
        fetch: (input, init) => copy.request(String(input), init ?? {}),
      });
    };
    const [sessionCopy, afterSignOut] = [copyOf(), copyOf()];
    // The client learns the provider (for loginUrl) from a session it saw signed in.
    assert.equal((await afterSignOut.session()).signedIn, true);
    await broker.signOut();
    // /auth/session confirms the session with the refresh grant: the copy shows nothing.
    assert.equal((await sessionCopy.session()).signedIn, false);
    const error = await afterSignOut.credentials().then(
      () => assert.fail('credentials after sign-out'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof SignInRequiredError, String(error));
    assert.equal(error.code, 'session_expired');
    assert.equal(error.loginUrl, `${stack.api.url}/auth/login?provider=IduraTest&return_to=%2F`);
  });
});
