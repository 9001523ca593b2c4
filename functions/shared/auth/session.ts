/**
 * The browser session: one encrypted cookie holding what the broker needs later, and nothing a page
 * script can read (HttpOnly). It keeps the refresh token (to get fresh ID tokens), the identity id,
 * the provider, the session's start and end, and the canonical claims /auth/session shows. It does not
 * keep the ID token: a Cognito refresh token (~1.7 KB) and ID token (~1.3 KB) together would not fit
 * comfortably in one 4 KB cookie, so /credentials derives ID tokens from the refresh token and keeps
 * them in memory per container (see session-credentials.ts).
 */
import { randomBytes } from 'node:crypto';
import { canonicalClaimNames } from '../claims/types.ts';
import { BrokerError } from '../errors.ts';
import type { HttpEvent } from '../http.ts';
import type { IdTokenClaims } from '../oidc/verify.ts';
import type { AuthConfig } from './config.ts';
import {
  type CookieKeyring,
  CookieRejectedError,
  type CookieRejection,
  type CookieSpec,
  clearCookie,
  cookieSpecs,
  cookieValues,
  openCookie,
  sealCookie,
  setCookie,
} from './cookies.ts';
import { checkCookieRequestOrigin } from './request.ts';

/** Kept when the full claims would make the cookie too large. */
const essentialClaimNames: readonly string[] = ['idp', 'idp_env', 'assurance_level', 'claims_schema'];

/** The whole Set-Cookie line must stay below this (browsers allow 4096); claims are trimmed to fit. */
export const sessionCookieBudget = 3584;

export interface Session {
  /** Random id of this session (keys the per-container ID-token cache). */
  sid: string;
  /** Cognito `sub` of the user. */
  sub: string;
  /** Cognito provider name, e.g. IDmeSandbox. */
  provider: string;
  identityId: string | undefined;
  claims: Readonly<Record<string, unknown>>;
  /** True when claims were cut down to fit the cookie. */
  claimsTrimmed: boolean;
  /** Epoch seconds. */
  signedInAt: number;
  /** Epoch seconds; the session ends then whatever the refresh token's own lifetime. */
  expiresAt: number;
  refreshToken: string;
}

/** The canonical claims of a verified ID token. */
export function sessionClaimsOf(claims: IdTokenClaims): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of canonicalClaimNames) if (claims[name] !== undefined) out[name] = claims[name];
  return out;
}

/** The Cognito provider name from the `identities` claim (primary entry first). */
export function providerOf(claims: IdTokenClaims): string | undefined {
  const identities = claims.identities;
  if (!Array.isArray(identities)) return undefined;
  const entries = identities.filter(
    (i): i is { providerName: string; primary?: unknown } =>
      typeof i === 'object' &&
      i !== null &&
      typeof (i as { providerName?: unknown }).providerName === 'string',
  );
  return (entries.find((i) => i.primary === 'true' || i.primary === true) ?? entries[0])?.providerName;
}

export function startSession(input: {
  claims: IdTokenClaims;
  refreshToken: string;
  provider: string;
  identityId: string | undefined;
  nowSeconds: number;
  maxAgeSeconds: number;
}): Session {
  return {
    sid: randomBytes(16).toString('base64url'),
    sub: input.claims.sub,
    provider: input.provider,
    identityId: input.identityId,
    claims: sessionClaimsOf(input.claims),
    claimsTrimmed: false,
    signedInAt: input.nowSeconds,
    expiresAt: input.nowSeconds + input.maxAgeSeconds,
    refreshToken: input.refreshToken,
  };
}

/** The session after a refresh: new claims, and the new refresh token if Cognito rotated it. */
export function refreshedSession(
  session: Session,
  update: { claims?: IdTokenClaims; refreshToken?: string | undefined; identityId?: string | undefined },
): Session {
  return {
    ...session,
    ...(update.claims ? { claims: sessionClaimsOf(update.claims), claimsTrimmed: false } : {}),
    ...(update.refreshToken ? { refreshToken: update.refreshToken } : {}),
    ...(update.identityId ? { identityId: update.identityId } : {}),
  };
}

export interface SealedSession {
  /** The Set-Cookie value. */
  setCookie: string;
  /** Its length in bytes (what counts against the browser's 4096). */
  bytes: number;
  /** The session as sealed (claims possibly trimmed). */
  session: Session;
}

/**
 * Seals the session into its Set-Cookie line, trimming the claims to the essential ones if the
 * line would exceed `sessionCookieBudget`.
 *
 * @throws BrokerError (500) if even the trimmed session does not fit.
 */
