// The browser side of the hosted-UI domain: `/oauth2/authorize`, the `/login` page,
// `/oauth2/idpresponse` (federation back from the IdP), `/logout` and Cognito's `/error` page
// (https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html, logout-endpoint.html,
// cognito-user-pools-oidc-flow.html). Where Cognito's wording is unknown, a comment says so.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mapClaims, SignInError, type StoredUser } from './attributes.ts';
import type { UpstreamClient } from './federation.ts';
import { clearCookie, escapeHtml, page, parseCookies, redirect, sendHtml, setCookie } from './http.ts';
import type { ProviderConfig } from './pool-config.ts';
import {
  type AppClient,
  CODE_TTL_MS,
  FEDERATION_TTL_MS,
  type HostedSession,
  type PoolRuntime,
  prune,
  runTrigger,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  seconds,
} from './runtime.ts';
import type { TokenOverrides } from './trigger.ts';

// ------------------------------------------------------------------ pages

/** Cognito's own error page (the app is not redirected to when client or redirect URI is wrong). */
export function errorPage(res: ServerResponse, error: string): void {
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

// ------------------------------------------------------------------ sign-in

function grantedScopes(requested: string | null, client: AppClient): string[] | undefined {
  const allowed = client.settings.allowedScopes;
  // Omitted: every scope enabled on the client. Scopes not enabled are ignored.
  if (requested === null || requested.trim() === '') return [...allowed];
  const granted = requested
    .split(/\s+/)
    .filter((scope, i, all) => scope !== '' && allowed.includes(scope) && all.indexOf(scope) === i);
  return granted.length > 0 ? granted : undefined;
}

/** The provider an authorize request names, when the pool has it, the client may use it and it is reachable. */
function providerFor(
  runtime: PoolRuntime,
  client: AppClient,
  query: URLSearchParams,
): { provider: ProviderConfig; upstream: UpstreamClient } | undefined {
  const named = query.get('identity_provider');
  const identifier = query.get('idp_identifier');
  const provider =
    named !== null
      ? runtime.config.providers.get(named)
      : [...runtime.config.providers.values()].find(
          (p) => identifier !== null && p.idpIdentifiers.includes(identifier),
        );
  if (provider === undefined || !client.settings.supportedProviders.includes(provider.name)) return undefined;
  const upstream = runtime.upstream.get(provider.name);
  return upstream === undefined ? undefined : { provider, upstream };
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
    // Exact match, no wildcards; Cognito shows its error page instead of redirecting.
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
  // PKCE: S256 only; a challenge needs its method and the reverse.
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

export async function authorize(
  runtime: PoolRuntime,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
  const request = checkAuthorizeRequest(runtime, res, query);
  if (request === undefined) return;
  if (query.get('prompt') === 'none') {
    // Silent sign-in with the hosted-UI session, or login_required (unconfirmed).
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
  const target = providerFor(runtime, request.client, query);
  if (target === undefined) {
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
  const { provider, upstream } = target;
  const now = runtime.now();
  prune(runtime.pending, (p) => p.createdAt + FEDERATION_TTL_MS <= now);
  const cognitoState = randomUUID();
  const cognitoNonce = randomUUID();
  let idpAuthorize: URL;
  try {
    idpAuthorize = await upstream.authorizeUrl({
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
  redirect(res, idpAuthorize);
}

export async function loginPage(
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
    // A live hosted-UI session signs the user in again without the IdP.
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

export async function idpResponse(
  runtime: PoolRuntime,
  res: ServerResponse,
  query: URLSearchParams,
): Promise<void> {
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

export function logout(
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
  // Signed out, then back through the sign-in page.
  const next = new URLSearchParams();
  for (const name of ['client_id', 'redirect_uri', 'response_type', 'state', 'scope']) {
    const value = query.get(name);
    if (value !== null) next.set(name, value);
  }
  redirect(res, `${runtime.url}/login?${next}`, clear);
}
