/**
 * A hostile OpenID provider for the security tests, served over HTTP on loopback with its own keys
 * and claims, in the spirit of the OpenID Foundation's relying-party conformance modules: the tests
 * point the broker at it (USER_POOL_ISSUER and COGNITO_DOMAIN_URL for a user pool that misbehaves)
 * and make it sign whatever they want.
 *
 * Two issuers share one server:
 * - `poolIssuer` (`<url>/pool`) plays the Cognito user pool: JWKS at `/.well-known/jwks.json` with two
 *   RSA keys, and the hosted-UI endpoints at `<url>/oauth2/token` and `/oauth2/revoke`, whose answers
 *   the test decides (`tokenResponder`).
 * - `oidcIssuer` (`<url>/oidc`) plays another OpenID provider (found through discovery, one RSA key),
 *   which the broker must not trust: bearer tokens are user-pool ID tokens only.
 *
 * Besides well-formed tokens it makes the classic hostile ones: `alg: none`, HMAC keyed with the
 * public key, a key the provider does not publish, tokens without `kid`, embedded `jwk`/`jku` headers.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload } from 'jose';

export type KeyName = 'a' | 'b' | 'oidc' | 'rogue' | 'ec';

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
  publicPem: string;
}

export interface TokenRequest {
  grantType: string | null;
  form: URLSearchParams;
  authorization: string | undefined;
}

/** The JSON body (and status) the hostile token endpoint answers with. */
export interface TokenAnswer {
  status?: number;
  body: Record<string, unknown>;
}

export interface SignOptions {
  /** Which key signs; `a` (published by the pool) unless set. */
  key?: KeyName;
  /** Header fields over `{ alg, kid }`; `kid: undefined` drops the key id. */
  header?: Record<string, unknown>;
}

export interface HostileProvider {
  url: string;
  poolIssuer: string;
  oidcIssuer: string;
  /** The broker's app client id (the `aud` of well-formed pool tokens). */
  clientId: string;
  /** The client id the direct provider issues tokens to. */
  oidcClientId: string;
  keys: Readonly<Record<KeyName, SigningKey>>;
  /** Claims of a well-formed Cognito-style ID token from the pool, with `overrides` applied (undefined deletes). */
  poolClaims(overrides?: Record<string, unknown>): JWTPayload;
  /** Claims of a well-formed ID token from the direct provider. */
  oidcClaims(overrides?: Record<string, unknown>): JWTPayload;
  sign(claims: JWTPayload, options?: SignOptions): Promise<string>;
  /** `alg: none`, no signature. */
  unsigned(claims: JWTPayload): string;
  /** HS256 keyed with the PEM of a published public key (the classic RS256 → HS256 confusion). */
  hmacWithPublicKey(claims: JWTPayload, key?: KeyName): string;
  /** Answers POST /oauth2/token; the default issues well-formed pool tokens (nonce from `nextNonce`). */
  tokenResponder: (request: TokenRequest) => Promise<TokenAnswer> | TokenAnswer;
  /** The nonce the default responder puts in the next code-exchange ID token. */
  nextNonce: string | undefined;
  /** A refresh token in Cognito's shape (a five-part compact JWE-like string). */
  refreshToken: string;
  /** The JWKS answers 503 while true. */
  jwksDown: boolean;
  /** Requests per route name: token, revoke, poolJwks, oidcDiscovery, oidcJwks, notFound. */
  calls: Record<string, number>;
  /** Every token request, in order. */
  tokenRequests: TokenRequest[];
  defaultResponder(request: TokenRequest): Promise<TokenAnswer>;
  close(): Promise<void>;
}

