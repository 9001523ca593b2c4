/**
 * The broker's metrics, as CloudWatch embedded metric format (EMF) lines on stdout: Lambda sends
 * stdout to CloudWatch Logs, which turns each line into metrics
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * Written here rather than by Powertools Metrics (README "Operating it", with the numbers): Powertools
 * logs a warning for every document whose dimension sets share a dimension (each event here has a
 * service-wide or coarser set beside its split), and costs more per event and at a cold start.
 *
 * One line per event, written at once: each event has its own dimensions, nothing waits for the end
 * of the invocation, and a timeout cannot lose what was already counted. Every dimension value comes
 * from a fixed list (a provider name of the configuration, a reason code the broker defines, a route
 * of the template), never an identity, a `sub` or free text: anything else becomes `other`.
 */
import { BrokerError, errorCodes } from './errors.ts';

const namespace = 'FederationBroker';

/** The dimension `service` of every metric: the stack name in AWS (template.yaml). */
const service = process.env.POWERTOOLS_SERVICE_NAME || 'federation-broker';

type Dimensions = Record<string, string>;
type Unit = 'Count' | 'Milliseconds';

/**
 * Writes one EMF document: `values` under every dimension set in `sets` (each also has `service`;
 * an empty set `{}` gives the service-wide total). Counting must never fail a request (the trigger,
 * above all, must always answer Cognito), so a failure is reported on stderr and dropped.
 */
function emit(sets: Dimensions[], values: Array<[name: string, unit: Unit, value: number]>): void {
  try {
    const document: Record<string, unknown> = {
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: namespace,
            Dimensions: sets.map((set) => ['service', ...Object.keys(set)]),
            Metrics: values.map(([name, unit]) => ({ Name: name, Unit: unit })),
          },
        ],
      },
      service,
    };
    for (const set of sets) Object.assign(document, set);
    for (const [name, , value] of values) document[name] = value;
    process.stdout.write(`${JSON.stringify(document)}\n`);
  } catch (error) {
    process.stderr.write(`metrics not written: ${(error as Error).message}\n`);
  }
}

/** The codes the broker answers with (errors.ts) and the outcomes only its audit lines use. */
export const reasonCodes: ReadonlySet<string> = new Set<string>([
  ...errorCodes,
  'no_session',
  'revoke_failed',
]);

/** A reason code as a dimension value: `revoke_failed:invalid_client` counts as `revoke_failed`. */
export function reasonDimension(reason: string | undefined): string {
  const code = reason?.split(':')[0];
  return code !== undefined && reasonCodes.has(code) ? code : 'other';
}

/** A Cognito provider name (IDme, IduraTest…): the configuration's, so few; anything odd is `other`. */
export function providerDimension(provider: string | undefined): string {
  if (provider === undefined || provider === '') return 'unknown';
  return /^[A-Za-z0-9_-]{1,32}$/.test(provider) ? provider : 'other';
}

/** The path of a template route (`GET /credentials` → `/credentials`). */
export function routeDimension(routeKey: string | undefined): string {
  const path = routeKey?.split(' ')[1];
  return path !== undefined && /^\/[a-z/_-]{0,40}$/.test(path) ? path : 'unknown';
}

const one = (name: string): [string, Unit, number] => [name, 'Count', 1];

export type SignInStep = 'started' | 'succeeded' | 'failed';

/** `/auth/login` redirected (started); `/auth/callback` finished (succeeded or failed, with a reason). */
export function recordSignIn(step: SignInStep, provider: string | undefined, reason?: string): void {
  const name = { started: 'SignInStarted', succeeded: 'SignInSucceeded', failed: 'SignInFailed' }[step];
  const byProvider: Dimensions =
    step === 'failed'
      ? { provider: providerDimension(provider), reason: reasonDimension(reason) }
      : { provider: providerDimension(provider) };
  emit([{}, byProvider], [one(name)]);
}

