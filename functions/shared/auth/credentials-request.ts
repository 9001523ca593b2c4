import { bearerToken, type IssuedCredentials } from '../credentials.ts';
import type { HttpEvent } from '../http.ts';
import type { Logger } from '../log.ts';
import { audit, reasonOf } from './audit.ts';
import { providerOf } from './session.ts';
import type { SessionPath } from './session-credentials.ts';

/**
 * One /credentials request: with the session cookie when one is presented and no bearer token (a
 * bearer token wins), else with the bearer token; one audit line either way.
 *
 * @throws what the bearer or the session path throws, after its audit line.
 */
export async function credentialsRequest(
  event: Pick<HttpEvent, 'cookies' | 'headers'>,
  deps: {
    issue: (idToken: string) => Promise<IssuedCredentials>;
    sessions: SessionPath | undefined;
    log: Logger;
  },
): Promise<{ issued: IssuedCredentials; cookies: string[] }> {
  const { sessions, log } = deps;
  const viaSession = sessions?.presentedBy(event) === true;
  const via = viaSession ? 'session' : 'bearer';
  try {
    const { issued, provider, cookies } =
      sessions && viaSession
        ? await sessions.credentials(event)
        : await deps
            .issue(bearerToken(event, { sessions: sessions !== undefined }))
            .then((issued) => ({ issued, provider: providerOf(issued.claims), cookies: [] as string[] }));
    const reason = issued.cached ? 'cached' : undefined;
    audit(log, 'credentials', 'success', { identityId: issued.identityId, provider, reason, via });
    return { issued, cookies };
  } catch (error) {
    audit(log, 'credentials', 'failure', { reason: reasonOf(error), via });
    throw error;
  }
}
