// Amazon Cognito user pool stand-in for the offline stack: the hosted-UI OAuth endpoints, the pool
// issuer (discovery, JWKS) and federation to the local ID.me / Idura stand-ins, configured from
// template.yaml (identity providers, attribute mapping, app client, schema, pre-token-generation
// trigger). Behaviour: https://docs.aws.amazon.com/cognito/latest/developerguide/federation-endpoints.html and the pages it links.
//
//   user-pool.ts      options, start-up, the handle tests and `npm start` use   (this file)
//   pool-config.ts    what is read from the template
//   routes.ts         the HTTP router and the issuer documents
//   hosted-ui.ts      authorize, login page, idpresponse, logout (the browser side)
//   token-endpoint.ts token, userInfo, revoke (the back-end side)
//   runtime.ts        state shared by the endpoints, faults, the trigger call
//   federation.ts     the pool as relying party of the upstream IdPs
//   attributes.ts     attribute mapping and the user directory
//   trigger.ts        the pre-token-generation function: event, runtime, retries, response
//   tokens.ts         keys, JWKS, ID/access/refresh tokens

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { TemplateResolver } from '../template.ts';
import { mapClaims, type StoredUser, UserDirectory } from './attributes.ts';
import { UpstreamClient, type UpstreamIdp } from './federation.ts';
import { closeServer, listen, page, sendHtml } from './http.ts';
import { readPoolConfig } from './pool-config.ts';
import { createRouter } from './routes.ts';
import { type AppClient, type PoolRuntime, seconds, type UserPoolFaults } from './runtime.ts';
import { createPoolKeys } from './tokens.ts';
import { TriggerRunner } from './trigger.ts';

interface UserPoolClientOptions {
  readonly clientId: string;
  /** Omit for a public client. */
  readonly clientSecret?: string;
  readonly callbackUrls: readonly string[];
  readonly logoutUrls?: readonly string[];
  /** Logical id of the template's AWS::Cognito::UserPoolClient whose settings apply; default the first. */
  readonly templateClient?: string;
}

interface TokenLifetimes {
  readonly idTokenSeconds?: number;
  readonly accessTokenSeconds?: number;
  readonly refreshTokenSeconds?: number;
}

/**
 * A federated user the pool holds from the start, signed in once and holding a refresh token: the
 * sample session of events/session/signed-in.json (local/fixtures.ts), so that sample is confirmed
 * by the refresh_token grant like a real session.
 */
interface KnownSession {
  /** Cognito provider name, e.g. IDmeSandbox. */
  readonly provider: string;
  /** The IdP's claims at that sign-in (its `sub` included), mapped as a sign-in maps them. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** The profile's `sub`. */
  readonly sub: string;
  readonly clientId: string;
  readonly refreshToken: string;
  /** When the refresh token expires, epoch milliseconds. */
  readonly expiresAt: number;
}

export interface UserPoolStandInOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Interface to bind; default 127.0.0.1. */
  readonly host?: string;
  /** Host name in every URL; default localhost. */
  readonly publicHost?: string;
  readonly region?: string;
  /** Default `<region>_OfflinePool`. */
  readonly userPoolId?: string;
  readonly clients: readonly UserPoolClientOptions[];
  /** template.yaml, resolved with the local parameter values. */
  readonly template: TemplateResolver;
  /** Per Cognito provider name (e.g. IDmeSandbox): the local IdP stand-in replacing `oidc_issuer`. */
  readonly upstream?: Readonly<Record<string, UpstreamIdp>>;
  /** Default: the template app client's validity settings. */
  readonly tokenLifetimes?: TokenLifetimes;
  /** Clock in epoch milliseconds: token times, code, session and refresh expiry. */
  readonly now?: () => number;
  /** Default true: no console output, the trigger's logs are dropped too. */
  readonly quiet?: boolean;
  /** Values for the trigger function's declared variables, like `sam local --env-vars`. */
  readonly triggerEnvironment?: Readonly<Record<string, string>>;
  /** Receives the trigger function's stdout lines, quiet or not (the offline stack collects its metrics). */
  readonly triggerOutput?: (chunk: string | Uint8Array) => void;
  /** Cognito's wait for each trigger attempt (default 5000 ms); tests shorten it. */
  readonly triggerWaitMs?: number;
  /** How long to wait for the IdPs' endpoints; default 5000 ms. */
  readonly upstreamTimeoutMs?: number;
  readonly knownSessions?: readonly KnownSession[];
}