/** `/credentials` answered 200, by how the caller authenticated and whether the cache answered. */
export function recordCredentialsIssued(path: 'bearer' | 'session', cached: boolean): void {
  emit([{ path }, { path, cache: cached ? 'hit' : 'miss' }], [one('CredentialsIssued')]);
}

/** A session's refresh_token grant (`ok`, or the reason it failed). */
export function recordRefresh(outcome: 'ok' | string): void {
  emit([{ outcome: outcome === 'ok' ? 'ok' : reasonDimension(outcome) }], [one('SessionRefreshes')]);
}

/** `/auth/logout`: `revoked`, `no_session` (nothing to revoke) or `revoke_failed`. */
export function recordSignOut(outcome: string): void {
  emit([{ outcome: outcome === 'revoked' ? 'revoked' : reasonDimension(outcome) }], [one('SignOuts')]);
}

/** The pre-token-generation trigger's decision (normalized, not-federated, fallback…). */
export function recordTriggerDecision(provider: string | undefined, decision: string): void {
  const value = /^[a-z-]{1,32}$/.test(decision) ? decision : 'other';
  emit(
    [{ decision: value }, { provider: providerDimension(provider), decision: value }],
    [one('TriggerDecisions')],
  );
}

/** Every HTTP answer: `Responses`, `ServerError` (0 or 1, so its average is the 5xx share) and, from 400 on, `ErrorResponses`. */
export function recordResponse(routeKey: string | undefined, statusCode: number, error?: string): void {
  const route = routeDimension(routeKey);
  emit([{ route }], [one('Responses'), ['ServerError', 'Count', statusCode >= 500 ? 1 : 0]]);
  if (statusCode >= 400) {
    const code = reasonDimension(error);
    emit([{ error: code }, { route, error: code }], [one('ErrorResponses')]);
  }
}

export type UpstreamTarget =
  | 'TokenEndpoint'
  | 'Jwks'
  | 'GetId'
  | 'GetCredentialsForIdentity'
  | 'SecretsManager';
export type UpstreamOutcome = 'ok' | 'refused' | 'throttled' | 'limit_exceeded' | 'timeout' | 'failed';

function recordUpstream(target: UpstreamTarget, outcome: UpstreamOutcome, milliseconds: number): void {
  emit(
    [{ target }, { target, outcome }, { outcome }],
    [one('UpstreamCalls'), ['UpstreamLatency', 'Milliseconds', Math.round(milliseconds)]],
  );
}

/** What a failed upstream call amounts to, from the broker error it was translated to (or the raw one). */
function upstreamOutcomeOf(error: unknown): UpstreamOutcome {
  const name = (error as { name?: unknown } | null)?.name;
  if (error instanceof BrokerError) {
    if (error.code === 'throttled' || error.code === 'limit_exceeded') return error.code;
    if (error.code === 'upstream_timeout' || error.statusCode === 504) return 'timeout';
    return error.statusCode < 500 ? 'refused' : 'failed';
  }
  return name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'failed';
}

/**
 * Runs one upstream call and records it: its latency and its outcome (`ok`, or what the result or
 * the error says).
 *
 * @example const id = await upstreamCall('GetId', () => client.send(new GetIdCommand(input)));
 */
export async function upstreamCall<T>(
  target: UpstreamTarget,
  call: () => Promise<T>,
  outcomeOfResult: (result: T) => UpstreamOutcome = () => 'ok',
): Promise<T> {
  const started = performance.now();
  try {
    const result = await call();
    recordUpstream(target, outcomeOfResult(result), performance.now() - started);
    return result;
  } catch (error) {
    recordUpstream(target, upstreamOutcomeOf(error), performance.now() - started);
    throw error;
  }
}

/** An HTTP answer's outcome: 2xx/3xx `ok`, 429 `throttled`, other 4xx `refused`, 5xx `failed`. */
export function httpOutcome(response: { status: number }): UpstreamOutcome {
  if (response.status === 429) return 'throttled';
  if (response.status >= 500) return 'failed';
  return response.status >= 400 ? 'refused' : 'ok';
}
