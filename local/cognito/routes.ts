// HTTP routes of the user pool stand-in: the hosted-UI domain (`/oauth2/*`, `/login`, `/logout`,
// `/error`) and the pool issuer (`/<userPoolId>/.well-known/*`). Behaviour and error answers follow
// ../shared/reference/cognito-user-pool-oauth.md; where Cognito's exact wording is unknown, the
// comment says so.

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mapClaims, SignInError, type StoredUser, type UserDirectory } from './attributes.ts';
import type { UpstreamClient } from './federation.ts';
import {
  basicCredentials,
  bearerToken,
  clearCookie,
  escapeHtml,
  page,
  parseCookies,
  readForm,
  redirect,
  sendHtml,
  sendJson,
  setCookie,
} from './http.ts';
import type { AppClientTemplate, PoolConfig, ProviderConfig } from './pool-config.ts';
import { mintRefreshToken, mintTokens, type PoolKeys, verifyAccessToken } from './tokens.ts';
import {
  noOverrides,
  preTokenEvent,
  readOverrides,
  type TokenOverrides,
  type TriggerRunner,
  type TriggerSource,
} from './trigger.ts';

export interface AppClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
  readonly settings: AppClientTemplate;
  readonly idTokenSeconds: number;
  readonly accessTokenSeconds: number;
  readonly refreshTokenSeconds: number;
}

export type EndpointFault = 'status500' | 'hang' | { readonly delayMs: number };

export interface UserPoolFaults {
  /** `/oauth2/token` answers 500, never answers, or answers late. */
  readonly tokenEndpoint?: EndpointFault;
  /** The pool's JWKS is unavailable (503), never answers, or answers late. */
  readonly jwks?: 'down' | EndpointFault;
  /** `/oauth2/userInfo` answers 500, never answers, or answers late. */
  readonly userInfo?: EndpointFault;
}

interface PendingFederation {
  readonly client: AppClient;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly scopes: readonly string[];
  readonly codeChallenge: string | undefined;
  readonly provider: ProviderConfig;
  readonly cognitoNonce: string;
  readonly createdAt: number;
}

interface IssuedCode {
  readonly client: AppClient;
  readonly redirectUri: string;
  readonly codeChallenge: string | undefined;
  readonly username: string;
  readonly scopes: readonly string[];
  readonly nonce: string | undefined;
  readonly authTime: number;
  readonly eventId: string;
  readonly overrides: TokenOverrides;
  readonly expiresAt: number;
}

interface RefreshSession {
  readonly clientId: string;
  readonly username: string;
  readonly scopes: readonly string[];
  readonly authTime: number;
  readonly eventId: string;
  readonly originJti: string;
  readonly expiresAt: number;
}

interface HostedSession {
  readonly username: string;
  readonly authTime: number;
  readonly expiresAt: number;
}

/** Everything the routes work on; built by startUserPoolStandIn. */
export interface PoolRuntime {
  readonly url: string;
  readonly issuer: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly config: PoolConfig;
  readonly clients: ReadonlyMap<string, AppClient>;
  readonly upstream: Map<string, UpstreamClient>;
  readonly users: UserDirectory;
  readonly keys: PoolKeys;
  readonly trigger: TriggerRunner | undefined;
  readonly now: () => number;
  readonly log: (message: string, context?: Record<string, unknown>) => void;
  faults: UserPoolFaults;
  readonly calls: Record<string, number>;
  readonly pending: Map<string, PendingFederation>;
  readonly codes: Map<string, IssuedCode>;
  readonly refreshTokens: Map<string, RefreshSession>;
  readonly revokedOrigins: Set<string>;
  readonly sessions: Map<string, HostedSession>;
}

export const SESSION_COOKIE = 'cognito_session';
const CODE_TTL_MS = 5 * 60_000;
/** Cognito abandons federated sign-ins not finished within 5 minutes (§8). */
const FEDERATION_TTL_MS = 5 * 60_000;
/** The hosted UI session cookie lives one hour (§9.5). */
const SESSION_TTL_MS = 60 * 60_000;

const seconds = (ms: number): number => Math.floor(ms / 1000);

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function prune<V>(map: Map<string, V>, isExpired: (value: V) => boolean): void {
  for (const [key, value] of map) if (isExpired(value)) map.delete(key);
}

// ------------------------------------------------------------------ pages

/** Cognito's own error page (the app is not redirected to when client or redirect URI is wrong). */
function errorPage(res: ServerResponse, error: string): void {
  sendHtml(
    res,
    400,
    page(
      'Error',
      `<h1>An error was encountered with the requested page.</h1>
<p data-testid="error">${escapeHtml(error)}</p>`,
    ),
  );
}

