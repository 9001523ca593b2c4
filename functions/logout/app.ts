import middy from '@middy/core';
import { signOut } from '../shared/auth/logout.ts';
import { acceptsHtml, redirect } from '../shared/auth/request.ts';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { createTokenEndpoint } from '../shared/auth/token-endpoint.ts';
import {
  errorResponses,
  type HttpEvent,
  type HttpResult,
  invocationLog,
  json,
  middyOptions,
} from '../shared/http.ts';
import { log as containerLog, type Logger } from '../shared/log.ts';
import type { FetchLike } from '../shared/upstream-http.ts';
import type { LogoutFunctionConfig } from './config.ts';

export interface LogoutHandlerDeps {
  config: LogoutFunctionConfig;
  /** Default: the container's logger. */
  log?: Logger;
  secrets?: AuthSecrets;
  fetch?: FetchLike;
  /** Epoch milliseconds. */
  now?: () => number;
}

/**
 * POST /auth/logout: revokes the refresh token and clears the cookies. A form post (Accept: text/html)
 * is sent on to Cognito's /logout with 303; fetch callers get `{ signedOut, revoked, logoutUrl }` and
 * navigate there themselves.
 */
export function createHandler({
  config,
  log = containerLog,
  fetch = globalThis.fetch,
  now = Date.now,
  ...deps
}: LogoutHandlerDeps) {
  const secrets = deps.secrets ?? createAuthSecrets(config);
  const tokenEndpoint = createTokenEndpoint(config, { clientSecret: () => secrets.clientSecret(), fetch });
  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(invocationLog(log))
    .use(errorResponses(log))
    .handler(async (event) => {
      const result = await signOut(event, {
        config,
        keyring: await secrets.cookieKeyring(),
        tokenEndpoint,
        nowSeconds: Math.floor(now() / 1000),
        log,
      });
      const { logoutUrl, revoked, cookies } = result;
      return acceptsHtml(event)
        ? redirect(logoutUrl, { https: config.secureCookies, cookies, status: 303 })
        : { ...json(200, { signedOut: true, revoked, logoutUrl }), cookies };
    });
}
