// Amazon Cognito identity pool stand-in: the JSON 1.1 API of Cognito Identity (`POST /` with
// `X-Amz-Target: AWSCognitoIdentityService.<Operation>`) for GetId, GetCredentialsForIdentity and
// GetOpenIdToken, reachable by the real @aws-sdk/client-cognito-identity through `endpoint`.
// Logins are validated as Cognito documents it (logins.ts);
// identity ids are stable per login; credentials last one hour and are plainly local (they sign
// nothing AWS would accept).

import { createHash, generateKeyPair, type KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { calculateJwkThumbprint, exportJWK, type JWK, SignJWT } from 'jose';
import type { Json, TemplateResolver } from '../template.ts';
import { closeServer, listen, readBody } from './http.ts';
import {
  IdentityError,
  type LoginProvider,
  LoginValidator,
  notAuthorized,
  type TokenCheck,
  type ValidatedLogin,
} from './logins.ts';

const IDENTITY_OPERATIONS = ['GetId', 'GetCredentialsForIdentity', 'GetOpenIdToken'] as const;
type IdentityOperation = (typeof IDENTITY_OPERATIONS)[number];

type IdentityPoolFaultError =
  | 'TooManyRequestsException'
  | 'ResourceNotFoundException'
  | 'InvalidIdentityPoolConfigurationException'
  | 'InternalErrorException'
  | 'ExternalServiceException';

interface IdentityPoolFault {
  /** Answer with this exception instead of working. */
  readonly error?: IdentityPoolFaultError;
  /** Wait this long before answering (with or without an error). */
  readonly delayMs?: number;
  /** Never answer. */
  readonly hang?: boolean;
  /** Only for this operation; default every operation. */
  readonly operation?: IdentityOperation;
  /** Only for the next N matching calls; default until cleared. */
  readonly times?: number;
}

export interface IdentityPoolStandInOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  readonly publicHost?: string;
  readonly region?: string;
  /** Default `<region>:00000000-0000-4000-8000-0000000offline`-like id derived from the region. */
  readonly identityPoolId?: string;
  readonly providers: readonly LoginProvider[];
  /** The user pool's answer to ServerSideTokenCheck, e.g. `(claims) => pool.isTokenActive(claims)`. */
  readonly serverSideTokenCheck?: TokenCheck;
  /** Session tag → token claim (AWS::Cognito::IdentityPoolPrincipalTag), recorded with each credential. */
  readonly principalTags?: Readonly<Record<string, string>>;
  readonly allowUnauthenticated?: boolean;
  /** The pool's authenticated role; null reproduces a pool without one (InvalidIdentityPoolConfigurationException). */
  readonly authenticatedRoleArn?: string | null;
  /** Clock in epoch milliseconds. */
  readonly now?: () => number;
  /** Default true: no console output. */
  readonly quiet?: boolean;
}

interface IdentityRecord {
  readonly identityId: string;
  /** `<providerName>` of each linked login. */
  readonly logins: readonly string[];
  readonly createdAt: number;
  readonly lastModifiedAt: number;
}

interface IssuedCredentials {
  readonly accessKeyId: string;
  readonly identityId: string;
  readonly roleArn: string;
  /** Epoch seconds. */
  readonly expiration: number;
  /** Session tags the real pool would pass to STS. */
  readonly principalTags: Readonly<Record<string, string>>;
}

export interface IdentityPoolStandIn {
  readonly url: string;
  readonly identityPoolId: string;
  readonly region: string;
  /** Issuer of GetOpenIdToken tokens; JWKS at `<url>/.well-known/jwks_uri`. */
  readonly openIdIssuer: string;
  identities(): readonly IdentityRecord[];
  credentials(): readonly IssuedCredentials[];
  /** Requests per operation (failed ones included), e.g. `{ GetId: 1, GetCredentialsForIdentity: 3 }`. */
  readonly calls: Readonly<Record<string, number>>;
  resetCalls(): void;
  /** Replaces the active fault; call with no argument to clear it. */
  setFault(fault?: IdentityPoolFault): void;
  close(): Promise<void>;
}

const faultMessages: Record<IdentityPoolFaultError, string> = {
  TooManyRequestsException: 'Rate exceeded',
  ResourceNotFoundException: 'IdentityPool not found.',
  InvalidIdentityPoolConfigurationException:
    'Invalid identity pool configuration. Check assigned IAM roles for this pool.',
  InternalErrorException: 'An internal error occurred. Please retry.',
  ExternalServiceException: 'An exception occurred while calling an external service.',
};

const idPattern = /^[\w-]+:[0-9a-f-]+$/;