function somethingWentWrong(res: ServerResponse, detail: string): void {
  sendHtml(
    res,
    400,
    page(
      'Something went wrong',
      `<h1>Something went wrong</h1><p data-testid="error">${escapeHtml(detail)}</p>`,
    ),
  );
}

function appRedirect(
  res: ServerResponse,
  redirectUri: string,
  params: Record<string, string | undefined>,
  cookies: string[] = [],
): void {
  const url = new URL(redirectUri);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) url.searchParams.set(key, value);
  redirect(res, url, cookies);
}

// ------------------------------------------------------------------ faults

const hang = (): Promise<never> => new Promise<never>(() => {});

/** Applies an endpoint fault; true when the response was already answered (or never will be). */
async function applyFault(res: ServerResponse, fault: EndpointFault | 'down' | undefined): Promise<boolean> {
  if (fault === undefined) return false;
  if (fault === 'hang') return hang();
  if (fault === 'status500') {
    sendJson(res, 500, { error: 'server_error' });
    return true;
  }
  if (fault === 'down') {
    res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
    return true;
  }
  await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
  return false;
}

// ------------------------------------------------------------------ sign-in

function grantedScopes(requested: string | null, client: AppClient): string[] | undefined {
  const allowed = client.settings.allowedScopes;
  // Omitted: every scope enabled on the client. Scopes not enabled are ignored (§3).
  if (requested === null || requested.trim() === '') return [...allowed];
  const granted = requested
    .split(/\s+/)
    .filter((scope, i, all) => scope !== '' && allowed.includes(scope) && all.indexOf(scope) === i);
  return granted.length > 0 ? granted : undefined;
}

function providerFor(
  runtime: PoolRuntime,
  client: AppClient,
  query: URLSearchParams,
): ProviderConfig | undefined {
  const named = query.get('identity_provider');
  const identifier = query.get('idp_identifier');
  const provider =
    named !== null
      ? runtime.config.providers.get(named)
      : [...runtime.config.providers.values()].find(
          (p) => identifier !== null && p.idpIdentifiers.includes(identifier),
        );
  if (provider === undefined || !client.settings.supportedProviders.includes(provider.name)) return undefined;
  return runtime.upstream.has(provider.name) ? provider : undefined;
}

async function runTrigger(
  runtime: PoolRuntime,
  source: TriggerSource,
  client: AppClient,
  user: StoredUser,
  scopes: readonly string[],
): Promise<TokenOverrides> {
  if (runtime.trigger === undefined) return noOverrides;
  const version = runtime.trigger.config.version;
  const event = preTokenEvent({
    version,
    triggerSource: source,
    region: runtime.region,
    userPoolId: runtime.userPoolId,
    clientId: client.clientId,
    user,
    scopes,
  });
  const { overrides, ignored } = readOverrides(version, await runtime.trigger.invoke(event));
  if (ignored.length > 0) runtime.log('trigger claims ignored (value type not allowed)', { claims: ignored });
  return overrides;
}

/** After a federated sign-in (or with a live session): trigger, one-time code, redirect to the app. */
async function completeSignIn(
  runtime: PoolRuntime,
  res: ServerResponse,
  input: {
    client: AppClient;
    redirectUri: string;
    state: string | undefined;
    nonce: string | undefined;
    scopes: readonly string[];
    codeChallenge: string | undefined;
    user: StoredUser;
    authTime: number;
    cookies: string[];
  },
): Promise<void> {
  let overrides: TokenOverrides;
  try {
    overrides = await runTrigger(
      runtime,
      'TokenGeneration_HostedAuth',
      input.client,
      input.user,
      input.scopes,
    );
  } catch (error) {
    if (!(error instanceof SignInError)) throw error;
    runtime.log('sign-in failed in the trigger', { username: input.user.username });
    appRedirect(res, input.redirectUri, {
      error_description: error.message,
      state: input.state,
      error: error.error,
    });
    return;
  }
  const now = runtime.now();
  prune(runtime.codes, (c) => c.expiresAt <= now);
  const code = randomUUID();
  runtime.codes.set(code, {
    client: input.client,
    redirectUri: input.redirectUri,
    codeChallenge: input.codeChallenge,
    username: input.user.username,
    scopes: input.scopes,
    nonce: input.nonce,
    authTime: input.authTime,
    eventId: randomUUID(),
    overrides,
    expiresAt: now + CODE_TTL_MS,
  });
  appRedirect(res, input.redirectUri, { code, state: input.state }, input.cookies);
}