async function signingKey(alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return {
    kid,
    alg,
    privateKey,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    publicPem: await exportSPKI(publicKey),
  };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function withOverrides(base: JWTPayload, overrides: Record<string, unknown>): JWTPayload {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out as JWTPayload;
}

export async function startHostileProvider(options: { clientId: string }): Promise<HostileProvider> {
  const keys: Record<KeyName, SigningKey> = {
    a: await signingKey('RS256'),
    b: await signingKey('RS256'),
    oidc: await signingKey('RS256'),
    rogue: await signingKey('RS256'),
    ec: await signingKey('ES256'),
  };
  const calls: Record<string, number> = {};
  const tokenRequests: TokenRequest[] = [];
  const count = (name: string) => {
    calls[name] = (calls[name] ?? 0) + 1;
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://localhost:${(server.address() as AddressInfo).port}`;
  const poolIssuer = `${url}/pool`;
  const oidcIssuer = `${url}/oidc`;

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', url).pathname;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (path === '/pool/.well-known/jwks.json') {
      count('poolJwks');
      if (provider.jwksDown) return send(res, 503, { message: 'unavailable' });
      return send(res, 200, { keys: [keys.a.publicJwk, keys.b.publicJwk] });
    }
    if (path === '/pool/.well-known/openid-configuration') {
      return send(res, 200, {
        issuer: poolIssuer,
        jwks_uri: `${poolIssuer}/.well-known/jwks.json`,
        token_endpoint: `${url}/oauth2/token`,
      });
    }
    if (path === '/oidc/.well-known/openid-configuration') {
      count('oidcDiscovery');
      return send(res, 200, { issuer: oidcIssuer, jwks_uri: `${oidcIssuer}/jwks` });
    }
    if (path === '/oidc/jwks') {
      count('oidcJwks');
      if (provider.jwksDown) return send(res, 503, { message: 'unavailable' });
      return send(res, 200, { keys: [keys.oidc.publicJwk] });
    }
    if (req.method === 'POST' && path === '/oauth2/token') {
      count('token');
      const form = new URLSearchParams(text);
      const request = {
        grantType: form.get('grant_type'),
        form,
        authorization: req.headers.authorization,
      };
      tokenRequests.push(request);
      const answer = await provider.tokenResponder(request);
      return send(res, answer.status ?? 200, answer.body);
    }
    if (req.method === 'POST' && path === '/oauth2/revoke') {
      count('revoke');
      res.writeHead(200).end();
      return;
    }
    count('notFound');
    send(res, 404, { message: 'not found' });
  }

  const refreshToken = [
    b64({ cty: 'JWT', enc: 'A256GCM', alg: 'RSA-OAEP' }),
    randomBytes(256).toString('base64url'),
    randomBytes(12).toString('base64url'),
    randomBytes(600).toString('base64url'),
    randomBytes(16).toString('base64url'),
  ].join('.');

  const provider: HostileProvider = {
    url,
    poolIssuer,
    oidcIssuer,
    clientId: options.clientId,
    oidcClientId: 'hostile-rp',
    keys,
    poolClaims(overrides = {}) {
      const now = Math.floor(Date.now() / 1000);
      return withOverrides(
        {
          sub: '0b1d2e3f-4a5b-4c6d-8e7f-901a2b3c4d5e',
          aud: options.clientId,
          iss: poolIssuer,
          token_use: 'id',
          auth_time: now,
          iat: now,
          exp: now + 3600,
          'cognito:username': 'IDmeSandbox_hostile',
          identities: [{ providerName: 'IDmeSandbox', providerType: 'OIDC', primary: 'true', userId: 'x' }],
          idp: 'idme',
          idp_env: 'sandbox',
          assurance_level: 'IAL2',
          claims_schema: 'fb-1',
          jti: randomUUID(),
          origin_jti: randomUUID(),
        },
        overrides,
      );
    },
    oidcClaims(overrides = {}) {
      const now = Math.floor(Date.now() / 1000);
      return withOverrides(
        { sub: 'direct-user-1', aud: 'hostile-rp', iss: oidcIssuer, iat: now, exp: now + 600 },
        overrides,
      );
    },
    async sign(claims, signOptions = {}) {
      const key = keys[signOptions.key ?? 'a'];
      const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, ...signOptions.header };
      for (const [name, value] of Object.entries(header)) if (value === undefined) delete header[name];
      // Signed by hand rather than with SignJWT: jose refuses to sign headers it would not accept
      // (an unknown `crit`), and a hostile provider sends exactly those.
      const input = `${b64(header)}.${b64(claims)}`;
      const algorithm =
        key.alg === 'RS256' ? { name: 'RSASSA-PKCS1-v1_5' } : { name: 'ECDSA', hash: 'SHA-256' };
      const signature = await crypto.subtle.sign(algorithm, key.privateKey, Buffer.from(input));
      return `${input}.${Buffer.from(signature).toString('base64url')}`;
    },
    unsigned(claims) {
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    },
    hmacWithPublicKey(claims, key = 'a') {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: keys[key].kid })}.${b64(claims)}`;
      const mac = createHmac('sha256', keys[key].publicPem).update(input).digest('base64url');
      return `${input}.${mac}`;
    },
    nextNonce: undefined,
    refreshToken,
    jwksDown: false,
    calls,
    tokenRequests,
    async defaultResponder(request) {
      const nonce = request.grantType === 'authorization_code' ? provider.nextNonce : undefined;
      const claims = provider.poolClaims(nonce === undefined ? {} : { nonce });
      return {
        body: {
          id_token: await provider.sign(claims),
          access_token: await provider.sign(
            provider.poolClaims({ token_use: 'access', aud: undefined, client_id: options.clientId }),
          ),
          ...(request.grantType === 'authorization_code' ? { refresh_token: refreshToken } : {}),
          token_type: 'Bearer',
          expires_in: 3600,
        },
      };
    },
    tokenResponder: (request) => provider.defaultResponder(request),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return provider;
}
