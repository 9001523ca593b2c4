import middy from '@middy/core';
import { credentialsRequest } from '../shared/auth/credentials-request.ts';
import { type AuthSecrets, createAuthSecrets } from '../shared/auth/secrets.ts';
import { createSessionPath } from '../shared/auth/session-credentials.ts';
import { type IdentityClient, identityClientFor } from '../shared/clients.ts';
import { createCredentialsIssuer, toCredentialsResponse } from '../shared/credentials.ts';
import {
  errorResponses,
  type HttpEvent,
  type HttpResult,
  invocationLog,
  json,
  middyOptions,
} from '../shared/http.ts';
import { log as containerLog, type Logger } from '../shared/log.ts';
import { createIdTokenVerifier } from '../shared/oidc/verify.ts';
import type { FetchLike } from '../shared/upstream-http.ts';
import type { CredentialsFunctionConfig } from './config.ts';

export interface CredentialsHandlerDeps {
  config: CredentialsFunctionConfig;
  /** Default: the container's logger. */
  log?: Logger;
  identityClient?: IdentityClient;
  /** Without it, keys are fetched over node:https and the token endpoint through global fetch. */
  fetch?: FetchLike;
  secrets?: AuthSecrets;
  /** Epoch milliseconds. */
  now?: () => number;
}

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

  return middy<HttpEvent, HttpResult>(middyOptions)
    .use(invocationLog(log))
    .use(errorResponses(log))
    .handler(async (event) => {
      const { issued, cookies } = await credentialsRequest(event, { issue, sessions, log });
      return { ...json(200, toCredentialsResponse(issued)), ...(cookies.length ? { cookies } : {}) };
    });
}