function liveSession(
  runtime: PoolRuntime,
  req: IncomingMessage,
): { id: string; session: HostedSession } | undefined {
  const id = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
  const session = id === undefined ? undefined : runtime.sessions.get(id);
  if (id === undefined || session === undefined) return undefined;
  if (session.expiresAt <= runtime.now() || runtime.users.get(session.username)?.enabled !== true) {
    runtime.sessions.delete(id);
    return undefined;
  }
  return { id, session };
}

interface AuthorizeRequest {
  client: AppClient;
  redirectUri: string;
  state: string | undefined;
  nonce: string | undefined;
  scopes: string[];
  codeChallenge: string | undefined;
}

/**
 * Checks an authorize (or /login) request. Answers the browser itself and returns undefined when
 * the request is refused.
 */
function checkAuthorizeRequest(
  runtime: PoolRuntime,
  res: ServerResponse,
  query: URLSearchParams,
): AuthorizeRequest | undefined {
  const client = runtime.clients.get(query.get('client_id') ?? '');
  if (client === undefined) {
    // The exact error code Cognito's page shows for an unknown client is unconfirmed.
    errorPage(res, 'invalid_request');
    return undefined;
  }
  const redirectUri = query.get('redirect_uri') ?? '';
  if (!client.callbackUrls.includes(redirectUri)) {
    // Exact match, no wildcards; Cognito shows its error page instead of redirecting (§3, §11).
    redirect(
      res,
      `${runtime.url}/error?${new URLSearchParams({ error: 'redirect_mismatch', client_id: client.clientId })}`,
    );
    return undefined;
  }
  const state = query.get('state') ?? undefined;
  const refuse = (error: string): undefined => {
    appRedirect(res, redirectUri, { error, state });
    return undefined;
  };
  const responseType = query.get('response_type');
  if (responseType === null || responseType === '') return refuse('invalid_request');
  if (responseType !== 'code' || !client.settings.allowedFlows.includes('code')) {
    // The stand-in implements the code flow only, as the template's client allows.
    return refuse(
      responseType === 'code' || responseType === 'token' ? 'unauthorized_client' : 'invalid_request',
    );
  }
  const challenge = query.get('code_challenge') ?? undefined;
  const method = query.get('code_challenge_method') ?? undefined;
  // PKCE: S256 only; a challenge needs its method and the reverse (§3).
  if ((challenge === undefined) !== (method === undefined) || (method !== undefined && method !== 'S256')) {
    return refuse('invalid_request');
  }
  const scopes = grantedScopes(query.get('scope'), client);
  if (scopes === undefined) return refuse('invalid_scope');
  return {
    client,
    redirectUri,
    state,
    nonce: query.get('nonce') ?? undefined,
    scopes,
    codeChallenge: challenge,
  };
}

async function authorize(
  runtime: PoolRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const request = checkAuthorizeRequest(runtime, res, query);
  if (request === undefined) return;
  if (query.get('prompt') === 'none') {
    // Silent sign-in with the hosted-UI session, or login_required (§3, unconfirmed).
    const live = liveSession(runtime, req);
    const user = live === undefined ? undefined : runtime.users.get(live.session.username);
    if (live === undefined || user === undefined) {
      appRedirect(res, request.redirectUri, { error: 'login_required', state: request.state });
    } else {
      await completeSignIn(runtime, res, { ...request, user, authTime: live.session.authTime, cookies: [] });
    }
    return;
  }
  if (!query.has('identity_provider') && !query.has('idp_identifier')) {
    // Without a provider Cognito forwards every parameter to its sign-in page.
    redirect(res, `${runtime.url}/login?${query}`);
    return;
  }
  const provider = providerFor(runtime, request.client, query);
  if (provider === undefined) {
    // What the hosted UI shows for a provider name that is unknown (names are case-sensitive) or
    // not enabled on the app client (aws-sdk-android#1808).
    sendHtml(
      res,
      400,
      page(
        'Sign in',
        '<h1>Sign in</h1><p role="alert" data-testid="error">Login option is not available. Please try another one</p>',
      ),
    );
    return;
  }
  const upstream = runtime.upstream.get(provider.name);
  if (upstream === undefined) return;
  const now = runtime.now();
  prune(runtime.pending, (p) => p.createdAt + FEDERATION_TTL_MS <= now);
  const cognitoState = randomUUID();
  const cognitoNonce = randomUUID();
  let target: URL;
  try {
    target = await upstream.authorizeUrl({
      scope: provider.authorizeScopes,
      state: cognitoState,
      nonce: cognitoNonce,
      loginHint: query.get('login_hint') ?? undefined,
      prompt: query.get('prompt') ?? undefined,
    });
  } catch (error) {
    if (!(error instanceof SignInError)) throw error;
    appRedirect(res, request.redirectUri, {
      error_description: error.message,
      state: request.state,
      error: error.error,
    });
    return;
  }
  runtime.pending.set(cognitoState, { ...request, provider, cognitoNonce, createdAt: now });
  redirect(res, target);
}

