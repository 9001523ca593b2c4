// Token minting of the user pool stand-in: two RSA key pairs (ID tokens and access tokens are
// signed with different kids, as in Cognito), RS256 JWTs with Cognito's claim shapes
// (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-the-id-token.html), and refresh tokens shaped like Cognito's (a five-part JWE).

import { createHash, generateKeyPair, type KeyObject, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import {
  CompactEncrypt,
  calculateJwkThumbprint,
  createLocalJWKSet,
  exportJWK,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  jwtVerify,
  SignJWT,
} from 'jose';
import { isCognitoOwnedClaim } from '#broker/claim-rules';
import type { TokenOverrides } from './trigger.ts';

const generateRsa = promisify(generateKeyPair);

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

export interface PoolKeys {
  readonly id: SigningKey;
  readonly access: SigningKey;
  /** Encrypts refresh tokens; never published. */
  readonly refresh: KeyObject;
  readonly jwks: JSONWebKeySet;
}

async function signingKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateRsa('rsa', { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, publicJwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

/** Fresh keys per start: tokens of an earlier run are not accepted by a later one. */
export async function createPoolKeys(): Promise<PoolKeys> {
  const [id, access, refresh] = await Promise.all([
    signingKey(),
    signingKey(),
    generateRsa('rsa', { modulusLength: 2048 }),
  ]);
  // Cognito's JWKS lists the keys as {alg, e, kid, kty, n, use}.
  return { id, access, refresh: refresh.publicKey, jwks: { keys: [id.publicJwk, access.publicJwk] } };
}

function isOwnedClaim(name: string, token: 'id' | 'access', clientId?: string, value?: unknown): boolean {
  // The access token's aud may be set, but only to the app client id.
  if (token === 'access' && name === 'aud') return value !== clientId;
  // The access token's scope changes through scopesToAdd / scopesToSuppress only.
  if (token === 'access' && name === 'scope') return true;
  return isCognitoOwnedClaim(name);
}

/** Attribute values as the ID token carries them: verified flags as booleans, updated_at as a number. */
function tokenValue(name: string, value: string): unknown {
  if (name === 'email_verified' || name === 'phone_number_verified') return value === 'true';
  if (name === 'updated_at' && /^\d+$/.test(value)) return Number(value);
  return value;
}

interface TokenSubject {
  readonly username: string;
  readonly sub: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly groups: readonly string[];
}

export interface TokenRequest {
  readonly issuer: string;
  readonly clientId: string;
  readonly user: TokenSubject;
  /** Scopes granted to the client for this sign-in. */
  readonly scopes: readonly string[];
  /** Attribute names the client may read; undefined for all. */
  readonly readAttributes: ReadonlySet<string> | undefined;
  readonly nonce: string | undefined;
  readonly authTime: number;
  readonly originJti: string;
  readonly eventId: string;
  readonly nowSeconds: number;
  readonly idTokenSeconds: number;
  readonly accessTokenSeconds: number;
  readonly overrides: TokenOverrides;
}

export interface MintedTokens {
  readonly idToken: string | undefined;
  readonly accessToken: string;
}

/** Left half of SHA-256 of the access token, base64url (OpenID Core §3.1.3.6). */
function atHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest().subarray(0, 16).toString('base64url');
}

function applyClaimChanges(
  claims: Record<string, unknown>,
  token: 'id' | 'access',
  changes: { add: Readonly<Record<string, unknown>>; suppress: readonly string[] },
  clientId: string,
): void {
  const suppressed = new Set(changes.suppress);
  for (const name of suppressed) {
    if (!isOwnedClaim(name, token, clientId)) delete claims[name];
  }
  // Suppression wins over add/override.
  for (const [name, value] of Object.entries(changes.add)) {
    if (suppressed.has(name) || isOwnedClaim(name, token, clientId, value)) continue;
    claims[name] = value;
  }
}

function scopeAfter(scopes: readonly string[], overrides: TokenOverrides): string {
  const suppress = new Set(overrides.access.scopesToSuppress);
  const out = scopes.filter((s) => !suppress.has(s));
  for (const scope of overrides.access.scopesToAdd)
    if (!out.includes(scope) && !suppress.has(scope)) out.push(scope);
  return out.join(' ');
}

/** Mints the access token and, when `openid` was granted, the ID token. */
export async function mintTokens(keys: PoolKeys, request: TokenRequest): Promise<MintedTokens> {
  const { user, overrides } = request;
  const groups =
    overrides.groups === undefined
      ? { groups: [...user.groups], roles: [], preferredRole: null }
      : overrides.groups;
  const common = { iat: request.nowSeconds, auth_time: request.authTime, jti: randomUUID() };

  const access: Record<string, unknown> = {
    sub: user.sub,
    ...(groups && groups.groups.length > 0 ? { 'cognito:groups': [...groups.groups] } : {}),
    iss: request.issuer,
    version: 2,
    client_id: request.clientId,
    origin_jti: request.originJti,
    event_id: request.eventId,
    token_use: 'access',
    scope: scopeAfter(request.scopes, overrides),
    auth_time: common.auth_time,
    exp: request.nowSeconds + request.accessTokenSeconds,
    iat: common.iat,
    jti: common.jti,
    username: user.username,
  };
  applyClaimChanges(access, 'access', overrides.access, request.clientId);
  const accessToken = await sign(access, keys.access);
  if (!request.scopes.includes('openid')) return { idToken: undefined, accessToken };

  const attributeClaims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(user.attributes)) {
    if (name === 'sub' || name === 'identities' || name.startsWith('cognito:')) continue;
    if (request.readAttributes !== undefined && !request.readAttributes.has(name)) continue;
    attributeClaims[name] = tokenValue(name, value);
  }
  const id: Record<string, unknown> = {
    at_hash: atHash(accessToken),
    sub: user.sub,
    ...(groups && groups.groups.length > 0 ? { 'cognito:groups': [...groups.groups] } : {}),
    ...(groups && groups.roles.length > 0 ? { 'cognito:roles': [...groups.roles] } : {}),
    ...(groups?.preferredRole ? { 'cognito:preferred_role': groups.preferredRole } : {}),
    iss: request.issuer,
    'cognito:username': user.username,
    ...(request.nonce === undefined ? {} : { nonce: request.nonce }),
    origin_jti: request.originJti,
    aud: request.clientId,
    identities: parseIdentities(user.attributes.identities),
    event_id: request.eventId,
    token_use: 'id',
    auth_time: common.auth_time,
    exp: request.nowSeconds + request.idTokenSeconds,
    iat: common.iat,
    jti: randomUUID(),
    ...attributeClaims,
  };
  applyClaimChanges(id, 'id', overrides.id, request.clientId);
  return { idToken: await sign(id, keys.id), accessToken };
}

function parseIdentities(value: string | undefined): unknown[] {
  try {
    const parsed: unknown = JSON.parse(value ?? '[]');
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [];
  }
}

async function sign(claims: Record<string, unknown>, key: SigningKey): Promise<string> {
  return new SignJWT(claims as JWTPayload)
    .setProtectedHeader({ kid: key.kid, alg: 'RS256' })
    .sign(key.privateKey);
}

/**
 * An opaque refresh token shaped like Cognito's (compact JWE, RSA-OAEP / A256GCM, `cty: JWT`). The
 * stand-in looks refresh tokens up by value; the payload only carries a random id.
 */
export async function mintRefreshToken(keys: PoolKeys): Promise<string> {
  const payload = new TextEncoder().encode(JSON.stringify({ id: randomUUID() }));
  return new CompactEncrypt(payload)
    .setProtectedHeader({ cty: 'JWT', enc: 'A256GCM', alg: 'RSA-OAEP' })
    .encrypt(keys.refresh);
}

/**
 * Verifies an access token of this pool (signature, issuer, expiry, `token_use`).
 *
 * @returns the claims, or undefined when the token is not a valid access token.
 */
export async function verifyAccessToken(
  keys: PoolKeys,
  token: string,
  issuer: string,
  nowMs: number,
): Promise<JWTPayload | undefined> {
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(keys.jwks), {
      issuer,
      algorithms: ['RS256'],
      currentDate: new Date(nowMs),
    });
    return payload.token_use === 'access' ? payload : undefined;
  } catch {
    return undefined;
  }
}
