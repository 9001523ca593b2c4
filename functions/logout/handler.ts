import middy from '@middy/core';
import { signOut } from '../shared/auth/logout.ts';
import { acceptsHtml, redirect } from '../shared/auth/request.ts';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { createTokenEndpoint } from '../shared/auth/token-endpoint.ts';
import { parseAuthConfig } from '../shared/config.ts';
import {
  errorResponses,
  type HttpEvent,
  type HttpResult,
  json,
  middyOptions,
  requestIdOf,
} from '../shared/http.ts';
import { log } from '../shared/log.ts';
import type { FetchLike } from '../shared/oidc/verify.ts';

/**
 * POST /auth/logout: revokes the refresh token and clears the cookies. A form post (Accept: text/html)
 * is sent on to Cognito's /logout with 303; fetch callers get `{ signedOut, revoked, logoutUrl }` and
 * navigate there themselves.
 */
const config = parseAuthConfig(process.env, { clientSecret: true });

export interface LogoutHandlerDeps {
  secrets: AuthSecrets;
  fetch: FetchLike;
  /** Epoch milliseconds. */
  now: () => number;
}

/** The handler with its collaborators; tests pass their own, `handler` uses the container's. */
export function createHandler(deps: Partial<LogoutHandlerDeps> = {}) {
  const secrets = deps.secrets ?? createAuthSecrets(config);
  const now = deps.now ?? Date.now;
  const tokenEndpoint = createTokenEndpoint(config, {
    clientSecret: () => secrets.clientSecret(),
    fetch: deps.fetch ?? fetch,
  });
  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(errorResponses(log))
    .handler(async (event, context) => {
      const result = await signOut(event, {
        config,
        keyring: await secrets.cookieKeyring(),
        tokenEndpoint,
        nowSeconds: Math.floor(now() / 1000),
        log,
        requestId: requestIdOf(event, context),
      });
      if (acceptsHtml(event)) {
        return redirect(result.logoutUrl, {
          https: config.secureCookies,
          cookies: result.cookies,
          status: 303,
        });
      }
      return {
        ...json(200, { signedOut: true, revoked: result.revoked, logoutUrl: result.logoutUrl }),
        cookies: result.cookies,
      };
    });
}

export const handler = createHandler();