async function loginPage(
  runtime: PoolRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const request = checkAuthorizeRequest(runtime, res, query);
  if (request === undefined) return;
  const live = liveSession(runtime, req);
  const user = live === undefined ? undefined : runtime.users.get(live.session.username);
  if (live !== undefined && user !== undefined) {
    // A live hosted-UI session signs the user in again without the IdP (§9.5).
    await completeSignIn(runtime, res, { ...request, user, authTime: live.session.authTime, cookies: [] });
    return;
  }
  const providers = request.client.settings.supportedProviders.filter((name) => runtime.upstream.has(name));
  const links = providers
    .map((name) => {
      const target = new URLSearchParams(query);
      target.set('identity_provider', name);
      return `<a class="button" data-testid="provider-${escapeHtml(name)}" href="/oauth2/authorize?${escapeHtml(String(target))}">Sign in with ${escapeHtml(name)}</a>`;
    })
    .join('\n');
  sendHtml(
    res,
    200,
    page(
      'Sign in',
      `<h1>Sign in with your corporate ID</h1>\n${links || '<p>No identity provider is available.</p>'}`,
    ),
  );
}

async function idpResponse(runtime: PoolRuntime, res: ServerResponse, query: URLSearchParams): Promise<void> {
  const state = query.get('state') ?? '';
  const pending = runtime.pending.get(state);
  runtime.pending.delete(state);
  const now = runtime.now();
  if (pending === undefined || pending.createdAt + FEDERATION_TTL_MS <= now) {
    somethingWentWrong(res, 'The sign-in request is unknown or took longer than 5 minutes. Start again.');
    return;
  }
  const back = (error: string, description: string | undefined): void =>
    appRedirect(res, pending.redirectUri, { error_description: description, state: pending.state, error });
  const upstreamError = query.get('error');
  if (upstreamError !== null) {
    // The IdP's refusal (access_denied, invalid_scope, …) is passed on to the app.
    back(upstreamError, query.get('error_description') ?? undefined);
    return;
  }
  const code = query.get('code');
  const upstream = runtime.upstream.get(pending.provider.name);
  if (code === null || upstream === undefined) {
    back('invalid_request', undefined);
    return;
  }
  let user: StoredUser;
  try {
    const claims = await upstream.claimsForCode(code, {
      nonce: pending.cognitoNonce,
      method: pending.provider.attributesRequestMethod,
    });
    const mapped = mapClaims(pending.provider, runtime.config.schema, claims);
    user = runtime.users.upsertFederated({
      provider: pending.provider,
      mapped,
      client: pending.client.settings,
      now: runtime.now(),
    });
  } catch (error) {
    if (!(error instanceof SignInError)) throw error;
    runtime.log('federated sign-in failed', {
      provider: pending.provider.name,
      error: error.error,
      description: error.message,
    });
    back(error.error, error.message);
    return;
  }
  const authTime = seconds(runtime.now());
  const sessionId = randomUUID();
  runtime.sessions.set(sessionId, {
    username: user.username,
    authTime,
    expiresAt: runtime.now() + SESSION_TTL_MS,
  });
  await completeSignIn(runtime, res, {
    ...pending,
    user,
    authTime,
    cookies: [setCookie(SESSION_COOKIE, sessionId, SESSION_TTL_MS / 1000)],
  });
}

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
 * Client authentication by Basic header or client_secret_post (§4). Cognito documents 400 for
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
    // A secret (or Basic header) for a public client: invalid_client (unconfirmed, §11).
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

