import { type HandlerDeps, withDefaults } from '../shared/auth/handler-deps.ts';
import { signOut } from '../shared/auth/logout.ts';
import { acceptsHtml, redirect } from '../shared/auth/request.ts';
import { createTokenEndpoint } from '../shared/auth/token-endpoint.ts';
import { httpHandler, json } from '../shared/http.ts';
import type { LogoutFunctionConfig } from './config.ts';

export type LogoutHandlerDeps = HandlerDeps<LogoutFunctionConfig>;

/**
 * POST /auth/logout: revokes the refresh token and clears the cookies. A form post (Accept: text/html)
 * is sent on to Cognito's /logout with 303; fetch callers get `{ signedOut, revoked, logoutUrl }` and
 * navigate there themselves.
 */
export function createHandler(deps: LogoutHandlerDeps) {
  const { config, log, secrets, fetch, now } = withDefaults(deps);
  const tokenEndpoint = createTokenEndpoint(config, { clientSecret: () => secrets.clientSecret(), fetch });
  return httpHandler(log, async (event) => {
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
