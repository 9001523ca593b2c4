/**
 * Encrypted, authenticated cookies: compact JWE (`dir` + `A256GCM`) with the key id in the protected
 * header, so keys can rotate (new cookies use the current key, cookies sealed with an older key in
 * the set still open). The protected header also names the cookie's purpose (`typ`), so a login-state
 * cookie can never be replayed as a session.
 *
 * The plaintext is a small binary envelope rather than JSON alone: a JSON object with the cookie's
 * fields, followed by an optional compact token (the refresh token) stored as raw bytes instead of
 * base64url text. A Cognito refresh token is ~1.7 KB of base64url; kept as bytes it costs ~1.3 KB
 * before the JWE's own base64url, which keeps the session cookie well under the 4 KB browsers allow.
 * No compression is used: compressing secrets together with user-influenced data leaks through size.
 */
import { hkdfSync } from 'node:crypto';
import { CompactEncrypt, compactDecrypt, decodeProtectedHeader } from 'jose';
import type { HttpEvent } from '../http.ts';
import type { CookieKeySet } from './keyring.ts';

/** AES-256-GCM keys by key id, derived from the configured key set. */
export interface CookieKeyring {
  current: string;
  keys: ReadonlyMap<string, Uint8Array>;
}

/**
 * Derives one 256-bit key per key id with HKDF-SHA256 (the key id is part of `info`, so two ids with
 * the same secret still get different keys).
 *
 * @example const keyring = deriveKeyring({ current: 'k1', secrets: { k1: '…32+ characters…' } });
 */
export function deriveKeyring(set: CookieKeySet): CookieKeyring {
  const keys = new Map<string, Uint8Array>();
  for (const [kid, secret] of Object.entries(set.secrets)) {
    const info = `federation-broker cookie key ${kid}`;
    keys.set(kid, new Uint8Array(hkdfSync('sha256', secret, new Uint8Array(0), info, 32)));
  }
  return { current: set.current, keys };
}

export type CookiePurpose = 'login-state' | 'session';
const typOf: Record<CookiePurpose, string> = {
  'login-state': 'broker-login-state',
  session: 'broker-session',
};

export type CookieRejection =
  | 'malformed'
  | 'too_large'
  | 'unknown_key'
  | 'tampered'
  | 'wrong_purpose'
  | 'expired';

/** Why a cookie could not be opened. Callers turn it into a response; the value is never logged. */
export class CookieRejectedError extends Error {
  readonly reason: CookieRejection;
  constructor(reason: CookieRejection, message: string) {
    super(message);
    this.name = 'CookieRejectedError';
    this.reason = reason;
  }
}

/** Browsers keep at most 4096 bytes per cookie (name, value and attributes); nothing larger is opened. */
export const maxCookieBytes = 4096;
const formatVersion = 1;

export interface CookieContent {
  /** JSON-safe fields; `exp` (epoch seconds) is mandatory and checked on opening. */
  meta: { exp: number } & Record<string, unknown>;
  /** A compact JWS/JWE (the refresh token), stored as bytes. */
  token?: string | undefined;
}

/**
 * Seals `content` for `purpose` with the current key.
 *
 * @example const value = await sealCookie('session', { meta: { exp, sub }, token: refreshToken }, keyring);
 */
export async function sealCookie(
  purpose: CookiePurpose,
  content: CookieContent,
  keyring: CookieKeyring,
): Promise<string> {
  const key = keyring.keys.get(keyring.current);
  if (key === undefined) throw new Error(`cookie key "${keyring.current}" is not in the key set`);
  return new CompactEncrypt(encodePlaintext(content))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: keyring.current, typ: typOf[purpose] })
    .encrypt(key);
}

export interface OpenedCookie {
  meta: { exp: number } & Record<string, unknown>;
  token: string | undefined;
  kid: string;
}

/**
 * Decrypts and checks a cookie value: known key id, intact ciphertext, the expected purpose, not
 * expired at `nowSeconds`.
 *
 * @throws CookieRejectedError with the reason.
 */
