/**
 * Where the browser goes after sign-in. Only two forms are accepted: an absolute path on the broker's
 * own origin (`/app?x=1`), or an absolute http(s) URL whose origin is on the allow-list. Everything a
 * browser could read as "another host" is refused before and after URL normalisation: protocol-relative
 * `//host`, backslash forms (`/\host`, browsers treat `\` as `/`), scheme-only `https:host`, other
 * schemes (`javascript:`, `data:`), userinfo (`https://app@evil`), control characters (browsers drop
 * tab and newline, turning `/\t/host` into `//host`) and their percent-encoded variants.
 */
import { BadRequestError } from '../errors.ts';

export interface ReturnToPolicy {
  /** Origin relative paths resolve against (the broker's public origin). */
  selfOrigin: string;
  /** Exact origins absolute URLs may point to. */
  allowedOrigins: readonly string[];
}

const maxLength = 2048;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this refuses.
const controlOrBackslash = /[\u0000-\u001f\u007f\\]/;
const absoluteHttp = /^https?:\/\/[^/\\]/i;

function refuse(reason: string): BadRequestError {
  return new BadRequestError(
    `return_to ${reason}: use a path on this site (like /app) or a URL on one of its frontends`,
    { code: 'invalid_return_to', hint: 'the frontends are the origins of ALLOWED_ORIGINS' },
  );
}

/** Percent-decodes up to three times (double-encoding), stopping at malformed input. */
function decodings(value: string): string[] {
  const out = [value];
  let current = value;
  for (let i = 0; i < 3 && current.includes('%'); i++) {
    try {
      current = decodeURIComponent(current);
    } catch {
      throw refuse('is not validly percent-encoded');
    }
    out.push(current);
  }
  return out;
}

/**
 * The validated redirect target: a normalised path for same-origin targets, a full URL otherwise.
 * `undefined` or empty input gives `fallback`.
 *
 * @throws BadRequestError (`invalid_return_to`).
 * @example resolveReturnTo('/app', { selfOrigin: 'https://api.example.com', allowedOrigins: [] }) // '/app'
 */
export function resolveReturnTo(raw: string | undefined, policy: ReturnToPolicy, fallback: string): string {
  if (raw === undefined || raw === '') return fallback;
  if (raw.length > maxLength) throw refuse(`is longer than ${maxLength} characters`);
  for (const form of decodings(raw)) {
    if (controlOrBackslash.test(form)) throw refuse('contains a backslash or a control character');
    if (form.startsWith('//')) throw refuse('is a protocol-relative URL');
  }
  if (raw.startsWith('/')) {
    const url = new URL(raw, policy.selfOrigin);
    const target = `${url.pathname}${url.search}${url.hash}`;
    // Dot segments can collapse into `//host` (`/..//evil.example`).
    if (url.origin !== policy.selfOrigin || target.startsWith('//')) throw refuse('leaves this site');
    return target;
  }
  if (!absoluteHttp.test(raw)) throw refuse('must be a path starting with / or an http(s) URL');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refuse('is not a URL');
  }
  if (url.username !== '' || url.password !== '') throw refuse('must not contain user information');
  if (!policy.allowedOrigins.includes(url.origin))
    throw refuse(`points to ${url.origin}, which is not allowed`);
  return url.href;
}
