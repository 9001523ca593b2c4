import middy from '@middy/core';
import { createIdentityClient } from '../shared/clients.ts';
import { parseCredentialsConfig } from '../shared/config.ts';
import { createCredentialsCaches, issueCredentials, toCredentialsResponse } from '../shared/credentials.ts';
import { BadRequestError, UnauthenticatedError } from '../shared/errors.ts';
import { errorResponses, type HttpEvent, type HttpResult, header, json } from '../shared/http.ts';
import { log } from '../shared/log.ts';
import { createIdTokenVerifier } from '../shared/oidc/verify.ts';

const config = parseCredentialsConfig(process.env);
const identityClient = createIdentityClient({
  region: config.region,
  endpoint: config.cognitoIdentityEndpoint,
  timeoutMs: config.upstreamTimeoutMs,
});
const verifier = createIdTokenVerifier(config);
const caches = createCredentialsCaches();

/** The ID token from `Authorization: Bearer <token>`. */
export function bearerToken(event: HttpEvent): string {
  const value = header(event, 'authorization');
  if (value === undefined || value.trim() === '') {
    throw new UnauthenticatedError('Send the ID token as "Authorization: Bearer <ID token>"');
  }
  const match = /^Bearer +([A-Za-z0-9_.~+/=-]+)\s*$/i.exec(value);
  if (!match?.[1]) {
    throw new BadRequestError('The Authorization header must be "Bearer <ID token>"', {
      code: 'invalid_request',
    });
  }
  return match[1];
}

export const handler = middy<HttpEvent, HttpResult>()
  .use(errorResponses(log))
  .handler(async (event) => {
    const issued = await issueCredentials(bearerToken(event), {
      identityClient,
      verifier,
      identityPoolId: config.identityPoolId,
      caches,
    });
    log.info('credentials issued', {
      requestId: event.requestContext?.requestId,
      identityId: issued.identityId,
      issuer: issued.claims.iss,
      cached: issued.cached,
      expiresAt: issued.credentials.expiration.toISOString(),
    });
    return json(200, toCredentialsResponse(issued));
  });
