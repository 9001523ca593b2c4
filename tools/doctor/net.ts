/**
 * The doctor's only ways out: `fetch` with a timeout (injected, so tests pass a fake) and the URL
 * rules Cognito applies to an upstream IdP (HTTPS, ports 443/80).
 */
import { isLoopback } from '#broker';

export type Fetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

export type JsonResult =
  | { ok: true; body: unknown; status: number; contentType: string }
  | { ok: false; reason: string };

/** GETs a JSON document; never throws. */
export async function fetchJson(fetchFn: Fetch, url: string, timeoutMs: number): Promise<JsonResult> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      headers: { accept: 'application/json' },
      redirect: 'follow',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    return { ok: false, reason: describeFetchError(error, timeoutMs) };
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (!response.ok) {
    await response.body?.cancel();
    return { ok: false, reason: `HTTP ${response.status}` };
  }
  const text = await response.text();
  try {
    return { ok: true, body: JSON.parse(text), status: response.status, contentType };
  } catch {
    return { ok: false, reason: `the answer is not JSON (${contentType || 'no content-type'})` };
  }
}

export function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = e?.cause?.code;
  if (code !== undefined) return `connection failed (${code})`;
  return `connection failed (${e?.cause?.message ?? e?.message ?? String(error)})`;
}

export interface UrlVerdict {
  readonly url: string;
  readonly valid: boolean;
  readonly https: boolean;
  /** 443 for https, 80 for http, else the explicit port. */
  readonly port: number;
  readonly loopback: boolean;
}

export function inspectUrl(value: string): UrlVerdict {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    return { url: value, valid: false, https: false, port: 0, loopback: false };
  }
  const https = parsed.protocol === 'https:';
  const port = parsed.port === '' ? (https ? 443 : 80) : Number(parsed.port);
  return {
    url: value,
    valid: parsed.protocol === 'https:' || parsed.protocol === 'http:',
    https,
    port,
    loopback: isLoopback(parsed.hostname),
  };
}

/** The issuer without a trailing `/.well-known/openid-configuration`, if one was given. */
export function issuerFromInput(value: string): string {
  return value.replace(/\/\.well-known\/openid-configuration\/?$/, '');
}

export function discoveryUrlOf(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}
