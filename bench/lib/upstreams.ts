/**
 * What the functions talk to during a cold-start run, answered on loopback: the user pool's JWKS and
 * OAuth endpoints (/oauth2/token for the code and refresh_token grants, /oauth2/revoke), Secrets
 * Manager's GetSecretValue (the functions' secrets, as deployed), and the Cognito identity pool
 * stand-in (local/cognito/identity-pool.ts, which counts calls per operation).
 * Tokens are real: RS256 ID tokens shaped like Cognito's for a federated ID.me user (with the
 * canonical claims the trigger adds) and refresh tokens of Cognito's size.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
  sign,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import type { JWK } from 'jose';
import { type IdentityPoolStandIn, startIdentityPoolStandIn } from '../../local/cognito/identity-pool.ts';
import { canonicalIdmeClaims, cognitoIdClaimsFor, realisticRefreshToken } from '../../local/fixtures.ts';
import { closeServer, listen } from '../../local/net.ts';

const benchRegion = 'us-east-1';
const benchPoolId = 'us-east-1_BenchPool1';
export const benchClientId = 'benchclient0123456789abcdef';
const benchClientSecret = 'bench-client-secret-0123456789';
export const benchIdentityPoolId = 'us-east-1:0b3e5c1a-1111-4222-8333-444455556666';
export const benchFrontend = 'http://localhost:5173';
export const benchCookieKeys = { current: 'k1', k1: 'bench-cookie-key-0123456789abcdefghijklmnop' };
const benchSecretIds = {
  client: 'federation-broker/bench-client',
  cookies: 'federation-broker/bench-cookies',
};

const signAsync = promisify(sign);

/** An RS256 signer with a published JWKS; signs with node:crypto so thousands of tokens take seconds. */
export interface BenchSigner {
  readonly issuer: string;
  readonly kid: string;
  readonly jwks: { keys: JWK[] };
  readonly privateKeyPem: string;
  /** A Cognito-shaped ID token for `sub` (a new user each time unless given). */
  idToken(overrides?: Record<string, unknown>): Promise<string>;
}

export function createSigner(issuer: string, key?: { privateKeyPem: string; kid: string }): BenchSigner {
  const privateKey: KeyObject = key
    ? createPrivateKey(key.privateKeyPem)
    : generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const kid = key?.kid ?? randomUUID();
  const jwk = { ...createPublicKey(privateKey).export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const header = Buffer.from(JSON.stringify({ kid, alg: 'RS256' })).toString('base64url');
  return {
    issuer,
    kid,
    jwks: { keys: [jwk as JWK] },
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    async idToken(overrides = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        ...cognitoIdClaimsFor({ issuer, clientId: benchClientId, userPoolId: benchPoolId }, now),
        ...canonicalIdmeClaims,
        at_hash: randomUUID().replaceAll('-', '').slice(0, 22),
        ...overrides,
      };
      const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
      const signature = await signAsync('sha256', Buffer.from(input), privateKey);
      return `${input}.${signature.toString('base64url')}`;
    },
  };
}

/** Claims for a distinct user: the identity pool and the broker's caches key on `sub`. */
export function userClaims(n: number): Record<string, unknown> {
  const hex = n.toString(16).padStart(12, '0');
  return {
    sub: `44e8b438-a061-70ca-faa7-${hex}`,
    'cognito:username': `IDmeSandbox_${hex.padStart(32, '0')}`,
    idp_sub: hex.padStart(32, '0'),
  };
}

