// The back-end endpoints of the hosted-UI domain: `/oauth2/token` (authorization_code and
// refresh_token with client authentication), `/oauth2/userInfo` and `/oauth2/revoke`
// (https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html, userinfo-endpoint.html, revocation-endpoint.html).

import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignInError, type StoredUser } from './attributes.ts';
import { basicCredentials, bearerToken, readForm, sendJson } from './http.ts';
import {
  type AppClient,
  applyFault,
  type PoolRuntime,
  prune,
  runTrigger,
  safeEqual,
  seconds,
} from './runtime.ts';
import { mintRefreshToken, mintTokens, verifyAccessToken } from './tokens.ts';
import type { TokenOverrides } from './trigger.ts';

// ------------------------------------------------------------------ token endpoint

class TokenError extends Error {
  readonly status: number;
  readonly error: string;
  readonly description: string | undefined;

  constructor(error: string, options: { status?: number; description?: string } = {}) {
    super(error);
    this.error = error;
    this.status = options.status ?? 400;
    this.description = options.description;
  }
}

/**
 * Client authentication by Basic header or client_secret_post. Cognito documents 400 for
 * invalid_client at the token endpoint and 401 at the revoke endpoint.
 */
function authenticateClient(
  runtime: PoolRuntime,
  req: IncomingMessage,
  form: URLSearchParams,
  status: number,
): AppClient {
  const basic = basicCredentials(req.headers.authorization);
  const bodyId = form.get('client_id') ?? undefined;
  const bodySecret = form.get('client_secret') ?? undefined;
  if (basic === 'malformed' || (basic !== undefined && bodyId !== undefined && bodyId !== basic.id)) {
    throw new TokenError('invalid_client', { status });
  }
  const client = runtime.clients.get(basic?.id ?? bodyId ?? '');
  if (client === undefined) throw new TokenError('invalid_client', { status });
  const secret = basic?.secret ?? bodySecret;
  if (client.clientSecret === undefined) {
    // A secret (or Basic header) for a public client: invalid_client (unconfirmed).
    if (secret !== undefined && secret !== '') throw new TokenError('invalid_client', { status });
  } else if (secret === undefined || !safeEqual(secret, client.clientSecret)) {
    throw new TokenError('invalid_client', { status });
  }
  return client;
}

async function issueTokens(
  runtime: PoolRuntime,
  client: AppClient,
  user: StoredUser,
  grant: {
    scopes: readonly string[];
    nonce: string | undefined;
    authTime: number;
    eventId: string;
    originJti: string;
    overrides: TokenOverrides;
  },
): Promise<{ id_token?: string; access_token: string }> {
  const { idToken, accessToken } = await mintTokens(runtime.keys, {
    issuer: runtime.issuer,
    clientId: client.clientId,
    user,
    scopes: grant.scopes,
    readAttributes: client.settings.readAttributes,
    nonce: grant.nonce,
    authTime: grant.authTime,
    originJti: grant.originJti,
    eventId: grant.eventId,
    nowSeconds: seconds(runtime.now()),
    idTokenSeconds: client.idTokenSeconds,
    accessTokenSeconds: client.accessTokenSeconds,
    overrides: grant.overrides,
  });
  return { ...(idToken === undefined ? {} : { id_token: idToken }), access_token: accessToken };
}

async function authorizationCodeGrant(
  runtime: PoolRuntime,
  client: AppClient,
  form: URLSearchParams,
): Promise<Record<string, unknown>> {
  const code = form.get('code');
  if (code === null || code === '') throw new TokenError('invalid_request');
  const issued = runtime.codes.get(code);
  if (issued === undefined || issued.client.clientId !== client.clientId)
    throw new TokenError('invalid_grant');
  // Single use: the first presentation by its client consumes the code, whatever follows.
  runtime.codes.delete(code);
  if (issued.expiresAt <= runtime.now()) throw new TokenError('invalid_grant');
  if (form.get('redirect_uri') !== issued.redirectUri) {
    throw new TokenError('unauthorized_client', { description: 'invalid_redirect' });
  }
  if (issued.codeChallenge !== undefined) {
    const verifier = form.get('code_verifier') ?? '';
    const computed = createHash('sha256').update(verifier).digest('base64url');
    if (verifier === '' || !safeEqual(computed, issued.codeChallenge)) throw new TokenError('invalid_grant');
  }
  const user = runtime.users.get(issued.username);
  if (user === undefined || !user.enabled) throw new TokenError('invalid_grant');
  const originJti = randomUUID();
  const tokens = await issueTokens(runtime, client, user, { ...issued, originJti });
  const refreshToken = await mintRefreshToken(runtime.keys);
  const now = runtime.now();
  prune(runtime.refreshTokens, (s) => s.expiresAt <= now);
  runtime.refreshTokens.set(refreshToken, {
    clientId: client.clientId,
    username: user.username,
    scopes: issued.scopes,
    authTime: issued.authTime,
    eventId: issued.eventId,
    originJti,
    expiresAt: now + client.refreshTokenSeconds * 1000,
  });
  return {
    ...tokens,
    refresh_token: refreshToken,
    expires_in: client.accessTokenSeconds,
    token_type: 'Bearer',
  };
}