export interface UserPoolStandIn {
  /** The hosted-UI domain, e.g. http://localhost:9229 (no trailing slash). */
  readonly url: string;
  /** `<url>/<userPoolId>`; discovery at `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly jwksUri: string;
  readonly userPoolId: string;
  readonly region: string;
  /** The identity pool's logins key (and provider name) for this pool: the issuer without scheme. */
  readonly loginsKey: string;
  /** Cognito provider names of the template (e.g. IDmeSandbox, IduraTest). */
  readonly providerNames: readonly string[];
  users(): readonly StoredUser[];
  /** Moves the trigger function's Date `ms` ahead of the real time (the stand-in's own clock is `now`). */
  setTriggerClockOffset(ms: number): void;
  /** Points a template provider at a local IdP (e.g. once its port is known). */
  setUpstream(providerName: string, upstream: UpstreamIdp): void;
  /** Replaces the active faults; call with no argument to clear them. */
  setFault(faults?: UserPoolFaults): void;
  /** Requests per endpoint: authorize, login, idpresponse, token, userInfo, revoke, logout, discovery, jwks. */
  readonly calls: Readonly<Record<string, number>>;
  /**
   * What an identity pool's ServerSideTokenCheck asks the user pool: false when the user was signed
   * out globally after the token was issued, or is deleted or disabled. A refresh token revoked at
   * /oauth2/revoke (RevokeToken) does not count: AWS documents the check for global sign-out and
   * deletion only (see the comment in the implementation).
   */
  isTokenActive(claims: Readonly<Record<string, unknown>>): boolean;
  /**
   * AdminUserGlobalSignOut: revokes every refresh token of the user, the access tokens minted from
   * them, and (for ServerSideTokenCheck) the ID tokens issued so far.
   */
  globalSignOut(username: string): void;
  /** AdminDisableUser: the user cannot sign in or refresh; their tokens are revoked. */
  disableUser(username: string): boolean;
  /** Deletes a user (AdminDeleteUser); their tokens stop working. */
  deleteUser(username: string): boolean;
  close(): Promise<void>;
}

/**
 * Starts the user pool stand-in.
 *
 * @throws Error when the port is taken, the template has no single user pool, a client names an
 *   unknown template client, an upstream names an unknown provider, or the trigger cannot be located.
 * @example
 * const pool = await startUserPoolStandIn({
 *   template: new TemplateResolver(readTemplate(), { parameters }),
 *   clients: [{ clientId: 'local-client', clientSecret: 's3cret', callbackUrls: ['http://localhost:3000/auth/callback'] }],
 *   upstream: { IDmeSandbox: { issuer: idme.issuer, clientId: 'local-broker', clientSecret: 'local-broker-secret' } },
 * });
 */
