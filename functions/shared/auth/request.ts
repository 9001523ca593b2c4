/**
 * Small request/response pieces shared by the sign-in handlers.
 */
import { ForbiddenError } from '../errors.ts';
import { documentHeaders, type HttpEvent, type HttpResult, header } from '../http.ts';

/** The query string as URLSearchParams (the raw string keeps duplicates, which callers refuse). */
export function queryOf(event: Pick<HttpEvent, 'rawQueryString' | 'queryStringParameters'>): URLSearchParams {
  if (typeof event.rawQueryString === 'string') return new URLSearchParams(event.rawQueryString);
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined) params.set(key, value);
  }
  return params;
}

/** Whether the client prefers a page (a form post or navigation) to JSON. */
export function acceptsHtml(event: Pick<HttpEvent, 'headers'>): boolean {
  return /text\/html/i.test(header(event, 'accept') ?? '');
}

/**
 * A redirect with no-store caching and the document headers (no Referer, no framing, HSTS over https);
 * `cookies` become Set-Cookie lines (HTTP API v2).
 */
export function redirect(
  location: string,
  options: { https: boolean; cookies?: string[]; status?: 302 | 303 },
): HttpResult {
  const cookies = options.cookies ?? [];
  return {
    statusCode: options.status ?? 302,
    headers: { ...documentHeaders({ https: options.https }), Location: location },
    body: '',
    ...(cookies.length ? { cookies } : {}),
  };
}

export interface OriginPolicy {
  allowedOrigins: readonly string[];
  /** The broker's own origin (a frontend served from it is same-origin). */
  selfOrigin: string;
}

/**
 * Cross-site protection for cookie-authenticated requests (SameSite=Lax still sends the cookie on
 * same-site requests from sibling hosts, and on top-level navigations).
 * - An `Origin` header must be the broker's own origin or on the allow-list (`null` never is).
 * - Without `Origin` (browsers omit it on same-origin GETs; non-browser clients), a `Sec-Fetch-Site`
 *   header, when present, must say `same-origin` or `none` (typed into the address bar).
 *
 * @throws ForbiddenError (`origin_not_allowed` or `cross_site_request`).
 */
export function checkCookieRequestOrigin(event: Pick<HttpEvent, 'headers'>, policy: OriginPolicy): void {
  const origin = header(event, 'origin');
  if (origin !== undefined) {
    if (origin === policy.selfOrigin || policy.allowedOrigins.includes(origin)) return;
    throw new ForbiddenError(
      'Cookie-authenticated requests are only accepted from the allowed frontend origins',
      {
        code: 'origin_not_allowed',
        hint: 'add the origin to ALLOWED_ORIGINS if it is a frontend of this deployment',
      },
    );
  }
  const site = header(event, 'sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new ForbiddenError('Cross-site requests cannot use the session cookie', {
      code: 'cross_site_request',
    });
  }
}