async function tokenEndpoint(runtime: PoolRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Token answers carry `Access-Control-Allow-Origin: *` (§4).
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

async function userInfo(runtime: PoolRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
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
  // Values as stored (strings); which attributes depends on the scopes (§5): email and phone give
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

async function revoke(runtime: PoolRuntime, req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    // 200 with an empty body, also for a token that was already invalid (§7).
    res.writeHead(200, { 'cache-control': 'no-store' }).end();
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    sendJson(res, error.status, { error: error.error });
  }
}

function logout(
  runtime: PoolRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): void {
  const client = runtime.clients.get(query.get('client_id') ?? '');
  if (client === undefined) {
    errorPage(res, 'invalid_request');
    return;
  }
  const sessionId = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
  const clear = [clearCookie(SESSION_COOKIE)];
  const logoutUri = query.get('logout_uri');
  if (logoutUri !== null) {
    if (!client.logoutUrls.includes(logoutUri)) {
      redirect(
        res,
        `${runtime.url}/error?${new URLSearchParams({ error: 'redirect_mismatch', client_id: client.clientId })}`,
      );
      return;
    }
    if (sessionId !== undefined) runtime.sessions.delete(sessionId);
    redirect(res, logoutUri, clear);
    return;
  }
  const redirectUri = query.get('redirect_uri');
  if (redirectUri === null || !client.callbackUrls.includes(redirectUri) || !query.has('response_type')) {
    redirect(
      res,
      `${runtime.url}/error?${new URLSearchParams({ error: 'redirect_mismatch', client_id: client.clientId })}`,
    );
    return;
  }
  if (sessionId !== undefined) runtime.sessions.delete(sessionId);
  // Signed out, then back through the sign-in page (§6).
  const next = new URLSearchParams();
  for (const name of ['client_id', 'redirect_uri', 'response_type', 'state', 'scope']) {
    const value = query.get(name);
    if (value !== null) next.set(name, value);
  }
  redirect(res, `${runtime.url}/login?${next}`, clear);
}

// ------------------------------------------------------------------ issuer documents

function discovery(runtime: PoolRuntime): Record<string, unknown> {
  return {
    authorization_endpoint: `${runtime.url}/oauth2/authorize`,
    end_session_endpoint: `${runtime.url}/logout`,
    id_token_signing_alg_values_supported: ['RS256'],
    issuer: runtime.issuer,
    jwks_uri: `${runtime.issuer}/.well-known/jwks.json`,
    response_types_supported: ['code', 'token'],
    revocation_endpoint: `${runtime.url}/oauth2/revoke`,
    scopes_supported: ['openid', 'email', 'phone', 'profile'],
    subject_types_supported: ['public'],
    token_endpoint: `${runtime.url}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    userinfo_endpoint: `${runtime.url}/oauth2/userInfo`,
  };
}

// ------------------------------------------------------------------ router

function count(runtime: PoolRuntime, name: string): void {
  runtime.calls[name] = (runtime.calls[name] ?? 0) + 1;
}

/** The request handler of the user pool stand-in. */
export function createRouter(
  runtime: PoolRuntime,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const issuerPath = `/${runtime.userPoolId}`;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', runtime.url);
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /oauth2/authorize':
        count(runtime, 'authorize');
        return authorize(runtime, req, res, url.searchParams);
      case 'GET /login':
        count(runtime, 'login');
        return loginPage(runtime, req, res, url.searchParams);
      case 'GET /oauth2/idpresponse':
        count(runtime, 'idpresponse');
        return idpResponse(runtime, res, url.searchParams);
      case 'POST /oauth2/token':
        count(runtime, 'token');
        return tokenEndpoint(runtime, req, res);
      case 'OPTIONS /oauth2/token':
        res
          .writeHead(204, {
            'access-control-allow-origin': '*',
            'access-control-allow-methods': 'POST',
            'access-control-allow-headers': 'authorization, content-type',
          })
          .end();
        return;
      case 'GET /oauth2/userInfo':
      case 'POST /oauth2/userInfo':
        count(runtime, 'userInfo');
        return userInfo(runtime, req, res);
      case 'POST /oauth2/revoke':
        count(runtime, 'revoke');
        return revoke(runtime, req, res);
      case 'GET /logout':
        count(runtime, 'logout');
        return logout(runtime, req, res, url.searchParams);
      case 'GET /error':
        return errorPage(res, url.searchParams.get('error') ?? 'unknown');
      case `GET ${issuerPath}/.well-known/openid-configuration`:
        count(runtime, 'discovery');
        return sendJson(res, 200, discovery(runtime), { 'cache-control': 'max-age=300' });
      case `GET ${issuerPath}/.well-known/jwks.json`:
        count(runtime, 'jwks');
        if (await applyFault(res, runtime.faults.jwks)) return;
        return sendJson(res, 200, runtime.keys.jwks, { 'cache-control': 'max-age=300' });
      default:
        sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));
    }
  };
}
