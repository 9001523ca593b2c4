/**
 * One operation of an AWS service's JSON 1.1 protocol (POST, `X-Amz-Target: <prefix>.<Operation>`)
 * over upstream-http.ts, with the AWS SDK's error shape and its standard retry decision, so callers and
 * tests cannot tell it from the SDK's client (contract tests run both on the same exchanges).
 * Signing, when the service needs it, is the caller's signer (`@smithy/signature-v4`).
 */
import type { Agent } from 'node:http';
import { agentFor, type UpstreamResponse, type UpstreamTransport, upstreamRequest } from './upstream-http.ts';

/** An error as the SDK's JSON 1.1 deserializer throws it: `name` is the service's error type. */
export class AwsServiceError extends Error {
  readonly $fault: 'client' | 'server';
  readonly $metadata: { httpStatusCode: number; requestId: string | undefined; attempts: number };
  constructor(
    name: string,
    message: string,
    status: number,
    requestId: string | undefined,
    attempts: number,
  ) {
    super(message);
    this.name = name;
    this.$fault = status >= 500 ? 'server' : 'client';
    this.$metadata = { httpStatusCode: status, requestId, attempts };
  }
}

/** A request as `@smithy/signature-v4` signs it. */
interface SignableRequest {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: string;
}

export interface AwsJsonCallOptions {
  url: string;
  /** The X-Amz-Target prefix, e.g. `secretsmanager` or `AWSCognitoIdentityService`. */
  target: string;
  timeoutMs: number;
  /** Attempts in all (the SDK's `maxAttempts`); default 2. */
  maxAttempts?: number;
  sign?: (request: SignableRequest) => Promise<{ headers: Record<string, string> }>;
  transport?: UpstreamTransport;
  /** Waits before attempt `attempt` (2, 3…); default 20-100 ms. */
  pause?: (attempt: number) => Promise<void>;
  /** Connection pool, for a caller that closes it; default one keep-alive agent per call function. */
  agent?: () => Agent;
}

// The SDK's standard retry decision (@smithy/service-error-classification): throttling, transient and
// server errors are retried; client errors are not.
const throttlingErrors = new Set([
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'LimitExceededException',
  'PriorRequestNotComplete',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ThrottledException',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TransactionInProgressException',
]);
const transientErrors = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const networkErrorCodes = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/** Whether the SDK's standard retry strategy would try again after this error. */
function isRetryable(error: unknown): boolean {
  const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode ?? 0;
  return (
    status === 429 ||
    status >= 500 ||
    throttlingErrors.has(String(e?.name)) ||
    transientErrors.has(String(e?.name)) ||
    networkErrorCodes.has(String(e?.code))
  );
}

/** `ResourceNotFoundException` from `x-amzn-errortype` (`Type:uri`) or `__type` (`namespace#Type`). */
function errorTypeOf(response: UpstreamResponse, body: Record<string, unknown>): string {
  const raw = String(response.headers['x-amzn-errortype'] ?? body.__type ?? body.code ?? '');
  const type = raw.split(':')[0]?.split('#').pop() ?? '';
  return type === '' ? 'Unknown' : type;
}

/**
 * The answer's JSON (an empty body is `{}`), or the SDK's deserialization error. Its message is the
 * broker's own: the SDK's quotes the answer's text (JSON.parse's message) and points at a `$response`
 * field this client does not have, and a GetSecretValue answer cut short would put the secret in a
 * message that is logged.
 */
function parseBody(response: UpstreamResponse, attempt: number): Record<string, unknown> | AwsServiceError {
  if (response.body === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(response.body);
  } catch {
    value = undefined;
  }
  if (value !== null && typeof value === 'object') return value as Record<string, unknown>;
  return new AwsServiceError(
    'SyntaxError',
    `Deserialization error: the answer (HTTP ${response.status}) is not a JSON object; its text is not kept`,
    response.status,
    requestIdOf(response),
    attempt,
  );
}

function requestIdOf(response: UpstreamResponse): string | undefined {
  const id = response.headers['x-amzn-requestid'];
  return typeof id === 'string' ? id : undefined;
}

const defaultPause = () => new Promise<void>((resolve) => setTimeout(resolve, 20 + Math.random() * 80));

/**
 * Returns `call(operation, input)`: the operation's JSON answer plus `$metadata`.
 *
 * @throws AwsServiceError for an error answer; the transport's error (TimeoutError, ECONNREFUSED…)
 *   when no answer came; both after the retries the SDK would make.
 */
export function callAwsJson(options: AwsJsonCallOptions) {
  const target = new URL(options.url);
  const transport = options.transport ?? upstreamRequest;
  const maxAttempts = options.maxAttempts ?? 2;
  const pause = options.pause ?? defaultPause;
  let agent: Agent | undefined;

  return async (operation: string, input: object): Promise<Record<string, unknown>> => {
    const body = JSON.stringify(input);
    const unsigned: SignableRequest = {
      method: 'POST',
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.pathname,
      query: {},
      headers: {
        host: target.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `${options.target}.${operation}`,
      },
      body,
    };
    for (let attempt = 1; ; attempt++) {
      // Signed again for each attempt, as the SDK does: the signature carries the time.
      const { headers } = options.sign ? await options.sign(unsigned) : unsigned;
      agent = options.agent?.() ?? agent ?? agentFor(options.url);
      let error: unknown;
      try {
        const response = await transport(options.url, {
          method: 'POST',
          headers,
          body,
          timeoutMs: options.timeoutMs,
          agent,
        });
        const json = parseBody(response, attempt);
        if (json instanceof AwsServiceError) error = json;
        else if (response.status === 200) {
          return {
            ...json,
            $metadata: { httpStatusCode: 200, requestId: requestIdOf(response), attempts: attempt },
          };
        } else {
          error = new AwsServiceError(
            errorTypeOf(response, json),
            String(json.message ?? json.Message ?? 'UnknownError'),
            response.status,
            requestIdOf(response),
            attempt,
          );
        }
      } catch (thrown) {
        error = thrown;
      }
      if (attempt < maxAttempts && isRetryable(error)) {
        await pause(attempt + 1);
        continue;
      }
      // The SDK records the attempts on every error it throws, a failed connection's included.
      if (!(error instanceof AwsServiceError) && error instanceof Error) {
        Object.assign(error, { $metadata: { attempts: attempt } });
      }
      throw error;
    }
  };
}
