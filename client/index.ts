/**
 * The broker's client for frontends and Node services: an AWS SDK v3 credential provider plus the
 * sign-in helpers. No dependency at run time (only `fetch`); the types come from @smithy/types.
 *
 * Browser: no `idToken`; the HttpOnly session cookie goes with every request (`credentials: 'include'`).
 * Node: `idToken` returns a current ID token, sent as `Authorization: Bearer`.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface BrokerClientOptions {
  /** The broker API's origin, e.g. `https://broker.example.com`; `''` for the page's own origin. */
  readonly baseUrl: string;
  /** A current ID token (Node, mobile); without it the session cookie is used. */
  readonly idToken?: () => Promise<string>;
  readonly fetch?: typeof fetch;
  /** Clock in epoch milliseconds (tests move it). */
  readonly now?: () => number;
  /** Waits before a throttled request is retried (tests answer at once). */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Credentials are reused until this long before they expire. Default 5 minutes: the AWS SDK asks
   * its provider again 5 minutes before `expiration`, so a smaller margin would hand it the same
   * credentials again, and the broker's own cache keeps credentials only while > 5 minutes are left.
   */
  readonly refreshMarginMs?: number;
  /** How often a `throttled` answer is retried after its `Retry-After`. Default 2. */
  readonly maxRetries?: number;
  /** A longer `Retry-After` is not waited for: the ThrottledError is thrown at once. Default 30 s. */
  readonly maxRetryAfterMs?: number;
}

/** What `/credentials` returns, as the AWS SDK reads it, plus the Cognito identity id. */
export interface BrokerCredentials extends AwsCredentialIdentity {
  readonly sessionToken: string;
  readonly expiration: Date;
  readonly identityId: string;
}

/**
 * An `AwsCredentialIdentityProvider` for any AWS SDK v3 client (`credentials: provider`); the SDK
 * passes `forceRefresh` when it wants new credentials whatever the cache holds.
 */
export type BrokerCredentialProvider = (properties?: {
  forceRefresh?: boolean;
}) => Promise<BrokerCredentials>;

export type Session =
  | { readonly signedIn: false }
  | {
      readonly signedIn: true;
      readonly provider: string;
      readonly identityId: string | null;
      /** The canonical claims (docs/claims.md). */
      readonly claims: Readonly<Record<string, unknown>>;
      readonly signedInAt: string;
      readonly expiresAt: string;
    };

export interface BrokerClient {
  readonly credentials: BrokerCredentialProvider;
  /** Whether the browser is signed in, with the canonical claims (session cookie). */
  session(): Promise<Session>;
  /** Where to send the browser to sign in with a Cognito provider name (e.g. `IDmeSandbox`). */
  signInUrl(provider: string, returnTo?: string): string;
  /** Ends the session and forgets cached credentials; returns the Cognito logout URL to navigate to. */
  signOut(): Promise<string>;
}

/** Any error answer of the broker: `code` is the API's stable `error` value. */
export class BrokerError extends Error {
  readonly code: string;
  /** HTTP status; 0 when the broker could not be reached. */
  readonly status: number;
  readonly requestId: string | undefined;

  constructor(code: string, message: string, status: number, requestId?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.requestId = requestId;
  }
}

/** The session ended, was revoked or never existed: the person must sign in again. */
export class SignInRequiredError extends BrokerError {
  /** The sign-in URL for the provider of the last session this client saw, if it saw one. */
  readonly loginUrl: string | undefined;
  readonly #signInUrl: (provider: string, returnTo?: string) => string;

  constructor(
    body: ErrorBody,
    status: number,
    signInUrl: (provider: string, returnTo?: string) => string,
    lastProvider: string | undefined,
  ) {
    super(body.error, body.message, status, body.requestId);
    this.#signInUrl = signInUrl;
    this.loginUrl = lastProvider === undefined ? undefined : signInUrl(lastProvider, currentPath());
  }