export async function startUserPoolStandIn(options: UserPoolStandInOptions): Promise<UserPoolStandIn> {
  const host = options.host ?? '127.0.0.1';
  const publicHost = options.publicHost ?? 'localhost';
  const region = options.region ?? 'us-east-1';
  const userPoolId = options.userPoolId ?? `${region}_OfflinePool`;
  const now = options.now ?? Date.now;
  const quiet = options.quiet ?? true;
  const config = readPoolConfig(options.template);
  const clients = new Map<string, AppClient>();
  const defaultTemplateClient = [...config.clients.keys()][0];
  for (const client of options.clients) {
    const logicalId = client.templateClient ?? defaultTemplateClient;
    const settings = logicalId === undefined ? undefined : config.clients.get(logicalId);
    if (settings === undefined) {
      throw new Error(
        `user pool stand-in: no AWS::Cognito::UserPoolClient ${logicalId ?? ''} in the template`,
      );
    }
    const lifetimes = options.tokenLifetimes ?? {};
    clients.set(client.clientId, {
      clientId: client.clientId,
      clientSecret: client.clientSecret,
      callbackUrls: [...client.callbackUrls],
      logoutUrls: [...(client.logoutUrls ?? [])],
      settings,
      idTokenSeconds: lifetimes.idTokenSeconds ?? settings.idTokenSeconds,
      accessTokenSeconds: lifetimes.accessTokenSeconds ?? settings.accessTokenSeconds,
      refreshTokenSeconds: lifetimes.refreshTokenSeconds ?? settings.refreshTokenSeconds,
    });
  }

  const keys = await createPoolKeys();
  const trigger =
    config.trigger === undefined
      ? undefined
      : new TriggerRunner(config.trigger, options.template, {
          region,
          quiet,
          ...(options.triggerWaitMs === undefined ? {} : { waitMs: options.triggerWaitMs }),
          ...(options.triggerEnvironment ? { envVars: { ...options.triggerEnvironment } } : {}),
          ...(options.triggerOutput ? { output: options.triggerOutput } : {}),
        });
  const log = (message: string, context?: Record<string, unknown>): void => {
    if (!quiet) console.error(`user pool stand-in: ${message}`, context ?? '');
  };

  let handle = createRouterPlaceholder();
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!quiet) console.error('user pool stand-in: request failed', error);
      if (!res.headersSent) sendHtml(res, 500, page('Something went wrong', '<h1>Something went wrong</h1>'));
      else res.end();
    });
  });
  const port = await listen(server, options.port ?? 0, host, 'user pool stand-in').catch(
    async (error: unknown) => {
      await trigger?.close();
      throw error;
    },
  );
  const abandon = async (error: unknown): Promise<never> => {
    await Promise.all([closeServer(server), trigger?.close()]);
    throw error;
  };
  // The trigger's container starts with the stand-in (a build error stops it here).
  await trigger?.start().catch(abandon);
  const url = `http://${publicHost}:${port}`;
  const issuer = `${url}/${userPoolId}`;
  const upstreamOptions = {
    redirectUri: `${url}/oauth2/idpresponse`,
    timeoutMs: options.upstreamTimeoutMs ?? 5000,
    now,
  };
  const upstream = new Map<string, UpstreamClient>();
  const setUpstream = (providerName: string, idp: UpstreamIdp): void => {
    if (!config.providers.has(providerName)) {
      throw new Error(
        `user pool stand-in: the template has no identity provider ${providerName}; it has ${[...config.providers.keys()].join(', ')}`,
      );
    }
    upstream.set(providerName, new UpstreamClient(providerName, idp, upstreamOptions));
  };
  try {
    for (const [name, idp] of Object.entries(options.upstream ?? {})) setUpstream(name, idp);
  } catch (error) {
    await abandon(error);
  }

  const calls: Record<string, number> = {};
  const runtime: PoolRuntime = {
    url,
    issuer,
    region,
    userPoolId,
    config,
    clients,
    upstream,
    users: new UserDirectory(userPoolId, config.schema),
    keys,
    trigger,
    now,
    log,
    faults: {},
    calls,
    pending: new Map(),
    codes: new Map(),
    refreshTokens: new Map(),
    revokedOrigins: new Set(),
    sessions: new Map(),
  };
  handle = createRouter(runtime);
  try {
    for (const known of options.knownSessions ?? []) seedSession(runtime, known);
  } catch (error) {
    await abandon(error);
  }

  // Sign-ins (origin_jti) whose tokens a global sign-out ended. Kept apart from revokedOrigins,
  // which also holds refresh tokens revoked one by one at /oauth2/revoke.
  const signedOutOrigins = new Set<string>();
  const revokeWhere = (matches: (username: string) => boolean): void => {
    for (const session of runtime.refreshTokens.values()) {
      if (!matches(session.username)) continue;
      runtime.revokedOrigins.add(session.originJti);
      signedOutOrigins.add(session.originJti);
    }
    for (const [id, session] of runtime.sessions) if (matches(session.username)) runtime.sessions.delete(id);
  };
  const named = (username: string) => {
    const lower = username.toLowerCase();
    return (name: string): boolean => name.toLowerCase() === lower;
  };

  return {
    url,
    issuer,
    jwksUri: `${issuer}/.well-known/jwks.json`,
    userPoolId,
    region,
    loginsKey: issuer.replace(/^https?:\/\//, ''),
    providerNames: [...config.providers.keys()],
    users: () => runtime.users.list(),
    setTriggerClockOffset: (ms: number) => trigger?.setClockOffset(ms),
    setUpstream,
    setFault(faults: UserPoolFaults = {}): void {
      runtime.faults = { ...faults };
    },
    calls,
    isTokenActive(claims) {
      // AWS: with ServerSideTokenCheck the identity pool checks "that the user has not been globally
      // signed out or deleted" (https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_CognitoIdentityProvider.html),
      // and GlobalSignOut ends a signed-out user's ID tokens at GetId
      // (https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_AdminUserGlobalSignOut.html).
      // RevokeToken is not listed: revoked tokens "will still be valid" to a JWT verifier
      // (https://docs.aws.amazon.com/cognito/latest/developerguide/token-revocation.html), so an ID
      // token whose refresh token was revoked still passes. Disabled users are refused: the docs are
      // silent, and AdminDisableUser "revokes all access tokens" (strictest reading).
      const username = claims['cognito:username'] ?? claims.username;
      const user = typeof username === 'string' ? runtime.users.get(username) : undefined;
      if (user === undefined || !user.enabled || claims.sub !== user.sub) return false;
      return !(typeof claims.origin_jti === 'string' && signedOutOrigins.has(claims.origin_jti));
    },
    globalSignOut(username) {
      revokeWhere(named(username));
    },
    disableUser(username) {
      const user = runtime.users.get(username);
      if (user === undefined) return false;
      user.enabled = false;
      revokeWhere(named(username));
      return true;
    },
    deleteUser(username) {
      revokeWhere(named(username));
      return runtime.users.delete(username);
    },
    async close() {
      await Promise.all([closeServer(server), trigger?.close()]);
    },
  };
}

function seedSession(runtime: PoolRuntime, known: KnownSession): void {
  const provider = runtime.config.providers.get(known.provider);
  const client = runtime.clients.get(known.clientId);
  if (provider === undefined || client === undefined) {
    throw new Error(
      `user pool stand-in: a known session names ${provider ? `client ${known.clientId}` : `provider ${known.provider}`}, which the pool does not have`,
    );
  }
  const user = runtime.users.upsertFederated({
    provider,
    mapped: mapClaims(provider, runtime.config.schema, known.claims),
    client: client.settings,
    now: runtime.now(),
    sub: known.sub,
  });
  runtime.refreshTokens.set(known.refreshToken, {
    clientId: client.clientId,
    username: user.username,
    scopes: client.settings.allowedScopes,
    authTime: seconds(runtime.now()),
    eventId: randomUUID(),
    originJti: randomUUID(),
    expiresAt: known.expiresAt,
  });
}

function createRouterPlaceholder(): ReturnType<typeof createRouter> {
  return async (_req, res) => {
    res.writeHead(503).end();
  };
}
