/**
 * One error model for the whole broker. Adapters translate foreign errors (jose, the AWS SDK,
 * fetch) into these at the edge, so code above them never sees library error names.
 */

/**
 * Every `error` code the broker answers or logs: part of the API. The README's "Error codes" table
 * documents each one (test/unit/readme.test.ts checks both ways), so a new code cannot go undocumented.
 */
export const errorCodes = [
  'access_denied',
  'algorithm_not_allowed',
  'authorization_error',
  'bad_signature',
  'code_missing',
  'cognito_error',
  'cross_site_request',
  'external_service_error',
  'forbidden',
  'identity_conflict',
  'identity_not_found',
  'idp_client_rejected',
  'idp_response_failed',
  'idp_timeout',
  'idp_userinfo_not_json',
  'internal_error',
  'invalid_claim',
  'invalid_client',
  'invalid_grant',
  'invalid_request',
  'invalid_return_to',
  'invalid_scope',
  'invalid_token',
  'invalid_token_response',
  'issuer_not_accepted',
  'keys_unavailable',
  'limit_exceeded',
  'login_required',
  'login_state_expired',
  'login_state_invalid',
  'login_state_missing',
  'malformed_token',
  'misconfigured',
  'no_refresh_token',
  'nonce_mismatch',
  'not_authorized',
  'origin_not_allowed',
  'provider_not_accepted',
  'redirect_mismatch',
  'required_attribute_missing',
  'secrets_unavailable',
  'session_expired',
  'session_invalid',
  'session_mismatch',
  'session_revoked',
  'session_too_large',
  'sign_in_failed',
  'state_mismatch',
  'state_missing',
  'state_reused',
  'throttled',
  'token_endpoint_error',
  'token_expired',
  'token_not_yet_valid',
  'token_too_large',
  'trigger_failed',
  'unauthenticated',
  'unauthorized_client',
  'unknown_identity_provider',
  'unknown_key',
  'unknown_provider',
  'untrusted_issuer',
  'upstream_error',
  'upstream_timeout',
  'upstream_unavailable',
  'wrong_audience',
  'wrong_token_use',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export interface BrokerErrorOptions extends ErrorOptions {
  statusCode: number;
  /** Stable snake_case code, part of the API. */
  code: ErrorCode;
  /** Whether the message may be shown to the caller. Defaults to true below 500. */
  expose?: boolean;
  /** Extra response headers (e.g. Retry-After, WWW-Authenticate). */
  headers?: Record<string, string>;
  /** A hint for operators, logged but never sent to the caller. */
  hint?: string;
}

export class BrokerError extends Error {
  readonly statusCode: number;
  readonly code: ErrorCode;
  readonly expose: boolean;
  readonly headers: Record<string, string>;
  readonly hint: string | undefined;

  constructor(message: string, options: BrokerErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.statusCode = options.statusCode;
    this.code = options.code;
    this.expose = options.expose ?? options.statusCode < 500;
    this.headers = options.headers ?? {};
    this.hint = options.hint;
  }
}

type Options = Omit<BrokerErrorOptions, 'statusCode' | 'code'> & { code?: ErrorCode };

/** 400: the request itself is malformed. */
export class BadRequestError extends BrokerError {
  constructor(message: string, options: Options = {}) {
    super(message, { ...options, statusCode: 400, code: options.code ?? 'invalid_request' });
  }
}

const bearerChallenge = (code: ErrorCode, message: string) =>
  `Bearer error="${code}", error_description="${message.replace(/["\\]/g, '')}"`;

/** 401: the token is missing, malformed, or fails a check. */
export class InvalidTokenError extends BrokerError {
  constructor(message: string, options: Options = {}) {
    const code = options.code ?? 'invalid_token';
    // RFC 6750 §3: error="invalid_token" for every rejected token; our finer code goes in the body.
    super(message, {
      ...options,
      statusCode: 401,
      code,
      headers: { 'WWW-Authenticate': bearerChallenge('invalid_token', message), ...options.headers },
    });
  }
}

/** 401: the token was valid but has expired. */
export class TokenExpiredError extends InvalidTokenError {
  constructor(message: string, options: Options = {}) {
    super(message, { ...options, code: 'token_expired' });
  }
}

/** 401: no credentials were presented at all. */
export class UnauthenticatedError extends BrokerError {
  constructor(message: string, options: Options = {}) {
    super(message, {
      ...options,
      statusCode: 401,
      code: options.code ?? 'unauthenticated',
      // RFC 6750 §3.1: no error code when the request carried no token.
      headers: { 'WWW-Authenticate': 'Bearer', ...options.headers },
    });
  }
}

/** 403: authenticated, but this request is not allowed (e.g. a cross-site cookie request). */
export class ForbiddenError extends BrokerError {
  constructor(message: string, options: Options = {}) {
    super(message, { ...options, statusCode: 403, code: options.code ?? 'forbidden' });
  }
}

/** 429: an upstream quota was hit; the caller may retry after `retryAfterSeconds`. */
export class ThrottledError extends BrokerError {
  constructor(message: string, retryAfterSeconds: number, options: Options = {}) {
    super(message, {
      ...options,
      statusCode: 429,
      code: options.code ?? 'throttled',
      headers: { 'Retry-After': String(retryAfterSeconds), ...options.headers },
    });
  }
}

/** 502/503/504: an upstream service failed. The message is exposed; details go to the log. */
export class UpstreamError extends BrokerError {
  constructor(message: string, options: Options & { statusCode?: 502 | 503 | 504 } = {}) {
    super(message, {
      ...options,
      statusCode: options.statusCode ?? 502,
      code: options.code ?? 'upstream_error',
      expose: true,
    });
  }
}

/**
 * 500: the deployment is misconfigured. The functions' configuration parsers throw it at container
 * start with every problem found; at run time it reports a secret or pool that does not fit. The
 * caller sees a generic message; the log says what to fix.
 */
export class ConfigError extends BrokerError {
  /** Every problem found, each naming the variable or resource to fix. */
  readonly problems: readonly string[];
  constructor(message: string, options: Options & { problems?: readonly string[] } = {}) {
    const { problems, ...rest } = options;
    super(message, { ...rest, statusCode: 500, code: options.code ?? 'misconfigured', expose: false });
    this.problems = problems ?? [message];
  }
}
