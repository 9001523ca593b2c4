// The pre-token-generation trigger as the user pool stand-in runs it: the function named by the
// template's `LambdaConfig.PreTokenGenerationConfig`, loaded from its esbuild entry point into a
// worker thread (its own process.env = the function's template environment, its own module
// scope, like a Lambda container), called with a genuine event of the configured version, and
// its answer applied the way Cognito does (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html).

import { Worker } from 'node:worker_threads';
import type { StoredUser } from './attributes.ts';
import { SignInError } from './attributes.ts';
import type { TriggerConfig, TriggerVersion } from './pool-config.ts';

export type TriggerSource = 'TokenGeneration_HostedAuth' | 'TokenGeneration_RefreshTokens';

interface GroupOverride {
  readonly groups: readonly string[];
  readonly roles: readonly string[];
  readonly preferredRole: string | null;
}

interface ClaimChanges {
  readonly add: Readonly<Record<string, unknown>>;
  readonly suppress: readonly string[];
}

/** What the trigger asked for, normalised over the event versions. */
export interface TokenOverrides {
  readonly id: ClaimChanges;
  readonly access: ClaimChanges & {
    readonly scopesToAdd: readonly string[];
    readonly scopesToSuppress: readonly string[];
  };
  /** Undefined keeps the user's groups; null removes them; otherwise replaces them. */
  readonly groups: GroupOverride | null | undefined;
}

export const noOverrides: TokenOverrides = {
  id: { add: {}, suppress: [] },
  access: { add: {}, suppress: [], scopesToAdd: [], scopesToSuppress: [] },
  groups: undefined,
};

const eventVersion: Record<TriggerVersion, string> = { V1_0: '1', V2_0: '2', V3_0: '3' };

export interface EventInput {
  readonly version: TriggerVersion;
  readonly triggerSource: TriggerSource;
  readonly region: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly user: StoredUser;
  readonly scopes: readonly string[];
}

/** A pre-token-generation event as Cognito sends it for a federated user. */
export function preTokenEvent(input: EventInput): Record<string, unknown> {
  const { sub, identities, ...mapped } = input.user.attributes;
  // Every value is a string; `identities` is the JSON array serialised (§9 of the trigger reference).
  const userAttributes: Record<string, string> = {
    sub: sub ?? input.user.sub,
    'cognito:user_status': input.user.status,
    ...(identities === undefined ? {} : { identities }),
    ...mapped,
  };
  const groupConfiguration = {
    groupsToOverride: [...input.user.groups],
    iamRolesToOverride: [],
    preferredRole: null,
  };
  const isV1 = input.version === 'V1_0';
  return {
    version: eventVersion[input.version],
    triggerSource: input.triggerSource,
    region: input.region,
    userPoolId: input.userPoolId,
    userName: input.user.username,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: input.clientId },
    request: isV1
      ? { userAttributes, groupConfiguration }
      : { userAttributes, scopes: [...input.scopes], groupConfiguration },
    response: isV1 ? { claimsOverrideDetails: null } : { claimsAndScopeOverrideDetails: null },
  };
}

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const isPrimitive = (value: unknown): boolean =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** Claims whose ID-token value must not be an object (trigger reference §5.1). */
const noObjectInIdToken = new Set(['phone_number_verified', 'email_verified', 'updated_at', 'address']);

/** Keeps the value types V2/V3 allow; V1 allows strings only. Others are ignored, and named. */
function allowedClaims(
  value: unknown,
  options: { stringsOnly: boolean; idToken: boolean },
  ignored: string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isObj(value)) return out;
  for (const [name, claim] of Object.entries(value)) {
    const ok = options.stringsOnly
      ? typeof claim === 'string'
      : isPrimitive(claim) ||
        (Array.isArray(claim) && claim.every(isPrimitive)) ||
        (isObj(claim) && !(options.idToken && noObjectInIdToken.has(name)));
    if (ok) out[name] = claim;
    else ignored.push(name);
  }
  return out;
}

function groupOverride(value: unknown): GroupOverride | null {
  // An empty or null groupOverrideDetails removes the groups (trigger reference §5.2).
  if (!isObj(value)) return null;
  const groups = strings(value.groupsToOverride);
  if (groups.length === 0 && value.iamRolesToOverride === undefined && value.preferredRole === undefined)
    return null;
  return {
    groups,
    roles: strings(value.iamRolesToOverride),
    preferredRole: typeof value.preferredRole === 'string' ? value.preferredRole : null,
  };
}

/**
 * Reads the trigger's answer for the configured version. A V2/V3 function answering in the V1
 * shape (or the reverse) changes nothing: the behaviour is undocumented.
 */