export async function openCookie(
  value: string,
  purpose: CookiePurpose,
  keyring: CookieKeyring,
  nowSeconds: number,
): Promise<OpenedCookie> {
  if (value.length > maxCookieBytes) throw new CookieRejectedError('too_large', 'The cookie is too large');
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(value);
  } catch {
    throw new CookieRejectedError('malformed', 'The cookie is not a sealed broker cookie');
  }
  if (header.alg !== 'dir' || header.enc !== 'A256GCM' || typeof header.kid !== 'string') {
    throw new CookieRejectedError('malformed', 'The cookie is not a sealed broker cookie');
  }
  const key = keyring.keys.get(header.kid);
  if (key === undefined) {
    throw new CookieRejectedError(
      'unknown_key',
      'The cookie was sealed with a key this broker does not have',
    );
  }
  let plaintext: Uint8Array;
  let typ: unknown;
  try {
    const result = await compactDecrypt(value, key, {
      keyManagementAlgorithms: ['dir'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    plaintext = result.plaintext;
    typ = result.protectedHeader.typ;
  } catch {
    throw new CookieRejectedError('tampered', 'The cookie failed decryption (altered or sealed elsewhere)');
  }
  if (typ !== typOf[purpose]) {
    throw new CookieRejectedError('wrong_purpose', `The cookie is not a ${purpose} cookie`);
  }
  const content = decodePlaintext(plaintext);
  if (!(content.meta.exp > nowSeconds)) throw new CookieRejectedError('expired', 'The cookie has expired');
  return { meta: content.meta, token: content.token, kid: header.kid };
}

function encodePlaintext(content: CookieContent): Uint8Array {
  const meta = Buffer.from(JSON.stringify(content.meta), 'utf8');
  if (meta.length > 0xffff) throw new Error('cookie fields are too large');
  const token = content.token === undefined ? undefined : packCompactToken(content.token);
  return Buffer.concat([
    Uint8Array.of(formatVersion, meta.length >> 8, meta.length & 0xff, token === undefined ? 0 : 1),
    meta,
    token ?? new Uint8Array(0),
  ]);
}

function decodePlaintext(bytes: Uint8Array): { meta: OpenedCookie['meta']; token: string | undefined } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const malformed = () => new CookieRejectedError('malformed', 'The cookie content is malformed');
  if (buf.length < 4 || buf[0] !== formatVersion) throw malformed();
  const metaLength = ((buf[1] as number) << 8) | (buf[2] as number);
  const hasToken = buf[3] === 1;
  if (4 + metaLength > buf.length) throw malformed();
  let meta: unknown;
  try {
    meta = JSON.parse(buf.subarray(4, 4 + metaLength).toString('utf8'));
  } catch {
    throw malformed();
  }
  if (typeof meta !== 'object' || meta === null || typeof (meta as { exp?: unknown }).exp !== 'number') {
    throw malformed();
  }
  const rest = buf.subarray(4 + metaLength);
  if (!hasToken && rest.length > 0) throw malformed();
  return { meta: meta as OpenedCookie['meta'], token: hasToken ? unpackCompactToken(rest) : undefined };
}

const compactAlphabet = /^[A-Za-z0-9_.-]+$/;

/**
 * A compact JWS/JWE as bytes: each dot-separated part base64url-decoded behind a 2-byte length.
 * Falls back to the UTF-8 text (part count 0) when the token would not survive the round trip exactly.
 */
export function packCompactToken(token: string): Uint8Array {
  const parts = token.split('.');
  const decoded = parts.map((part) => Buffer.from(part, 'base64url'));
  const exact =
    compactAlphabet.test(token) &&
    parts.length <= 255 &&
    decoded.every((bytes, i) => bytes.length <= 0xffff && bytes.toString('base64url') === parts[i]);
  if (!exact) return Buffer.concat([Uint8Array.of(0), Buffer.from(token, 'utf8')]);
  const chunks: Uint8Array[] = [Uint8Array.of(parts.length)];
  for (const bytes of decoded) chunks.push(Uint8Array.of(bytes.length >> 8, bytes.length & 0xff), bytes);
  return Buffer.concat(chunks);
}

/** The inverse of packCompactToken. @throws CookieRejectedError('malformed'). */
export function unpackCompactToken(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const malformed = () => new CookieRejectedError('malformed', 'The cookie token is malformed');
  if (buf.length === 0) throw malformed();
  const count = buf[0] as number;
  if (count === 0) return buf.subarray(1).toString('utf8');
  const parts: string[] = [];
  let offset = 1;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > buf.length) throw malformed();
    const length = ((buf[offset] as number) << 8) | (buf[offset + 1] as number);
    offset += 2;
    if (offset + length > buf.length) throw malformed();
    parts.push(buf.subarray(offset, offset + length).toString('base64url'));
    offset += length;
  }
  if (offset !== buf.length) throw malformed();
  return parts.join('.');
}

// ---------------------------------------------------------------- Set-Cookie / Cookie

/** A cookie's name and scope. Both broker cookies are HttpOnly and SameSite=Lax. */
export interface CookieSpec {
  name: string;
  path: string;
  secure: boolean;
}

export interface CookieSpecs {
  /** `__Host-broker-session`, Path=/ (the prefix forbids Domain and requires Secure and Path=/). */
  session: CookieSpec;
  /** `__Secure-broker-login`, scoped to the callback path (so `__Host-` is not possible). */
  loginState: CookieSpec;
}

/**
 * Cookie names and scopes for a deployment. Over https both cookies are Secure and prefixed; over
 * plain http (loopback only, the offline stack) neither, because Secure cookies on http://localhost
 * are browser-dependent (Safari and cookie-jar libraries drop them).
 */
export function cookieSpecs(config: { secureCookies: boolean; callbackUrl: string }): CookieSpecs {
  const secure = config.secureCookies;
  return {
    session: { name: secure ? '__Host-broker-session' : 'broker-session', path: '/', secure },
    loginState: {
      name: secure ? '__Secure-broker-login' : 'broker-login',
      path: new URL(config.callbackUrl).pathname,
      secure,
    },
  };
}

/** A `Set-Cookie` value (for HTTP API v2's `cookies` array). */
export function setCookie(spec: CookieSpec, value: string, maxAgeSeconds: number): string {
  return `${spec.name}=${value}; Path=${spec.path}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; HttpOnly${
    spec.secure ? '; Secure' : ''
  }; SameSite=Lax`;
}

/** A `Set-Cookie` value that deletes the cookie (same name, path and attributes, Max-Age=0). */
export function clearCookie(spec: CookieSpec): string {
  return `${spec.name}=; Path=${spec.path}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly${
    spec.secure ? '; Secure' : ''
  }; SameSite=Lax`;
}

/**
 * Every value of the cookie `name` the request carries (HTTP API v2 puts them in `event.cookies`;
 * a raw `Cookie` header is read too). Several values are possible (same name, different paths).
 */
export function cookieValues(event: Pick<HttpEvent, 'cookies' | 'headers'>, name: string): string[] {
  const pairs =
    event.cookies ??
    Object.entries(event.headers ?? {})
      .filter(([key]) => key.toLowerCase() === 'cookie')
      .flatMap(([, value]) => (value ?? '').split(';'));
  const values: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) values.push(pair.slice(eq + 1).trim());
  }
  return values;
}
