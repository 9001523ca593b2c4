import { credentialsRequest } from '../shared/auth/credentials-request.ts';
import type { HandlerDeps } from '../shared/auth/handler-deps.ts';
import { createAuthSecrets } from '../shared/auth/secrets.ts';
import { createSessionPath } from '../shared/auth/session-credentials.ts';
import { type IdentityClient, identityClientFor } from '../shared/clients.ts';
import { createCredentialsIssuer, toCredentialsResponse } from '../shared/credentials.ts';
import { httpHandler, json } from '../shared/http.ts';
import { log as containerLog } from '../shared/log.ts';
import { createIdTokenVerifier } from '../shared/oidc/verify.ts';
import type { CredentialsFunctionConfig } from './config.ts';

export type CredentialsHandlerDeps = HandlerDeps<CredentialsFunctionConfig> & {
  identityClient?: IdentityClient;
};

/** GET|POST /credentials: a bearer ID token, or the session cookie, traded for AWS credentials. */
export function createHandler({
  config,
  log = containerLog,
  fetch,
  now = Date.now,
  ...deps
}: CredentialsHandlerDeps) {
  const issue = createCredentialsIssuer({
    identityClient: deps.identityClient ?? identityClientFor(config),
    verifier: createIdTokenVerifier(config, fetch),
    identityPoolId: config.identityPoolId,
    now,
  });
  const sessions =
    config.session &&
    createSessionPath(config.session, {
      secrets: deps.secrets ?? createAuthSecrets(config.session),
      fetch,
      issue,
      log,
      now,
    });

  return httpHandler(log, async (event) => {
    const { issued, cookies } = await credentialsRequest(event, { issue, sessions, log });
    return { ...json(200, toCredentialsResponse(issued)), ...(cookies.length ? { cookies } : {}) };
  });
}
