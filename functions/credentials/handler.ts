import middy from '@middy/core';
import { audit, reasonOf } from '../shared/auth/audit.ts';
import { clearCookie, cookieSpecs, cookieValues } from '../shared/auth/cookies.ts';
import { checkCookieRequestOrigin } from '../shared/auth/request.ts';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { providerOf, readSession, sealSession } from '../shared/auth/session.ts';
import { credentialsForSession } from '../shared/auth/session-credentials.ts';
import type { TokenEndpoint } from '../shared/auth/token-endpoint.ts';
import { createIdentityClient, type IdentityClient } from '../shared/clients.ts';
import { parseCredentialsConfig, parseSessionConfig } from '../shared/config.ts';
import { createCredentialsCaches, issueCredentials, toCredentialsResponse } from '../shared/credentials.ts';
import { BadRequestError, BrokerError, UnauthenticatedError } from '../shared/errors.ts';
import {
  errorResponses,
  type HttpEvent,
  type HttpResult,
  header,
  json,
  middyOptions,
  requestIdOf,
} from '../shared/http.ts';
import { log } from '../shared/log.ts';
import { createIdTokenVerifier, type FetchLike } from '../shared/oidc/verify.ts';

const config = parseCredentialsConfig(process.env);
/** Session support (cookie instead of bearer token); undefined when the sign-in variables are unset. */
const sessionConfig = parseSessionConfig(process.env);

/** The ID token from `Authorization: Bearer <token>`. */
export function bearerToken(event: HttpEvent): string {
  const value = header(event, 'authorization');
  if (value === undefined || value.trim() === '') {
    throw new UnauthenticatedError(
      sessionConfig === undefined
        ? 'Send the ID token as "Authorization: Bearer <ID token>"'
        : 'Send the ID token as "Authorization: Bearer <ID token>", or sign in at /auth/login for a session',
    );
  }
  const match = /^Bearer +([A-Za-z0-9_.~+/=-]+)\s*$/i.exec(value);
  if (!match?.[1]) {
    throw new BadRequestError('The Authorization header must be "Bearer <ID token>"', {
      code: 'invalid_request',
    });
  }
  return match[1];
}

export interface CredentialsHandlerDeps {
  identityClient: IdentityClient;
  fetch: FetchLike;
  secrets: AuthSecrets | undefined;
  /** Epoch milliseconds. */
  now: () => number;
}

/** The handler with its collaborators; tests pass their own, `handler` uses the container's. */
export function createHandler(deps: Partial<CredentialsHandlerDeps> = {}) {
  const identityClient =
    deps.identityClient ??
    createIdentityClient({
      region: config.region,
      endpoint: config.cognitoIdentityEndpoint,
      timeoutMs: config.upstreamTimeoutMs,
    });
  const now = deps.now ?? Date.now;
  // Without an injected fetch, keys are fetched over node:https (see upstream-http.ts).
  const verifier = createIdTokenVerifier(config, deps.fetch);
  const caches = createCredentialsCaches();
  const issue = (idToken: string) =>
    issueCredentials(idToken, {
      identityClient,
      verifier,
      identityPoolId: config.identityPoolId,
      caches,
      now,
    });

  const sessions = sessionConfig && {
    config: sessionConfig,
    specs: cookieSpecs(sessionConfig),
    secrets: deps.secrets ?? createAuthSecrets(sessionConfig),
  };
  // The token-endpoint client (oauth4webapi) is loaded by the first session request: bearer
  // requests, most of the traffic, never need it.
  let tokenEndpoint: Promise<TokenEndpoint> | undefined;
  const tokenEndpointFor = (s: NonNullable<typeof sessions>) => {
    tokenEndpoint ??= import('../shared/auth/token-endpoint.ts').then(({ createTokenEndpoint }) =>
      createTokenEndpoint(s.config, {
        clientSecret: () => s.secrets.clientSecret(),
        fetch: deps.fetch ?? fetch,
      }),
    );
    return tokenEndpoint;
  };

  /** Bearer requests: unchanged behaviour. */
  const withBearer = async (event: HttpEvent, requestId: string): Promise<HttpResult> => {
    const issued = await issue(bearerToken(event));
    audit(log, 'credentials', 'success', {
      identityId: issued.identityId,
      provider: providerOf(issued.claims),
      reason: issued.cached ? 'cached' : undefined,
      via: 'bearer',
      requestId,
    });
    return json(200, toCredentialsResponse(issued));
  };

  /** Session requests: same-site only; the refresh_token grant first (it also proves the session still stands). */
  const withSession = async (event: HttpEvent, requestId: string): Promise<HttpResult> => {
    if (sessions === undefined) throw new Error('unreachable');
    const clear = clearCookie(sessions.specs.session);
    checkCookieRequestOrigin(event, sessions.config);
    const nowSeconds = Math.floor(now() / 1000);
    const keyring = await sessions.secrets.cookieKeyring();
    const read = await readSession(event, keyring, sessions.specs.session, nowSeconds);
    if (read.session === undefined) {
      throw new UnauthenticatedError(
        read.rejected === 'expired'
          ? 'The session has ended; sign in again at /auth/login'
          : 'The session cookie is not valid (altered, or from a retired key); sign in again at /auth/login',
        {
          code: read.rejected === 'expired' ? 'session_expired' : 'session_invalid',
          headers: { 'Set-Cookie': clear },
        },
      );
    }
    let result: Awaited<ReturnType<typeof credentialsForSession>>;
    try {
      result = await credentialsForSession(read.session, {
        tokenEndpoint: await tokenEndpointFor(sessions),
        issue,
        log,
        requestId,
      });
    } catch (error) {
      // A session that can no longer refresh is over: remove the cookie with the 401.
      if (error instanceof BrokerError && error.statusCode === 401) error.headers['Set-Cookie'] = clear;
      throw error;
    }
    const cookies =
      result.session === read.session
        ? []
        : [(await sealSession(result.session, keyring, sessions.specs.session, nowSeconds)).setCookie];
    audit(log, 'credentials', 'success', {
      identityId: result.issued.identityId,
      provider: read.session.provider,
      reason: result.issued.cached ? 'cached' : undefined,
      via: 'session',
      requestId,
    });
    return { ...json(200, toCredentialsResponse(result.issued)), ...(cookies.length ? { cookies } : {}) };
  };

  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(errorResponses(log))
    .handler(async (event, context) => {
      const requestId = requestIdOf(event, context);
      // A bearer token wins; the session cookie is used only when no Authorization header is sent.
      const viaSession =
        sessions !== undefined &&
        header(event, 'authorization') === undefined &&
        cookieValues(event, sessions.specs.session.name).some((v) => v !== '');
      try {
        return viaSession ? await withSession(event, requestId) : await withBearer(event, requestId);
      } catch (error) {
        audit(log, 'credentials', 'failure', {
          reason: reasonOf(error),
          via: viaSession ? 'session' : 'bearer',
          requestId,
        });
        throw error;
      }
    });
}

export const handler = createHandler();
