/**
 * Realistic artifacts shared by the tests and the benchmarks (one source): an HTTP API payload 2.0
 * event, a Cognito user-pool ID token's claims for an ID.me user, the canonical claims the trigger adds,
 * and a refresh token shaped like Cognito's (a five-part JWE of Cognito's size).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { CompactEncrypt, generateKeyPair, type JWTPayload } from 'jose';
import type { CanonicalClaims } from '#broker';

/** An HTTP API payload-format 2.0 event with overrides. */
export function apiEvent(
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    cookies?: string[];
    query?: Record<string, string>;
    /** The query exactly as sent (duplicates, odd encodings); overrides `query` for rawQueryString. */
    rawQueryString?: string;
    body?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/credentials';
  const query = options.query ?? {};
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: options.rawQueryString ?? new URLSearchParams(query).toString(),
    ...(options.cookies ? { cookies: options.cookies } : {}),
    headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'req-test-1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: false,
  };
}

/** Claims shaped like a Cognito ID token for a user federated from ID.me. */
export function cognitoIdClaimsFor(
  pool: { issuer: string; clientId: string; userPoolId: string },
  now = Math.floor(Date.now() / 1000),
): JWTPayload {
  return {
    sub: '44e8b438-a061-70ca-faa7-3d3e93c015cb',
    aud: pool.clientId,
    iss: pool.issuer,
    token_use: 'id',
    auth_time: now,
    iat: now,
    exp: now + 3600,
    'cognito:username': 'IDmeSandbox_6400bbf301eb4e6e95ccea7693eced6f',
    'cognito:groups': [`${pool.userPoolId}_IDmeSandbox`],
    identities: [
      {
        userId: '6400bbf301eb4e6e95ccea7693eced6f',
        providerName: 'IDmeSandbox',
        providerType: 'OIDC',
        issuer: null,
        primary: 'true',
        dateCreated: String(now * 1000),
      },
    ],
    origin_jti: randomUUID(),
    jti: randomUUID(),
    event_id: randomUUID(),
    idp: 'idme',
  };
}

/** Canonical claims as the pre-token-generation trigger adds them for an ID.me veteran (fb-1). */
export const canonicalIdmeClaims: CanonicalClaims = {
  idp: 'idme',
  idp_env: 'sandbox',
  idp_sub: '6400bbf301eb4e6e95ccea7693eced6f',
  given_name: 'GARY',
  family_name: 'TWINKLE',
  name: 'GARY TWINKLE',
  birthdate: '1970-10-10',
  email: 'Gary.Twinkle@example.com',
  email_verified: false,
  assurance: { ial: 'IAL2', aal: 'AAL2', source_acr: 'classic_loa3' },
  assurance_level: 'IAL2',
  affiliations: ['military:retiree', 'military:veteran'],
  affiliation_tags: 'military:retiree military:veteran',
  claims_schema: 'fb-1',
};

let refreshKey: Promise<CryptoKey> | undefined;

/** A refresh token like Cognito's: an RSA-OAEP/A256GCM JWE of ~1.78 KB. */
export async function realisticRefreshToken(): Promise<string> {
  refreshKey ??= generateKeyPair('RSA-OAEP', { modulusLength: 2048 }).then((k) => k.publicKey);
  return new CompactEncrypt(randomBytes(1010))
    .setProtectedHeader({ cty: 'JWT', enc: 'A256GCM', alg: 'RSA-OAEP' })
    .encrypt(await refreshKey);
}

/**
 * The signed-in user of events/session/signed-in.json (scripts/sample-events.ts seals it): an ID.me
 * sandbox veteran of its own (not one of the stand-in's sign-in identities). GET /auth/session runs
 * the refresh_token grant, so a user pool must know this refresh token: the offline stack's user-pool
 * stand-in holds this user and token from the start (local/stack.ts), the unit tests' fake pool is told.
 * Local only: nothing deployed knows it.
 */
export const sampleSession = {
  sub: '0f3a1c2e-5b6d-4e7f-8a9b-0c1d2e3f4a5b',
  refreshToken: 'sample-refresh-token-of-events-session-signed-in',
  provider: 'IDmeSandbox',
  /** The claims ID.me sent at its sign-in (ID.me's names, as the stand-in sends them). */
  idpClaims: {
    sub: '0f3a1c2e5b6d4e7f8a9b0c1d2e3f4a5b',
    uuid: '0f3a1c2e5b6d4e7f8a9b0c1d2e3f4a5b',
    fname: 'SAMPLE',
    lname: 'VETERAN',
    email: 'sample.veteran@example.com',
    level_of_assurance: 3,
    credential_ial: 'classic_loa3',
    credential_aal: 2,
    multifactor: true,
    status: [{ group: 'military', subgroups: ['Veteran'], verified: true }],
  },
  /** The refresh token's end, as the cookie's (2100-01-01). */
  expiresAt: Date.parse('2100-01-01T00:00:00Z'),
} as const;