export async function sealSession(
  session: Session,
  keyring: CookieKeyring,
  spec: CookieSpec,
  nowSeconds: number,
): Promise<SealedSession> {
  const seal = async (s: Session) => {
    const value = await sealCookie(
      'session',
      {
        meta: {
          v: 1,
          sid: s.sid,
          sub: s.sub,
          prv: s.provider,
          ...(s.identityId ? { iid: s.identityId } : {}),
          c: s.claims,
          ...(s.claimsTrimmed ? { ct: 1 } : {}),
          iat: s.signedInAt,
          exp: s.expiresAt,
        },
        token: s.refreshToken,
      },
      keyring,
    );
    const line = setCookie(spec, value, s.expiresAt - nowSeconds);
    return { setCookie: line, bytes: Buffer.byteLength(line), session: s };
  };
  const full = await seal(session);
  if (full.bytes <= sessionCookieBudget) return full;
  const trimmed: Session = {
    ...session,
    claims: Object.fromEntries(
      Object.entries(session.claims).filter(([k]) => essentialClaimNames.includes(k)),
    ),
    claimsTrimmed: true,
  };
  const small = await seal(trimmed);
  if (small.bytes <= sessionCookieBudget) return small;
  throw new BrokerError('The session is too large to keep in a cookie', {
    statusCode: 500,
    code: 'session_too_large',
    expose: false,
    hint: `session cookie would be ${small.bytes} bytes (refresh token ${session.refreshToken.length} characters)`,
  });
}

export type SessionRead =
  | { session: Session; rejected?: undefined }
  | { session?: undefined; rejected: CookieRejection | 'missing' };

/**
 * The request's session, or why there is none. Of several cookies with the session's name, the first
 * that opens wins (a cookie planted for a parent path cannot shadow the real one).
 */
export async function readSession(
  event: Pick<HttpEvent, 'cookies' | 'headers'>,
  keyring: CookieKeyring,
  spec: CookieSpec,
  nowSeconds: number,
): Promise<SessionRead> {
  const values = cookieValues(event, spec.name).filter((v) => v !== '');
  let rejected: CookieRejection | undefined;
  for (const value of values) {
    try {
      const opened = await openCookie(value, 'session', keyring, nowSeconds);
      const m = opened.meta;
      if (
        m.v !== 1 ||
        typeof m.sid !== 'string' ||
        typeof m.sub !== 'string' ||
        typeof m.prv !== 'string' ||
        typeof m.iat !== 'number' ||
        opened.token === undefined ||
        (m.iid !== undefined && typeof m.iid !== 'string') ||
        typeof m.c !== 'object' ||
        m.c === null
      ) {
        throw new CookieRejectedError('malformed', 'The session cookie content is malformed');
      }
      return {
        session: {
          sid: m.sid,
          sub: m.sub,
          provider: m.prv,
          identityId: m.iid as string | undefined,
          claims: m.c as Record<string, unknown>,
          claimsTrimmed: m.ct === 1,
          signedInAt: m.iat,
          expiresAt: m.exp,
          refreshToken: opened.token,
        },
      };
    } catch (error) {
      if (!(error instanceof CookieRejectedError)) throw error;
      rejected ??= error.reason;
    }
  }
  return { rejected: rejected ?? 'missing' };
}

export interface SessionView {
  signedIn: boolean;
  provider?: string;
  identityId?: string | null;
  claims?: Readonly<Record<string, unknown>>;
  claimsTrimmed?: boolean;
  signedInAt?: string;
  expiresAt?: string;
}

/** What GET /auth/session answers: never tokens. */
function sessionView(session: Session | undefined): SessionView {
  if (session === undefined) return { signedIn: false };
  return {
    signedIn: true,
    provider: session.provider,
    identityId: session.identityId ?? null,
    claims: session.claims,
    ...(session.claimsTrimmed ? { claimsTrimmed: true } : {}),
    signedInAt: new Date(session.signedInAt * 1000).toISOString(),
    expiresAt: new Date(session.expiresAt * 1000).toISOString(),
  };
}

/**
 * GET /auth/session: the view, same-site only. A session is shown only once `confirm` says it still
 * stands (the refresh_token grant, confirmSession in session-credentials.ts): a copy of a cookie whose
 * session was signed out shows nothing. A cookie that can no longer be opened (expired, altered,
 * retired key) or whose session has ended is removed; one whose refresh token was rotated is rewritten.
 *
 * @throws ForbiddenError for a cross-site request; what `confirm` throws when Cognito cannot say (an
 *   error answer, never the claims).
 */
export async function sessionStatus(
  event: Pick<HttpEvent, 'cookies' | 'headers'>,
  deps: {
    config: Pick<AuthConfig, 'allowedOrigins' | 'selfOrigin' | 'secureCookies' | 'callbackUrl'>;
    keyring: CookieKeyring;
    nowSeconds: number;
    confirm: (session: Session) => Promise<Session | undefined>;
  },
): Promise<{ view: SessionView; cookies: string[] }> {
  checkCookieRequestOrigin(event, deps.config);
  const spec = cookieSpecs(deps.config).session;
  const read = await readSession(event, deps.keyring, spec, deps.nowSeconds);
  if (read.session === undefined) {
    return { view: sessionView(undefined), cookies: read.rejected === 'missing' ? [] : [clearCookie(spec)] };
  }
  const session = await deps.confirm(read.session);
  if (session === undefined) return { view: sessionView(undefined), cookies: [clearCookie(spec)] };
  if (session === read.session) return { view: sessionView(session), cookies: [] };
  const sealed = await sealSession(session, deps.keyring, spec, deps.nowSeconds);
  return { view: sessionView(sealed.session), cookies: [sealed.setCookie] };
}
