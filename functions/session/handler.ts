import middy from '@middy/core';
import { clearCookie, cookieSpecs } from '../shared/auth/cookies.ts';
import { checkCookieRequestOrigin } from '../shared/auth/request.ts';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { readSession, sessionView } from '../shared/auth/session.ts';
import { parseAuthConfig } from '../shared/config.ts';
import { errorResponses, type HttpEvent, type HttpResult, json, middyOptions } from '../shared/http.ts';
import { log } from '../shared/log.ts';

/** GET /auth/session: whether the browser is signed in, its canonical claims and the session's end. */
const config = parseAuthConfig(process.env);

export interface SessionHandlerDeps {
  secrets: AuthSecrets;
  /** Epoch milliseconds. */
  now: () => number;
}

/** The handler with its collaborators; tests pass their own, `handler` uses the container's. */
export function createHandler(deps: Partial<SessionHandlerDeps> = {}) {
  const secrets = deps.secrets ?? createAuthSecrets(config);
  const now = deps.now ?? Date.now;
  const specs = cookieSpecs(config);
  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(errorResponses(log))
    .handler(async (event) => {
      checkCookieRequestOrigin(event, config);
      const read = await readSession(
        event,
        await secrets.cookieKeyring(),
        specs.session,
        Math.floor(now() / 1000),
      );
      const result = json(200, sessionView(read.session));
      // A cookie that can no longer be opened (expired, altered, retired key) is removed.
      return read.rejected === undefined || read.rejected === 'missing'
        ? result
        : { ...result, cookies: [clearCookie(specs.session)] };
    });
}

export const handler = createHandler();
