import middy from '@middy/core';
import { parseLoginRequest, startLogin } from '../shared/auth/login.ts';
import { redirect } from '../shared/auth/request.ts';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { parseAuthConfig } from '../shared/config.ts';
import { errorResponses, type HttpEvent, type HttpResult, middyOptions } from '../shared/http.ts';
import { log } from '../shared/log.ts';

/** GET /auth/login?provider=<name>&return_to=<path or URL>: 302 to Cognito's /oauth2/authorize. */
const config = parseAuthConfig(process.env, { identityProviders: true });

export interface LoginHandlerDeps {
  secrets: AuthSecrets;
  /** Epoch milliseconds. */
  now: () => number;
}

/** The handler with its collaborators; tests pass their own, `handler` uses the container's. */
export function createHandler(deps: Partial<LoginHandlerDeps> = {}) {
  const secrets = deps.secrets ?? createAuthSecrets(config);
  const now = deps.now ?? Date.now;
  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(errorResponses(log))
    .handler(async (event) => {
      const started = await startLogin(parseLoginRequest(event), {
        config,
        keyring: await secrets.cookieKeyring(),
        nowSeconds: Math.floor(now() / 1000),
      });
      return redirect(started.location, { https: config.secureCookies, cookies: [started.setCookie] });
    });
}

export const handler = createHandler();