export interface Upstreams {
  /** Base URL of the local user pool (issuer is `<url>/<pool id>`, the hosted-UI domain is `<url>`). */
  readonly url: string;
  readonly signer: BenchSigner;
  readonly identityPool: IdentityPoolStandIn;
  /** Requests to /oauth2/token and /oauth2/revoke, by grant or path. */
  readonly oauthCalls: Record<string, number>;
  /** Requests to the JWKS. */
  jwksCalls: number;
  /** GetSecretValue requests. */
  secretsCalls: number;
  /** The refresh token every session in this run carries. */
  readonly refreshToken: string;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

/**
 * Starts the local user pool endpoints and the identity pool stand-in. The authorization code is
 * `<nonce>` base64url-encoded, so the ID token of a code exchange carries the nonce of that sign-in.
 */
export async function startUpstreams(): Promise<Upstreams> {
  const server = createServer();
  const port = await listen(server, 0, '127.0.0.1', 'bench user pool');
  const url = `http://127.0.0.1:${port}`;
  const issuer = `${url}/${benchPoolId}`;
  const signer = createSigner(issuer);
  const refreshToken = await realisticRefreshToken();
  const oauthCalls: Record<string, number> = {};
  const state = { jwksCalls: 0, secretsCalls: 0 };
  const secrets: Record<string, string> = {
    [benchSecretIds.client]: JSON.stringify({ client_secret: benchClientSecret }),
    [benchSecretIds.cookies]: JSON.stringify(benchCookieKeys),
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', url).pathname;
    if (req.method === 'GET' && path === `/${benchPoolId}/.well-known/jwks.json`) {
      state.jwksCalls += 1;
      sendJson(res, 200, signer.jwks);
      return;
    }
    if (
      req.method === 'POST' &&
      path === '/' &&
      req.headers['x-amz-target'] === 'secretsmanager.GetSecretValue'
    ) {
      state.secretsCalls += 1;
      void readBody(req).then((text) => {
        const id = String((JSON.parse(text) as { SecretId?: unknown }).SecretId);
        const value = secrets[id];
        if (value === undefined) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'not found' }));
          return;
        }
        res.writeHead(200, {
          'content-type': 'application/x-amz-json-1.1',
          'x-amzn-requestid': randomUUID(),
        });
        res.end(
          JSON.stringify({
            ARN: `arn:aws:secretsmanager:${benchRegion}:123456789012:secret:${id}-AbCdEf`,
            Name: id,
            SecretString: value,
            VersionId: randomUUID(),
            VersionStages: ['AWSCURRENT'],
            CreatedDate: 1_700_000_000,
          }),
        );
      });
      return;
    }
    if (req.method === 'POST' && (path === '/oauth2/token' || path === '/oauth2/revoke')) {
      void readBody(req).then(async (text) => {
        const form = new URLSearchParams(text);
        const what = path === '/oauth2/revoke' ? 'revoke' : (form.get('grant_type') ?? 'unknown');
        oauthCalls[what] = (oauthCalls[what] ?? 0) + 1;
        if (what === 'revoke') {
          res.writeHead(200).end();
          return;
        }
        const code = form.get('code');
        const nonce = code ? Buffer.from(code, 'base64url').toString('utf8') : undefined;
        sendJson(res, 200, {
          id_token: await signer.idToken(nonce ? { nonce } : {}),
          access_token: `access.${randomUUID()}`,
          ...(what === 'authorization_code' ? { refresh_token: refreshToken } : {}),
          token_type: 'Bearer',
          expires_in: 3600,
        });
      });
      return;
    }
    sendJson(res, 404, { error: 'not_found' });
  });
  const identityPool = await startIdentityPoolStandIn({
    region: benchRegion,
    identityPoolId: benchIdentityPoolId,
    publicHost: '127.0.0.1',
    providers: [
      {
        providerName: issuer.replace(/^https?:\/\//, ''),
        issuer,
        clientIds: [benchClientId],
        jwksUri: `${issuer}/.well-known/jwks.json`,
      },
    ],
  });
  return {
    url,
    signer,
    identityPool,
    oauthCalls,
    get jwksCalls() {
      return state.jwksCalls;
    },
    set jwksCalls(value: number) {
      state.jwksCalls = value;
    },
    get secretsCalls() {
      return state.secretsCalls;
    },
    set secretsCalls(value: number) {
      state.secretsCalls = value;
    },
    refreshToken,
    async close() {
      await identityPool.close();
      await closeServer(server);
    },
  };
}

/**
 * The environment of a function as deployed (template.yaml's variables, secrets read from Secrets
 * Manager with the credentials Lambda puts in the environment), pointed at the local upstreams.
 */
export function deployedEnv(upstreams: Pick<Upstreams, 'url' | 'identityPool'>): Record<string, string> {
  const { USER_POOL_CLIENT_SECRET: _secret, COOKIE_KEYS: _keys, ...env } = functionEnv(upstreams);
  return {
    ...env,
    CLIENT_SECRET_ID: benchSecretIds.client,
    COOKIE_KEYS_SECRET_ID: benchSecretIds.cookies,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: upstreams.url,
    AWS_ACCESS_KEY_ID: 'ASIABENCHBENCHBENCH1',
    AWS_SECRET_ACCESS_KEY: 'benchSecretAccessKey0000000000000000000000',
    AWS_SESSION_TOKEN: 'IQoJb3JpZ2luX2VjEBench'.padEnd(800, 'A'),
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  };
}

/** The environment of a function with plain local secrets (the offline stack's way). */
export function functionEnv(
  upstreams: Pick<Upstreams, 'url' | 'identityPool'>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    AWS_REGION: benchRegion,
    USER_POOL_ID: benchPoolId,
    USER_POOL_CLIENT_ID: benchClientId,
    USER_POOL_ISSUER: `${upstreams.url}/${benchPoolId}`,
    IDENTITY_POOL_ID: benchIdentityPoolId,
    COGNITO_IDENTITY_ENDPOINT: upstreams.identityPool.url,
    ALLOWED_ORIGINS: benchFrontend,
    COGNITO_DOMAIN_URL: upstreams.url,
    PUBLIC_BASE_URL: 'http://localhost:3000',
    USER_POOL_CLIENT_SECRET: benchClientSecret,
    COOKIE_KEYS: JSON.stringify(benchCookieKeys),
    IDENTITY_PROVIDERS: 'IDmeSandbox,IduraTest',
    LOG_LEVEL: 'info',
    ...extra,
  };
}
