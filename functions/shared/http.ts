import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { BrokerError, type ErrorCode, UpstreamError } from './errors.ts';
import type { Logger } from './log.ts';
import { recordResponse } from './metrics.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2 & {
  headers: Record<string, string>;
  statusCode: number;
};

/** Headers every broker response carries: nothing here may be cached or sniffed. */
const baseHeaders: Readonly<Record<string, string>> = Object.freeze({
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
});

/**
 * Headers for what a browser renders or follows: HTML pages and redirects. Both can carry secrets in
 * their URL (the callback's `code` and `state`, the authorize request's `state`, `nonce` and PKCE
 * challenge), so no Referer leaves them; nothing of the broker may be framed (clickjacking) or run
 * script; HSTS pins https once the broker is served over it.
 *
 * @example redirect responses: `{ ...documentHeaders({ https: config.secureCookies }), Location }`
 */
export function documentHeaders(options: {
  /** The broker is served over https (PUBLIC_BASE_URL): adds Strict-Transport-Security. */
  https: boolean;
  /** CSP `style-src` sources for a page's own inline style (a `'sha256-…'` hash); none by default. */
  styleSrc?: string;
}): Record<string, string> {
  return {
    ...baseHeaders,
    'Content-Security-Policy': `default-src 'none'; style-src ${options.styleSrc ?? "'none'"}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    ...(options.https ? { 'Strict-Transport-Security': 'max-age=31536000; includeSubDomains' } : {}),
  };
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { ...baseHeaders, 'Content-Type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** A header value by case-insensitive name (HTTP API v2 lower-cases names; tests and tools may not). */
export function header(event: Pick<HttpEvent, 'headers'>, name: string): string | undefined {
  const headers = event.headers ?? {};
  const direct = headers[name.toLowerCase()];
  if (direct !== undefined) return direct;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === lower) return value;
  return undefined;
}

export function requestIdOf(
  event: Partial<HttpEvent> | undefined,
  context: Partial<Context> | undefined,
): string {
  return event?.requestContext?.requestId ?? context?.awsRequestId ?? 'unknown';
}

interface ErrorBody {
  error: ErrorCode;
  message: string;
  requestId: string;
}

/**
 * Options for every HTTP handler's middy. Middy's default reserves 5 ms before the function's Timeout;
 * answering, logging and Lambda's own hand-off need more, so the 504 is answered 250 ms early.
 */
const middyOptions = { timeoutEarlyInMillis: 250 } as const;

/**
 * An HTTP API handler as every function wires it: middy, the invocation's log context, and errors
 * answered as `{ error, message, requestId }` (or by `errors`: the callback answers with pages).
 */
export function httpHandler(
  log: Logger,
  handle: (event: HttpEvent, context: Context) => Promise<HttpResult>,
  errors: MiddlewareObj<HttpEvent, HttpResult> = errorResponses(log),
) {
  return middy<HttpEvent, HttpResult>(middyOptions).use(invocationLog(log)).use(errors).handler(handle);
}

/**
 * Middy's early timeout (it fires just before the function's Timeout, when upstream calls together
 * took too long) as the 504 it is, rather than an unexplained 500. Anything else is returned as is.
 */
export function deadlineError(error: unknown): unknown {
  const isMiddyTimeout =
    error instanceof Error &&
    error.name === 'TimeoutError' &&
    (error.cause as { package?: unknown } | undefined)?.package === '@middy/core';
  if (!isMiddyTimeout) return error;
  return new UpstreamError('The broker ran out of time waiting for an upstream service; try again', {
    statusCode: 504,
    code: 'upstream_timeout',
    cause: error,
    hint: "the function reached its Timeout (template.yaml) before its upstream calls finished: check the upstreams' health, and keep UPSTREAM_TIMEOUT_MS well below the Timeout",
  });
}

/** Renders any thrown value as `{ error, message, requestId }`; unexposed errors become a plain 500. */
export function renderError(thrown: unknown, requestId: string, log: Logger): HttpResult {
  const error = deadlineError(thrown);
  if (error instanceof BrokerError) {
    const context = { requestId, error: error.code, status: error.statusCode, hint: error.hint };
    if (error.statusCode >= 500) log.error(error.message, { ...context, cause: error.cause });
    else log.info('request refused', { ...context, reason: error.message });
    const body: ErrorBody = error.expose
      ? { error: error.code, message: error.message, requestId }
      : { error: 'internal_error', message: 'The broker could not complete the request.', requestId };
    return json(error.statusCode, body, error.headers);
  }
  log.error('unhandled error', { requestId, cause: error });
  return json(500, {
    error: 'internal_error',
    message: 'The broker could not complete the request.',
    requestId,
  } satisfies ErrorBody);
}

/** The error code of an answer: a thrown error's, or the one its body names (JSON `error`, a page's `data-error`). */
function errorCodeOf(response: HttpResult | undefined, thrown: unknown): string | undefined {
  const code = (deadlineError(thrown) as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  if (thrown !== undefined && thrown !== null) return 'internal_error';
  const match = /"error":"([a-z_]{1,64})"|data-error="([a-z_]{1,64})"/.exec(String(response?.body ?? ''));
  return match?.[1] ?? match?.[2];
}

let coldStart = true;

/**
 * Middy middleware, first in every HTTP handler: the request id (the API's, the one error answers
 * show), the function and whether this is the container's first invocation go on every log line of
 * the invocation, instead of being passed to each call.
 */
function invocationLog(log: Logger): MiddlewareObj<HttpEvent, HttpResult> {
  const end = () => log.setInvocation(undefined);
  return {
    before: (request) => {
      log.setInvocation({
        requestId: requestIdOf(request.event, request.context),
        function: request.context?.functionName,
        coldStart,
      });
      coldStart = false;
    },
    // After the other middlewares (middy runs these in reverse order), so their lines keep the context.
    after: end,
    onError: end,
  };
}

/** Counts an answer (metrics.ts): by route, 5xx or not, and its error code from 400 on. */
export function countResponse(request: {
  event: Partial<HttpEvent>;
  response: HttpResult | undefined | null;
  error?: unknown;
}): void {
  const status = request.response?.statusCode ?? 500;
  const error = status >= 400 ? errorCodeOf(request.response ?? undefined, request.error) : undefined;
  recordResponse(request.event?.routeKey, status, error);
}

/** Middy middleware: every error leaves the handler through `renderError`; every answer is counted. */
function errorResponses(log: Logger): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    after: (request) => countResponse(request),
    onError: (request) => {
      request.response = renderError(request.error, requestIdOf(request.event, request.context), log);
      countResponse(request);
    },
  };
}