  /** The sign-in URL for a provider of the person's choice. */
  signInUrl(provider: string, returnTo: string = currentPath()): string {
    return this.#signInUrl(provider, returnTo);
  }
}

/** The page's origin may not use the session cookie (`ALLOWED_ORIGINS`), or the request was cross-site. */
export class OriginNotAllowedError extends BrokerError {}

/** The bearer ID token (`idToken`) was refused (expired, wrong audience, …): get a fresh one. */
export class TokenRejectedError extends BrokerError {}

/** Cognito throttled the broker and the retries ran out (or the wait was too long). */
export class ThrottledError extends BrokerError {
  /** The last `Retry-After`, in milliseconds. */
  readonly retryAfterMs: number;

  constructor(body: ErrorBody, status: number, retryAfterMs: number) {
    super(body.error, body.message, status, body.requestId);
    this.retryAfterMs = retryAfterMs;
  }
}

/** An upstream (Cognito, the IdP's keys) failed or timed out; trying later may work. */
export class UpstreamError extends BrokerError {}

interface ErrorBody {
  readonly error: string;
  readonly message: string;
  readonly requestId?: string;
}

const SIGN_IN_AGAIN = new Set(['session_expired', 'session_invalid', 'session_revoked', 'unauthenticated']);
const ORIGIN = new Set(['origin_not_allowed', 'cross_site_request']);
const THROTTLED = new Set(['throttled', 'limit_exceeded']);

function currentPath(): string {
  const location = (globalThis as { location?: { pathname: string; search: string } }).location;
  return location === undefined ? '/' : `${location.pathname}${location.search}`;
}

/** `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3); 1 s when absent or unreadable. */
function retryAfterMs(header: string | null, now: number): number {
  if (header === null) return 1000;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1000 : Math.max(0, at - now);
}

