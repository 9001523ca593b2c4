import { completeLogin } from '../shared/auth/callback.ts';
import { callbackErrorResponses, renderCallbackOutcome } from '../shared/auth/callback-errors.ts';
import { clearCookie, cookieSpecs } from '../shared/auth/cookies.ts';
import { type HandlerDeps, withDefaults } from '../shared/auth/handler-deps.ts';
import { defaultReturnTo } from '../shared/auth/login.ts';
import { createTokenEndpoint } from '../shared/auth/token-endpoint.ts';
import { BoundedCache } from '../shared/bounded-cache.ts';
import { type IdentityClient, identityClientFor } from '../shared/clients.ts';
import { httpHandler, requestIdOf } from '../shared/http.ts';
import { createIdTokenVerifier } from '../shared/oidc/verify.ts';
import type { CallbackFunctionConfig } from './config.ts';

export type CallbackHandlerDeps = HandlerDeps<CallbackFunctionConfig> & { identityClient?: IdentityClient };

/** GET /auth/callback: Cognito's redirect after sign-in; sets the session and sends the browser on. */
export function createHandler(deps: CallbackHandlerDeps) {
  const { config, log, secrets, fetch, now } = withDefaults(deps);
  const tokenEndpoint = createTokenEndpoint(config, { clientSecret: () => secrets.clientSecret(), fetch });
  const verifier = createIdTokenVerifier(config, fetch);
  const identityClient = deps.identityClient ?? identityClientFor(config);
  const usedStates = new BoundedCache<string, true>(10_000);
  const page = {
    startOver: defaultReturnTo(config),
    clearLoginState: clearCookie(cookieSpecs(config).loginState),
    https: config.secureCookies,
  };

  return httpHandler(
    log,
    async (event, context) => {
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
    },
    callbackErrorResponses(log, page),
  );
}
