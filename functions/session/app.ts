import middy from '@middy/core';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { sessionStatus } from '../shared/auth/session.ts';
import { errorResponses, type HttpEvent, type HttpResult, json, middyOptions } from '../shared/http.ts';
import { log } from '../shared/log.ts';
import type { SessionFunctionConfig } from './config.ts';

export interface SessionHandlerDeps {
  config: SessionFunctionConfig;
  secrets?: AuthSecrets;
  /** Epoch milliseconds. */
  now?: () => number;
}

/** GET /auth/session: whether the browser is signed in, its canonical claims and the session's end. */
export function createHandler({ config, now = Date.now, ...deps }: SessionHandlerDeps) {
  const secrets = deps.secrets ?? createAuthSecrets(config);
  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(errorResponses(log))
    .handler(async (event) => {
      const status = await sessionStatus(event, {
        config,
        keyring: await secrets.cookieKeyring(),
        nowSeconds: Math.floor(now() / 1000),
      });
      return { ...json(200, status.view), ...(status.cookies.length ? { cookies: status.cookies } : {}) };
    });
}
