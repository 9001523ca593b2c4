import type { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import middy from '@middy/core';
import { completeLogin } from '../shared/auth/callback.ts';
import { callbackErrorResponses, renderCallbackProblem, wantsJson } from '../shared/auth/callback-errors.ts';
import { clearCookie, cookieSpecs } from '../shared/auth/cookies.ts';
import { defaultReturnTo } from '../shared/auth/login.ts';
import { redirect } from '../shared/auth/request.ts';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { createTokenEndpoint } from '../shared/auth/token-endpoint.ts';
import { BoundedCache } from '../shared/bounded-cache.ts';
import { createIdentityClient } from '../shared/clients.ts';
import { parseAuthConfig } from '../shared/config.ts';
import { type HttpEvent, type HttpResult, middyOptions, requestIdOf } from '../shared/http.ts';
import { log } from '../shared/log.ts';
import { createIdTokenVerifier, type FetchLike } from '../shared/oidc/verify.ts';

/** GET /auth/callback: Cognito's redirect after sign-in; sets the session and sends the browser on. */
const config = parseAuthConfig(process.env, { clientSecret: true });

export interface CallbackHandlerDeps {
  secrets: AuthSecrets;
  fetch: FetchLike;
  identityClient: CognitoIdentityClient | undefined;
  /** Epoch milliseconds. */
  now: () => number;
}

/** The handler with its collaborators; tests pass their own, `handler` uses the container's. */
export function createHandler(deps: Partial<CallbackHandlerDeps> = {}) {
  const secrets = deps.secrets ?? createAuthSecrets(config);
  const fetchImpl = deps.fetch ?? fetch;
  const now = deps.now ?? Date.now;
  const verifier = createIdTokenVerifier(config, fetchImpl);
  const tokenEndpoint = createTokenEndpoint(config, {
    clientSecret: () => secrets.clientSecret(),
    fetch: fetchImpl,
  });
  const identityClient =
    'identityClient' in deps
      ? deps.identityClient
      : config.identityPoolId === undefined
        ? undefined
        : createIdentityClient({
            region: config.region,
            endpoint: config.cognitoIdentityEndpoint,
            timeoutMs: config.upstreamTimeoutMs,
          });
  const usedStates = new BoundedCache<string, true>(10_000);
  const startOver = defaultReturnTo(config);
  const clearLoginState = clearCookie(cookieSpecs(config).loginState);

  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(callbackErrorResponses(log, { startOver, clearLoginState, https: config.secureCookies }))
    .handler(async (event, context) => {
      const requestId = requestIdOf(event, context);
      const outcome = await completeLogin(event, {
        config,
        keyring: await secrets.cookieKeyring(),
        tokenEndpoint,
        verifier,
        usedStates,
        identityClient,
        nowSeconds: Math.floor(now() / 1000),
        log,
        requestId,
      });
      if (outcome.kind === 'signed-in') {
        return redirect(outcome.location, { https: config.secureCookies, cookies: outcome.cookies });
      }
      return renderCallbackProblem(outcome.problem, {
        json: wantsJson(event),
        requestId,
        startOver: outcome.startOver ?? startOver,
        cookies: outcome.cookies,
        cognitoError: outcome.cognitoError,
        cognitoDescription: outcome.cognitoDescription,
        https: config.secureCookies,
      });
    });
}

export const handler = createHandler();