/** A GUID from a hash, so ids stay the same across restarts of the offline stack. */
function guidFrom(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((Number.parseInt(hex[16] ?? '0', 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
function randomUpper(length: number): string {
  return [...randomBytes(length)].map((b) => alnum[b % alnum.length]).join('');
}

function tagValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value.slice(0, 256);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // STS session tags are strings; structured claims are not copied.
  return undefined;
}

/**
 * The session tags for one login. AWS documents that each tag takes the value of its mapped claim
 * (https://docs.aws.amazon.com/cognito/latest/developerguide/attributes-for-access-control.html,
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cognito-identitypoolprincipaltag.html)
 * but not what GetCredentialsForIdentity does when the token lacks the claim. The stand-in takes the
 * strictest reading and refuses the login, so a claim the trigger forgot fails here, offline, rather
 * than as a silently missing tag in AWS. The wording of the message is ours.
 */
function principalTagsFor(
  claims: Readonly<Record<string, unknown>>,
  mapping: Readonly<Record<string, string>>,
): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [tag, claim] of Object.entries(mapping)) {
    const value = tagValue(claims[claim]);
    if (value === undefined) {
      throw notAuthorized(
        `Invalid login token. Missing a required claim: ${claim} (mapped to the principal tag ${tag})`,
      );
    }
    tags[tag] = value;
  }
  return tags;
}

function validation(field: string, value: unknown, constraint: string): IdentityError {
  return new IdentityError(
    'InvalidParameterException',
    `1 validation error detected: Value '${String(value)}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

interface Identity {
  readonly identityId: string;
  readonly logins: Set<string>;
  readonly createdAt: number;
  lastModifiedAt: number;
}

const loginKey = (login: ValidatedLogin): string => `${login.providerName}\u0000${login.sub}`;

/**
 * Starts the identity pool stand-in.
 *
 * @throws Error when the port is taken.
 * @example
 * const identity = await startIdentityPoolStandIn({
 *   providers: [{ providerName: pool.loginsKey, issuer: pool.issuer, clientIds: ['local-client'], jwksUri: pool.jwksUri }],
 *   serverSideTokenCheck: (claims) => pool.isTokenActive(claims),
 * });
 * const client = new CognitoIdentityClient({ region: 'us-east-1', endpoint: identity.url });
 */
export async function startIdentityPoolStandIn(
  options: IdentityPoolStandInOptions,
): Promise<IdentityPoolStandIn> {
  const region = options.region ?? 'us-east-1';
  const identityPoolId = options.identityPoolId ?? `${region}:${guidFrom(`offline identity pool ${region}`)}`;
  const now = options.now ?? Date.now;
  const quiet = options.quiet ?? true;
  const roleArn =
    options.authenticatedRoleArn === undefined
      ? 'arn:aws:iam::123456789012:role/offline-authenticated'
      : options.authenticatedRoleArn;
  const validator = new LoginValidator(options.providers, options.serverSideTokenCheck);
  const identities = new Map<string, Identity>();
  const byLogin = new Map<string, string>();
  const issued: IssuedCredentials[] = [];
  const calls: Record<string, number> = {};
  let fault: (IdentityPoolFault & { remaining: number }) | undefined;

  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const signingKey: { kid: string; key: KeyObject; jwk: JWK } = {
    kid,
    key: privateKey,
    jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' },
  };

  const nowSeconds = (): number => Math.floor(now() / 1000);

  function checkPoolId(value: unknown): void {
    if (typeof value !== 'string' || value.length > 55 || !idPattern.test(value)) {
      throw validation(
        'identityPoolId',
        value,
        'Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+',
      );
    }
    if (value !== identityPoolId)
      throw new IdentityError('ResourceNotFoundException', `IdentityPool '${value}' not found.`);
  }

  function identityFor(value: unknown): Identity {
    if (typeof value !== 'string' || value.length > 55 || !idPattern.test(value)) {
      throw validation(
        'identityId',
        value,
        'Member must satisfy regular expression pattern: [\\w-]+:[0-9a-f-]+',
      );
    }
    const identity = identities.get(value);
    if (identity === undefined)
      throw new IdentityError('ResourceNotFoundException', `Identity '${value}' not found.`);
    return identity;
  }

  async function validateLogins(value: unknown): Promise<ValidatedLogin[]> {
    const entries =
      value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : [];
    if (entries.length === 0) {
      if (options.allowUnauthenticated) return [];
      throw notAuthorized('Unauthenticated access is not supported for this identity pool.');
    }
    if (entries.length > 10)
      throw validation(
        'logins',
        `${entries.length} logins`,
        'Member must have length less than or equal to 10',
      );
    const out: ValidatedLogin[] = [];
    for (const [key, token] of entries) {
      if (typeof token !== 'string' || token === '' || token.length > 50_000) {
        throw validation(`logins.${key}`, '***', 'Member must have length between 1 and 50000');
      }
      out.push(await validator.validate(key, token, nowSeconds()));
    }
    return out;
  }

  /** The identity linked to these logins; the logins must all point to one identity (or none). */
  function linkedIdentity(logins: readonly ValidatedLogin[]): Identity | undefined {
    const ids = new Set(logins.map((login) => byLogin.get(loginKey(login))).filter((id) => id !== undefined));
    if (ids.size > 1) {
      // Wording unconfirmed.
      throw new IdentityError('ResourceConflictException', 'The logins are linked to different identities.');
    }
    const [id] = ids;
    return id === undefined ? undefined : identities.get(id);
  }

  /** The identity of a call that names one: a valid login linked to it is required. */
  async function authenticated(
    body: Record<string, unknown>,
  ): Promise<{ identity: Identity; logins: ValidatedLogin[] }> {
    const identity = identityFor(body.IdentityId);
    const logins = await validateLogins(body.Logins);
    const linked = logins.some((login) => byLogin.get(loginKey(login)) === identity.identityId);
    if (!linked && !(logins.length === 0 && identity.logins.size === 0)) {
      throw notAuthorized(
        "Logins don't match. Please include at least one valid login for this identity or identity pool.",
      );
    }
    return { identity, logins };
  }

  const operations: Record<
    IdentityOperation,
    (body: Record<string, unknown>) => Promise<Record<string, unknown>>
  > = {
    async GetId(body) {
      checkPoolId(body.IdentityPoolId);
      const logins = await validateLogins(body.Logins);
      let identity = linkedIdentity(logins);
      const at = now();
      if (identity === undefined) {
        const first = logins[0];
        // Authenticated identities are derived from the first login; guests get a new one each time.
        const identityId = `${region}:${first === undefined ? randomUUID() : guidFrom(`${identityPoolId}\u0000${loginKey(first)}`)}`;
        identity = identities.get(identityId) ?? {
          identityId,
          logins: new Set(),
          createdAt: at,
          lastModifiedAt: at,
        };
        identities.set(identityId, identity);
      }
      // Several logins in one call are linked to the one identity.
      for (const login of logins) {
        if (!identity.logins.has(loginKey(login))) identity.lastModifiedAt = at;
        identity.logins.add(loginKey(login));
        byLogin.set(loginKey(login), identity.identityId);
      }
      return { IdentityId: identity.identityId };
    },

    async GetCredentialsForIdentity(body) {
      const { identity, logins } = await authenticated(body);
      if (roleArn === null) {
        throw new IdentityError(
          'InvalidIdentityPoolConfigurationException',
          faultMessages.InvalidIdentityPoolConfigurationException,
        );
      }
      const expiration = nowSeconds() + 3600;
      const accessKeyId = `ASIALOCAL${randomUpper(11)}`;
      const principalTags = principalTagsFor(logins[0]?.claims ?? {}, options.principalTags ?? {});
      issued.push({ accessKeyId, identityId: identity.identityId, roleArn, expiration, principalTags });
      return {
        IdentityId: identity.identityId,
        Credentials: {
          AccessKeyId: accessKeyId,
          SecretKey: `offline/${randomBytes(24).toString('base64url')}`,
          SessionToken: `OFFLINE-SESSION.${randomBytes(48).toString('base64url')}`,
          Expiration: expiration,
        },
      };
    },

    async GetOpenIdToken(body) {
      const { identity, logins } = await authenticated(body);
      const issuedAt = nowSeconds();
      const token = await new SignJWT({
        amr:
          logins.length === 0 ? ['unauthenticated'] : ['authenticated', ...logins.map((l) => l.providerName)],
      })
        .setProtectedHeader({ kid: signingKey.kid, alg: 'RS256', typ: 'JWS' })
        .setIssuer(openIdIssuer)
        .setSubject(identity.identityId)
        .setAudience(identityPoolId)
        .setIssuedAt(issuedAt)
        // The Cognito OpenID token is valid 10 minutes.
        .setExpirationTime(issuedAt + 600)
        .sign(signingKey.key);
      return { IdentityId: identity.identityId, Token: token };
    },
  };

  function send(
    res: ServerResponse,
    status: number,
    body: unknown,
    extra: Record<string, string> = {},
  ): void {
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'x-amzn-requestid': randomUUID(),
      ...extra,
    });
    res.end(JSON.stringify(body));
  }

  function sendError(res: ServerResponse, error: IdentityError): void {
    send(
      res,
      error.status,
      { __type: error.type, message: error.message },
      { 'x-amzn-errortype': `${error.type}:` },
    );
  }

  async function applyFault(operation: IdentityOperation, res: ServerResponse): Promise<boolean> {
    const active = fault;
    if (active === undefined || (active.operation !== undefined && active.operation !== operation))
      return false;
    active.remaining -= 1;
    if (active.remaining <= 0) fault = undefined;
    if (active.hang) await new Promise<never>(() => {});
    if (active.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, active.delayMs));
    if (active.error === undefined) return false;
    const message =
      active.error === 'ResourceNotFoundException'
        ? `IdentityPool '${identityPoolId}' not found.`
        : faultMessages[active.error];
    sendError(
      res,
      new IdentityError(active.error, message, active.error === 'InternalErrorException' ? 500 : 400),
    );
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', url).pathname;
    if (req.method === 'GET' && path === '/.well-known/jwks_uri') {
      send(res, 200, { keys: [signingKey.jwk] }, { 'content-type': 'application/json' });
      return;
    }
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      send(
        res,
        200,
        {
          issuer: openIdIssuer,
          jwks_uri: `${url}/.well-known/jwks_uri`,
          response_types_supported: ['code', 'id_token'],
          subject_types_supported: ['public'],
          id_token_signing_alg_values_supported: ['RS256'],
        },
        { 'content-type': 'application/json' },
      );
      return;
    }
    if (req.method !== 'POST' || path !== '/') {
      sendError(res, new IdentityError('UnknownOperationException', '', 404));
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = IDENTITY_OPERATIONS.find((op) => target === `AWSCognitoIdentityService.${op}`);
    const text = await readBody(req);
    if (operation === undefined) {
      sendError(res, new IdentityError('UnknownOperationException', ''));
      return;
    }
    calls[operation] = (calls[operation] ?? 0) + 1;
    if (await applyFault(operation, res)) return;
    let body: unknown;
    try {
      body = JSON.parse(text === '' ? '{}' : text);
    } catch {
      sendError(res, new IdentityError('SerializationException', 'Malformed JSON request body'));
      return;
    }
    try {
      if (body === null || typeof body !== 'object' || Array.isArray(body)) {
        throw new IdentityError('SerializationException', 'Expected a JSON object');
      }
      send(res, 200, await operations[operation](body as Record<string, unknown>));
    } catch (error) {
      if (!(error instanceof IdentityError)) throw error;
      if (!quiet)
        console.error(`identity pool stand-in: ${operation} refused`, {
          type: error.type,
          message: error.message,
        });
      sendError(res, error);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!quiet) console.error('identity pool stand-in: request failed', error);
      if (!res.headersSent)
        sendError(res, new IdentityError('InternalErrorException', 'An internal error occurred.', 500));
      else res.end();
    });
  });
  const port = await listen(server, options.port ?? 0, options.host ?? '127.0.0.1', 'identity pool stand-in');
  const url = `http://${options.publicHost ?? 'localhost'}:${port}`;
  const openIdIssuer = url;

  return {
    url,
    identityPoolId,
    region,
    openIdIssuer,
    identities: () =>
      [...identities.values()].map((identity) => ({
        identityId: identity.identityId,
        logins: [...identity.logins].map((login) => login.split('\u0000')[0] ?? ''),
        createdAt: identity.createdAt,
        lastModifiedAt: identity.lastModifiedAt,
      })),
    credentials: () => [...issued],
    calls,
    resetCalls() {
      for (const key of Object.keys(calls)) delete calls[key];
    },
    setFault(next?: IdentityPoolFault) {
      fault = next === undefined ? undefined : { ...next, remaining: next.times ?? Number.POSITIVE_INFINITY };
    },
    close: () => closeServer(server),
  };
}

export interface IdentityPoolTemplateSettings {
  readonly allowUnauthenticated: boolean;
  /** Whether the template asks for a server-side token check on its (first) user pool provider. */
  readonly serverSideTokenCheck: boolean;
  /** Session tag → claim, from AWS::Cognito::IdentityPoolPrincipalTag (empty when none). */
  readonly principalTags: Readonly<Record<string, string>>;
}

/** The identity pool settings the stand-in can take from template.yaml. */
export function readIdentityPoolTemplate(template: TemplateResolver): IdentityPoolTemplateSettings {
  const obj = (value: Json | undefined): Record<string, Json> =>
    value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
  const [poolId] = template.resourcesOfType('AWS::Cognito::IdentityPool');
  const pool = poolId === undefined ? {} : template.resource(poolId).Properties;
  const providers = Array.isArray(pool.CognitoIdentityProviders) ? pool.CognitoIdentityProviders : [];
  const principalTags: Record<string, string> = {};
  for (const id of template.resourcesOfType('AWS::Cognito::IdentityPoolPrincipalTag')) {
    for (const [tag, claim] of Object.entries(obj(template.resource(id).Properties.PrincipalTags))) {
      principalTags[tag] = String(claim);
    }
  }
  const check = obj(providers[0]).ServerSideTokenCheck;
  return {
    allowUnauthenticated:
      pool.AllowUnauthenticatedIdentities === true || pool.AllowUnauthenticatedIdentities === 'true',
    serverSideTokenCheck: check === true || check === 'true',
    principalTags,
  };
}