export function readOverrides(
  version: TriggerVersion,
  result: unknown,
): { overrides: TokenOverrides; ignored: string[] } {
  const ignored: string[] = [];
  const response = isObj(result) && isObj(result.response) ? result.response : {};
  if (version === 'V1_0') {
    const details = response.claimsOverrideDetails;
    if (!isObj(details)) return { overrides: noOverrides, ignored };
    return {
      overrides: {
        ...noOverrides,
        id: {
          add: allowedClaims(details.claimsToAddOrOverride, { stringsOnly: true, idToken: true }, ignored),
          suppress: strings(details.claimsToSuppress),
        },
        groups: 'groupOverrideDetails' in details ? groupOverride(details.groupOverrideDetails) : undefined,
      },
      ignored,
    };
  }
  const details = response.claimsAndScopeOverrideDetails;
  if (!isObj(details)) return { overrides: noOverrides, ignored };
  const id = isObj(details.idTokenGeneration) ? details.idTokenGeneration : {};
  const access = isObj(details.accessTokenGeneration) ? details.accessTokenGeneration : {};
  return {
    overrides: {
      id: {
        add: allowedClaims(id.claimsToAddOrOverride, { stringsOnly: false, idToken: true }, ignored),
        suppress: strings(id.claimsToSuppress),
      },
      access: {
        add: allowedClaims(access.claimsToAddOrOverride, { stringsOnly: false, idToken: false }, ignored),
        suppress: strings(access.claimsToSuppress),
        scopesToAdd: strings(access.scopesToAdd),
        scopesToSuppress: strings(access.scopesToSuppress),
      },
      groups: 'groupOverrideDetails' in details ? groupOverride(details.groupOverrideDetails) : undefined,
    },
    ignored,
  };
}

interface Pending {
  worker: Worker;
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface WorkerAnswer {
  id: number;
  result?: unknown;
  error?: { errorType?: string; errorMessage?: string };
}

const COGNITO_WAIT_MS = 5000;

/** A failed invocation, with the text Cognito puts in `error_description`. */
export function triggerFailure(message: string): SignInError {
  // Cognito wraps a trigger's error as "<Trigger> failed with error <message>." (amplify-js#3778
  // for PreSignUp, floci#3851 for PreAuthentication); assumed the same for this trigger.
  return new SignInError('invalid_request', `PreTokenGeneration failed with error ${message}.`);
}

/** One warm "container" of the trigger function; restarted after a crash or a timeout. */
export class TriggerRunner {
  readonly config: TriggerConfig;
  private readonly region: string;
  private readonly quiet: boolean;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  private readonly output: ((chunk: string | Uint8Array) => void) | undefined;

  /** `output` receives the function's stdout when quiet (its EMF lines, local/emf.ts); otherwise it is printed. */
  constructor(
    config: TriggerConfig,
    options: { region: string; quiet: boolean; output?: (chunk: string | Uint8Array) => void },
  ) {
    this.config = config;
    this.region = options.region;
    this.quiet = options.quiet;
    this.output = options.output;
  }

  private start(): Worker {
    const worker = new Worker(new URL('./trigger-worker.ts', import.meta.url), {
      workerData: {
        source: this.config.source,
        exportName: this.config.exportName,
        functionName: this.config.functionLogicalId,
        region: this.region,
      },
      env: { ...this.config.environment },
      // Quiet: the function's log lines are read and dropped; otherwise they reach stdout as in sam local.
      stdout: this.quiet,
      stderr: this.quiet,
    });
    if (this.quiet) {
      const output = this.output;
      if (output) worker.stdout.on('data', (chunk: Buffer) => output(chunk));
      else worker.stdout.resume();
      worker.stderr.resume();
    }
    worker.on('message', (answer: WorkerAnswer) => {
      const pending = this.pending.get(answer.id);
      if (pending === undefined) return;
      this.pending.delete(answer.id);
      clearTimeout(pending.timer);
      if (answer.error !== undefined)
        pending.reject(triggerFailure(answer.error.errorMessage ?? 'Unknown error'));
      else pending.resolve(answer.result);
    });
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, pending] of this.pending) {
        if (pending.worker !== worker) continue;
        clearTimeout(pending.timer);
        pending.reject(triggerFailure(error.message));
        this.pending.delete(id);
      }
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`Runtime exited with error: exit status ${code}`)));
    worker.unref();
    return worker;
  }

  /**
   * Invokes the function with an event and returns its answer.
   *
   * @throws SignInError with Cognito's `PreTokenGeneration failed with error …` description when
   *   the function throws, crashes or times out.
   */
  async invoke(event: Record<string, unknown>): Promise<unknown> {
    this.worker ??= this.start();
    const worker = this.worker;
    const id = this.nextId++;
    // Cognito waits at most 5 seconds (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html);
    // a function with a
    // shorter Timeout is stopped by Lambda first and answers with Lambda's timeout error.
    const lambdaTimesOut = this.config.functionTimeoutMs < COGNITO_WAIT_MS;
    const waitMs = Math.min(this.config.functionTimeoutMs, COGNITO_WAIT_MS);
    const deadline = Date.now() + this.config.functionTimeoutMs;
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // A timed-out container is discarded, as Lambda does.
        if (this.worker === worker) this.worker = undefined;
        void worker.terminate();
        reject(
          lambdaTimesOut
            ? triggerFailure(`Task timed out after ${(waitMs / 1000).toFixed(2)} seconds`)
            : // Wording reported for other triggers (sst#1815, amazon-cognito-identity-dart-2#204).
              new SignInError(
                'invalid_request',
                'PreTokenGeneration invocation failed due to error Socket timeout while invoking Lambda function.',
              ),
        );
      }, waitMs);
      this.pending.set(id, { worker, resolve, reject, timer });
      worker.postMessage({ id, event, deadline });
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }
}
