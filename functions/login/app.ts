import middy from '@middy/core';
import { parseLoginRequest, startLogin } from '../shared/auth/login.ts';
import { redirect } from '../shared/auth/request.ts';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import {
  errorResponses,
  type HttpEvent,
  type HttpResult,
  invocationLog,
  middyOptions,
} from '../shared/http.ts';
import { log as containerLog, type Logger } from '../shared/log.ts';
import type { LoginFunctionConfig } from './config.ts';

export interface LoginHandlerDeps {
  config: LoginFunctionConfig;
  /** Default: the container's logger. */
  log?: Logger;
  secrets?: AuthSecrets;
  /** Epoch milliseconds. */
  now?: () => number;
}

/** GET /auth/login?provider=<name>&return_to=<path or URL>: 302 to Cognito's /oauth2/authorize. */
export function createHandler({ config, log = containerLog, now = Date.now, ...deps }: LoginHandlerDeps) {
  const secrets = deps.secrets ?? createAuthSecrets(config);
  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(invocationLog(log))
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