/** The broker client: one credential cache, one in-flight request, the sign-in helpers. */
export function createBrokerClient(options: BrokerClientOptions): BrokerClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const maxRetries = options.maxRetries ?? 2;
  const maxRetryAfter = options.maxRetryAfterMs ?? 30_000;

  let cached: BrokerCredentials | undefined;
  let inflight: Promise<BrokerCredentials> | undefined;
  // Bumped by signOut, so a request that was in flight cannot refill the cache afterwards.
  let generation = 0;
  let lastProvider: string | undefined;

  const signInUrl = (provider: string, returnTo = '/'): string =>
    `${base}/auth/login?${new URLSearchParams({ provider, return_to: returnTo })}`;

  async function request(path: string, method: 'GET' | 'POST'): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.idToken !== undefined) headers.authorization = `Bearer ${await options.idToken()}`;
    try {
      return await doFetch(`${base}${path}`, {
        method,
        headers,
        credentials: options.idToken === undefined ? 'include' : 'omit',
      });
    } catch (error) {
      throw new BrokerError('unreachable', 'The broker could not be reached', 0, undefined, { cause: error });
    }
  }

  async function errorBody(response: Response): Promise<ErrorBody> {
    const text = await response.text();
    try {
      const body = JSON.parse(text) as Partial<ErrorBody>;
      if (typeof body.error === 'string') {
        return {
          error: body.error,
          message: typeof body.message === 'string' ? body.message : body.error,
          ...(typeof body.requestId === 'string' ? { requestId: body.requestId } : {}),
        };
      }
    } catch {
      // Not the broker's JSON (a gateway's own page): classified by status below.
    }
    return { error: `http_${response.status}`, message: `The broker answered ${response.status}` };
  }

  /** The typed error for an answer that is not OK. */
  function toError(body: ErrorBody, response: Response): BrokerError {
    const { status } = response;
    // With the session cookie, any 401 (session_mismatch, a refreshed token refused…) ends the
    // session (the broker clears the cookie): only signing in again helps.
    if (SIGN_IN_AGAIN.has(body.error) || (status === 401 && options.idToken === undefined)) {
      return new SignInRequiredError(body, status, signInUrl, lastProvider);
    }
    if (ORIGIN.has(body.error))
      return new OriginNotAllowedError(body.error, body.message, status, body.requestId);
    if (THROTTLED.has(body.error) || status === 429) {
      return new ThrottledError(body, status, retryAfterMs(response.headers.get('retry-after'), now()));
    }
    if (status === 502 || status === 503 || status === 504) {
      return new UpstreamError(body.error, body.message, status, body.requestId);
    }
    if (status === 401 && /invalid_token/.test(response.headers.get('www-authenticate') ?? '')) {
      return new TokenRejectedError(body.error, body.message, status, body.requestId);
    }
    return new BrokerError(body.error, body.message, status, body.requestId);
  }

  async function json(path: string, method: 'GET' | 'POST'): Promise<Record<string, unknown>> {
    const response = await request(path, method);
    if (!response.ok) throw toError(await errorBody(response), response);
    return (await response.json()) as Record<string, unknown>;
  }

  function parseCredentials(body: Record<string, unknown>): BrokerCredentials {
    const { AccessKeyId, SecretAccessKey, Token, Expiration, IdentityId } = body;
    const expiration = new Date(typeof Expiration === 'string' ? Expiration : Number.NaN);
    if (
      typeof AccessKeyId !== 'string' ||
      typeof SecretAccessKey !== 'string' ||
      typeof Token !== 'string' ||
      typeof IdentityId !== 'string' ||
      Number.isNaN(expiration.getTime())
    ) {
      throw new BrokerError(
        'invalid_response',
        'The broker answered credentials without a required field',
        200,
      );
    }
    return {
      accessKeyId: AccessKeyId,
      secretAccessKey: SecretAccessKey,
      sessionToken: Token,
      expiration,
      identityId: IdentityId,
    };
  }

  async function fetchCredentials(): Promise<BrokerCredentials> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return parseCredentials(await json('/credentials', 'POST'));
      } catch (error) {
        if (
          !(error instanceof ThrottledError) ||
          attempt >= maxRetries ||
          error.retryAfterMs > maxRetryAfter
        ) {
          throw error;
        }
        await sleep(error.retryAfterMs);
      }
    }
  }

  const fresh = (c: BrokerCredentials | undefined): c is BrokerCredentials =>
    c !== undefined && c.expiration.getTime() - now() > margin;

  const credentials = (async (properties?: { forceRefresh?: boolean }): Promise<BrokerCredentials> => {
    if (properties?.forceRefresh !== true && fresh(cached)) return cached;
    if (inflight === undefined) {
      const started = generation;
      const pending: Promise<BrokerCredentials> = fetchCredentials()
        .then((issued) => {
          if (started === generation) cached = issued;
          return issued;
        })
        .finally(() => {
          if (inflight === pending) inflight = undefined;
        });
      inflight = pending;
    }
    return inflight;
  }) satisfies BrokerCredentialProvider & AwsCredentialIdentityProvider;

  return {
    credentials,
    async session() {
      const body = (await json('/auth/session', 'GET')) as Session;
      if (body.signedIn) lastProvider = body.provider;
      return body;
    },
    signInUrl,
    async signOut() {
      generation += 1;
      cached = undefined;
      inflight = undefined;
      const { logoutUrl } = await json('/auth/logout', 'POST');
      if (typeof logoutUrl !== 'string') {
        throw new BrokerError(
          'invalid_response',
          'The broker answered the sign-out without a logout URL',
          200,
        );
      }
      return logoutUrl;
    },
  };
}

/**
 * A credential provider for any AWS SDK v3 client:
 * `new S3Client({ region, credentials: brokerCredentials({ baseUrl }) })`.
 */
export function brokerCredentials(options: BrokerClientOptions): BrokerCredentialProvider {
  return createBrokerClient(options).credentials;
}