async function refreshTokenGrant(
  runtime: PoolRuntime,
  client: AppClient,
  form: URLSearchParams,
): Promise<Record<string, unknown>> {
  const token = form.get('refresh_token');
  if (token === null || token === '') throw new TokenError('invalid_request');
  if (!client.settings.allowRefresh) throw new TokenError('unauthorized_client');
  const session = runtime.refreshTokens.get(token);
  if (
    session === undefined ||
    session.clientId !== client.clientId ||
    runtime.revokedOrigins.has(session.originJti) ||
    session.expiresAt <= runtime.now()
  ) {
    throw new TokenError('invalid_grant');
  }
  const user = runtime.users.get(session.username);
  if (user === undefined || !user.enabled) throw new TokenError('invalid_grant');
  let overrides: TokenOverrides;
  try {
    // On refresh the trigger sees the stored attributes (mapped at the last sign-in).
    overrides = await runTrigger(runtime, 'TokenGeneration_RefreshTokens', client, user, session.scopes);
  } catch (error) {
    if (error instanceof SignInError) throw new TokenError(error.error, { description: error.message });
    throw error;
  }
  // A refreshed ID token keeps auth_time and origin_jti and carries no nonce (OpenID Core §12.2);
  // no new refresh token without rotation.
  const tokens = await issueTokens(runtime, client, user, { ...session, nonce: undefined, overrides });
  return { ...tokens, expires_in: client.accessTokenSeconds, token_type: 'Bearer' };
}

export async function tokenEndpoint(
  runtime: PoolRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  // Token answers carry `Access-Control-Allow-Origin: *`.
  const cors = { 'access-control-allow-origin': '*' };
  if (await applyFault(res, runtime.faults.tokenEndpoint)) return;
  try {
    const form = await readForm(req);
    const client = authenticateClient(runtime, req, form, 400);
    const grantType = form.get('grant_type');
    let body: Record<string, unknown>;
    if (grantType === 'authorization_code') body = await authorizationCodeGrant(runtime, client, form);
    else if (grantType === 'refresh_token') body = await refreshTokenGrant(runtime, client, form);
    else if (grantType === null || grantType === '') throw new TokenError('invalid_request');
    else throw new TokenError('unsupported_grant_type');
    sendJson(res, 200, body, cors);
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    sendJson(
      res,
      error.status,
      {
        error: error.error,
        ...(error.description === undefined ? {} : { error_description: error.description }),
      },
      cors,
    );
  }
}

// ------------------------------------------------------------------ userInfo, revoke, logout

const userInfoInvalid =
  'error="invalid_token", error_description="Access token is expired, disabled, or deleted, or the user has globally signed out."';

export async function userInfo(
  runtime: PoolRuntime,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (await applyFault(res, runtime.faults.userInfo)) return;
  const cors = { 'access-control-allow-origin': '*' };
  const token = bearerToken(req.headers.authorization);
  if (token === undefined) {
    res.writeHead(400, {
      ...cors,
      'www-authenticate':
        'error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint"',
    });
    res.end();
    return;
  }
  const claims = await verifyAccessToken(runtime.keys, token, runtime.issuer, runtime.now());
  const user = typeof claims?.username === 'string' ? runtime.users.get(claims.username) : undefined;
  const scopes = String(claims?.scope ?? '').split(' ');
  if (
    claims === undefined ||
    user === undefined ||
    !user.enabled ||
    runtime.revokedOrigins.has(String(claims.origin_jti)) ||
    !scopes.includes('openid')
  ) {
    res.writeHead(401, { ...cors, 'www-authenticate': userInfoInvalid });
    res.end();
    return;
  }
  const client = runtime.clients.get(String(claims.client_id));
  const readable = (name: string): boolean => client?.settings.readAttributes?.has(name) ?? true;
  // Values as stored (strings); which attributes depends on the scopes: email and phone give
  // their pairs, profile every readable attribute.
  const body: Record<string, string> = { sub: user.sub };
  for (const [name, value] of Object.entries(user.attributes)) {
    if (name === 'sub' || name.startsWith('cognito:') || !readable(name)) continue;
    const byScope =
      (scopes.includes('email') && (name === 'email' || name === 'email_verified')) ||
      (scopes.includes('phone') && (name === 'phone_number' || name === 'phone_number_verified')) ||
      scopes.includes('profile');
    if (byScope) body[name] = value;
  }
  body.username = user.username;
  sendJson(res, 200, body, cors);
}

export async function revoke(runtime: PoolRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const form = await readForm(req);
    const token = form.get('token');
    if (token === null || token === '') throw new TokenError('invalid_request');
    const client = authenticateClient(runtime, req, form, 401);
    if (!client.settings.tokenRevocation) throw new TokenError('invalid_request');
    // An ID or access token (a JWS) is not a refresh token.
    if (token.split('.').length === 3) throw new TokenError('unsupported_token_type');
    const session = runtime.refreshTokens.get(token);
    if (session !== undefined && session.clientId === client.clientId) {
      // Revokes the refresh token and every access token minted from it (same origin_jti).
      runtime.revokedOrigins.add(session.originJti);
    }
    // 200 with an empty body, also for a token that was already invalid.
    res.writeHead(200, { 'cache-control': 'no-store' }).end();
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    sendJson(res, error.status, { error: error.error });
  }
}
