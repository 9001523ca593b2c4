import middy from '@middy/core';
import { completeLogin } from '../shared/auth/callback.ts';
import { callbackErrorResponses, renderCallbackOutcome } from '../shared/auth/callback-errors.ts';
import { clearCookie, cookieSpecs } from '../shared/auth/cookies.ts';
import { defaultReturnTo } from '../shared/auth/login.ts';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { createTokenEndpoint } from '../shared/auth/token-endpoint.ts';
import { BoundedCache } from '../shared/bounded-cache.ts';
import { type IdentityClient, identityClientFor } from '../shared/clients.ts';
import { type HttpEvent, type HttpResult, invocationLog, middyOptions, requestIdOf } from '../shared/http.ts';
import { log as containerLog, type Logger } from '../shared/log.ts';
import { createIdTokenVerifier } from '../shared/oidc/verify.ts';
import type { FetchLike } from '../shared/upstream-http.ts';
import type { CallbackFunctionConfig } from './config.ts';

export interface CallbackHandlerDeps {
  config: CallbackFunctionConfig;
  /** Default: the container's logger. */
  log?: Logger;
  secrets?: AuthSecrets;
  fetch?: FetchLike;
  identityClient?: IdentityClient;
  /** Epoch milliseconds. */
  now?: () => number;
}

/** GET /auth/callback: Cognito's redirect after sign-in; sets the session and sends the browser on. */
export function createHandler({
  config,
  log = containerLog,
  fetch = globalThis.fetch,
  now = Date.now,
  ...deps
}: CallbackHandlerDeps) {
  const secrets = deps.secrets ?? createAuthSecrets(config);
  const tokenEndpoint = createTokenEndpoint(config, { clientSecret: () => secrets.clientSecret(), fetch });
  const verifier = createIdTokenVerifier(config, fetch);
  const identityClient = deps.identityClient ?? identityClientFor(config);
  const usedStates = new BoundedCache<string, true>(10_000);
  const page = {
    startOver: defaultReturnTo(config),
    clearLoginState: clearCookie(cookieSpecs(config).loginState),
    https: config.secureCookies,
  };

  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(invocationLog(log))
    .use(callbackErrorResponses(log, page))
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
      });
      return renderCallbackOutcome(outcome, event, { ...page, requestId });
    });
}
