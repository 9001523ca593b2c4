import middy from '@middy/core';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { sessionStatus } from '../shared/auth/session.ts';
import { confirmSession, lazyTokenEndpoint } from '../shared/auth/session-credentials.ts';
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
import type { SessionFunctionConfig } from './config.ts';

export interface SessionHandlerDeps {
  config: SessionFunctionConfig;
  /** Default: the container's logger. */
  log?: Logger;
  secrets?: AuthSecrets;
  fetch?: FetchLike;
  /** Epoch milliseconds. */
  now?: () => number;
}

/**
 * GET /auth/session: whether the browser is signed in, its canonical claims and the session's end.
 * A session is shown only after the refresh_token grant confirms it still stands (sessionStatus).
 */
export function createHandler({
  config,
  log = containerLog,
  fetch = globalThis.fetch,
  now = Date.now,
  ...deps
}: SessionHandlerDeps) {
  const secrets = deps.secrets ?? createAuthSecrets(config);
  // oauth4webapi is loaded by the first request with a session: signed-out visits never need it.
  const tokenEndpointOnce = lazyTokenEndpoint(config, { secrets, fetch });
  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(invocationLog(log))
    .use(errorResponses(log))
    .handler(async (event) => {
      const status = await sessionStatus(event, {
        config,
        keyring: await secrets.cookieKeyring(),
        nowSeconds: Math.floor(now() / 1000),
        confirm: async (session) =>
          confirmSession(session, { tokenEndpoint: await tokenEndpointOnce(), log }),
      });
      return { ...json(200, status.view), ...(status.cookies.length ? { cookies: status.cookies } : {}) };
    });
}
