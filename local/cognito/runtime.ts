// State and shared helpers of the user pool stand-in's endpoints: the app clients, the pool's
// runtime state (pending federations, codes, refresh sessions, hosted-UI sessions), fault
// switches, and the trigger call every token issuance goes through.

import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { StoredUser, UserDirectory } from './attributes.ts';
import type { UpstreamClient } from './federation.ts';
import { sendJson } from './http.ts';
import type { AppClientTemplate, PoolConfig, ProviderConfig } from './pool-config.ts';
import type { PoolKeys } from './tokens.ts';
import {
  noOverrides,
  preTokenEvent,
  readOverrides,
  type TokenOverrides,
  type TriggerRunner,
  type TriggerSource,
  triggerFailure,
} from './trigger.ts';

export interface AppClient {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
  readonly settings: AppClientTemplate;
  readonly idTokenSeconds: number;
  readonly accessTokenSeconds: number;
  readonly refreshTokenSeconds: number;
}

export type EndpointFault = 'status500' | 'hang' | { readonly delayMs: number };

export interface UserPoolFaults {
  /** `/oauth2/token` answers 500, never answers, or answers late. */
  readonly tokenEndpoint?: EndpointFault;
  /** The pool's JWKS is unavailable (503), never answers, or answers late. */
  readonly jwks?: 'down' | EndpointFault;
  /** `/oauth2/userInfo` answers 500, never answers, or answers late. */
  readonly userInfo?: EndpointFault;
  /** The pre-token-generation function crashes (its runtime exits) on every invocation. */
  readonly trigger?: 'crash';
}

interface PendingFederation {
  readonly client: AppClient;
  readonly redirectUri: string;
  readonly state: string | undefined;
  readonly nonce: string | undefined;
  readonly scopes: readonly string[];
  readonly codeChallenge: string | undefined;
  readonly provider: ProviderConfig;
  readonly cognitoNonce: string;
  readonly createdAt: number;
}

interface IssuedCode {
  readonly client: AppClient;
  readonly redirectUri: string;
  readonly codeChallenge: string | undefined;
  readonly username: string;
  readonly scopes: readonly string[];
  readonly nonce: string | undefined;
  readonly authTime: number;
  readonly eventId: string;
  readonly overrides: TokenOverrides;
  readonly expiresAt: number;
}

interface RefreshSession {
  readonly clientId: string;
  readonly username: string;
  readonly scopes: readonly string[];
  readonly authTime: number;
  readonly eventId: string;
  readonly originJti: string;
  readonly expiresAt: number;
}

export interface HostedSession {
  readonly username: string;
  readonly authTime: number;
  readonly expiresAt: number;
}

/** Everything the routes work on; built by startUserPoolStandIn. */
export interface PoolRuntime {
  readonly url: string;
  readonly issuer: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly config: PoolConfig;
  readonly clients: ReadonlyMap<string, AppClient>;
  readonly upstream: Map<string, UpstreamClient>;
  readonly users: UserDirectory;
  readonly keys: PoolKeys;
  readonly trigger: TriggerRunner | undefined;
  readonly now: () => number;
  readonly log: (message: string, context?: Record<string, unknown>) => void;
  faults: UserPoolFaults;
  readonly calls: Record<string, number>;
  readonly pending: Map<string, PendingFederation>;
  readonly codes: Map<string, IssuedCode>;
  readonly refreshTokens: Map<string, RefreshSession>;
  readonly revokedOrigins: Set<string>;
  readonly sessions: Map<string, HostedSession>;
}

export const SESSION_COOKIE = 'cognito_session';
export const CODE_TTL_MS = 5 * 60_000;
/** Cognito abandons federated sign-ins not finished within 5 minutes. */
export const FEDERATION_TTL_MS = 5 * 60_000;
/** The hosted UI session cookie lives one hour. */
export const SESSION_TTL_MS = 60 * 60_000;

export const seconds = (ms: number): number => Math.floor(ms / 1000);

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function prune<V>(map: Map<string, V>, isExpired: (value: V) => boolean): void {
  for (const [key, value] of map) if (isExpired(value)) map.delete(key);
}

// ------------------------------------------------------------------ faults

const hang = (): Promise<never> => new Promise<never>(() => {});

/** Applies an endpoint fault; true when the response was already answered (or never will be). */
export async function applyFault(
  res: ServerResponse,
  fault: EndpointFault | 'down' | undefined,
): Promise<boolean> {
  if (fault === undefined) return false;
  if (fault === 'hang') return hang();
  if (fault === 'status500') {
    sendJson(res, 500, { error: 'server_error' });
    return true;
  }
  if (fault === 'down') {
    res.writeHead(503, { 'content-type': 'text/plain' }).end('Service Unavailable');
    return true;
  }
  await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
  return false;
}

// ------------------------------------------------------------------ trigger

/**
 * Runs the template's pre-token-generation function (if the pool has one) for a sign-in or a
 * refresh and returns what it asked for.
 *
 * @throws SignInError when the function fails, with Cognito's error_description.
 */
export async function runTrigger(
  runtime: PoolRuntime,
  source: TriggerSource,
  client: AppClient,
  user: StoredUser,
  scopes: readonly string[],
): Promise<TokenOverrides> {
  if (runtime.trigger === undefined) return noOverrides;
  if (runtime.faults.trigger === 'crash') throw triggerFailure('Runtime exited with error: exit status 1');
  const version = runtime.trigger.config.version;
  const event = preTokenEvent({
    version,
    triggerSource: source,
    region: runtime.region,
    userPoolId: runtime.userPoolId,
    clientId: client.clientId,
    user,
    scopes,
  });
  const { overrides, ignored } = readOverrides(version, await runtime.trigger.invoke(event));
  if (ignored.length > 0) runtime.log('trigger claims ignored (value type not allowed)', { claims: ignored });
  return overrides;
}
