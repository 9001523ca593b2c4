import { type HandlerDeps, withDefaults } from '../shared/auth/handler-deps.ts';
import { sessionStatus } from '../shared/auth/session.ts';
import { confirmSession, lazyTokenEndpoint } from '../shared/auth/session-credentials.ts';
import { httpHandler, json } from '../shared/http.ts';
import type { SessionFunctionConfig } from './config.ts';

export type SessionHandlerDeps = HandlerDeps<SessionFunctionConfig>;

/**
 * GET /auth/session: whether the browser is signed in, its canonical claims and the session's end.
 * A session is shown only after the refresh_token grant confirms it still stands (sessionStatus).
 */
export function createHandler(deps: SessionHandlerDeps) {
  const { config, log, secrets, fetch, now } = withDefaults(deps);
  // oauth4webapi is loaded by the first request with a session: signed-out visits never need it.
  const tokenEndpointOnce = lazyTokenEndpoint(config, { secrets, fetch });
  return httpHandler(log, async (event) => {
    const status = await sessionStatus(event, {
      config,
      keyring: await secrets.cookieKeyring(),
      nowSeconds: Math.floor(now() / 1000),
      confirm: async (session) => confirmSession(session, { tokenEndpoint: await tokenEndpointOnce(), log }),
    });
    return { ...json(200, status.view), ...(status.cookies.length ? { cookies: status.cookies } : {}) };
  });
}
