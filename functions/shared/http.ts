import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { BrokerError } from './errors.ts';
import type { Logger } from './log.ts';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = APIGatewayProxyStructuredResultV2 & {
  headers: Record<string, string>;
  statusCode: number;
};

/** Headers every broker response carries: nothing here may be cached or sniffed. */
export const baseHeaders: Readonly<Record<string, string>> = Object.freeze({
  'Cache-Control': 'no-store',
  Pragma: 'no-cache',
  'X-Content-Type-Options': 'nosniff',
});

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

export interface ErrorBody {
  error: string;
  message: string;
  requestId: string;
}

/** Renders any thrown value as `{ error, message, requestId }`; unexposed errors become a plain 500. */
export function renderError(error: unknown, requestId: string, log: Logger): HttpResult {
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

/** Middy middleware: every error leaves the handler through `renderError`. */
export function errorResponses(log: Logger): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: (request) => {
      request.response = renderError(request.error, requestIdOf(request.event, request.context), log);
    },
  };
}
