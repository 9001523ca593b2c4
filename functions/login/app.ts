import { type HandlerDeps, withDefaults } from '../shared/auth/handler-deps.ts';
import { parseLoginRequest, startLogin } from '../shared/auth/login.ts';
import { redirect } from '../shared/auth/request.ts';
import { httpHandler } from '../shared/http.ts';
import type { LoginFunctionConfig } from './config.ts';

export type LoginHandlerDeps = Omit<HandlerDeps<LoginFunctionConfig>, 'fetch'>;

/** GET /auth/login?provider=<name>&return_to=<path or URL>: 302 to Cognito's /oauth2/authorize. */
export function createHandler(deps: LoginHandlerDeps) {
  const { config, log, secrets, now } = withDefaults(deps);
  return httpHandler(log, async (event) => {
    const started = await startLogin(parseLoginRequest(event), {
      config,
      keyring: await secrets.cookieKeyring(),
      nowSeconds: Math.floor(now() / 1000),
    });
    return redirect(started.location, { https: config.secureCookies, cookies: [started.setCookie] });
  });
}
