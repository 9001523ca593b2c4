// The pre-token-generation trigger as the user pool stand-in runs it: the function named by the
// template's `LambdaConfig.PreTokenGenerationConfig`, in its own isolated runtime (local/lambda/),
// called with a genuine event of the configured version, retried as Cognito retries, and its answer
// applied the way Cognito does (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html).

import { lambdaFunction } from '../lambda/functions.ts';
import { type FunctionRuntime, functionRuntime, InvocationError } from '../lambda/runtime.ts';
import type { TemplateResolver } from '../template.ts';
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
  // Every value is a string; `identities` is the JSON array serialised (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html).
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

/** Claims whose ID-token value must not be an object (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html). */
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
  // An empty or null groupOverrideDetails removes the groups (https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-pre-token-generation.html).
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

/** How long Cognito waits for each attempt (cognito-user-pools-working-with-lambda-triggers). */
const COGNITO_WAIT_MS = 5000;
/** Attempts before Cognito gives up on a trigger that does not answer. */
const COGNITO_ATTEMPTS = 3;

/** A failed invocation, with the text Cognito puts in `error_description`. */
export function triggerFailure(message: string): SignInError {
  // Cognito wraps a trigger's error as "<Trigger> failed with error <message>." (amplify-js#3778
  // for PreSignUp, floci#3851 for PreAuthentication); assumed the same for this trigger.
  return new SignInError('invalid_request', `PreTokenGeneration failed with error ${message}.`);
}

export interface TriggerRunnerOptions {
  region: string;
  quiet: boolean;
  /** Cognito's wait per attempt; tests shorten it instead of sleeping five seconds. */
  waitMs?: number;
  /** Values for the function's declared variables, like `sam local --env-vars`. */
  envVars?: Record<string, string>;
  /** Receives the function's stdout lines, quiet or not (its EMF lines, local/emf.ts). */
  output?: (chunk: string) => void;
}

/**
 * The trigger function as Cognito calls it: its own isolated runtime (local/lambda/), built from
 * its artifact with its template environment, started when the stand-in starts (a warm container,
 * so a slow machine's cold start is not charged to the first sign-in). Each attempt waits at most
 * 5 seconds; an attempt that gets no answer is retried, three attempts in all, as
 * https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-working-with-lambda-triggers.html
 * says ("must respond within 5 seconds … If it doesn't and if the call can be retried, Amazon
 * Cognito retries the call. After three unsuccessful attempts, the function times out"). A retry
 * while the earlier attempt still runs gets another container (FunctionRuntime), as Lambda gives a
 * concurrent invocation another execution environment. An answer within the wait, including
 * Lambda's own timeout error for a function whose Timeout is shorter, is final: the strictest
 * reading, since the page does not say a function error is retried.
 */
export class TriggerRunner {
  readonly config: TriggerConfig;
  private readonly runtime: Promise<FunctionRuntime>;
  private readonly waitMs: number;

  constructor(config: TriggerConfig, resolver: TemplateResolver, options: TriggerRunnerOptions) {
    this.config = config;
    this.waitMs = options.waitMs ?? COGNITO_WAIT_MS;
    this.runtime = functionRuntime(lambdaFunction(resolver, config.functionLogicalId), {
      region: options.region,
      quiet: options.quiet,
      ...(options.envVars ? { envVars: { [config.functionLogicalId]: options.envVars } } : {}),
      ...(options.output ? { output: options.output } : {}),
    });
    this.runtime.catch(() => {});
  }

  /**
   * Builds the function and starts its container.
   *
   * @throws Error when the build fails; an init error is only reported at invocation, as Lambda does.
   */
  async start(): Promise<void> {
    const runtime = await this.runtime;
    await runtime.start().catch(() => {});
  }

  setClockOffset(ms: number): void {
    // A failed build is reported by start() and invoke(), not here.
    this.runtime.then(
      (runtime) => runtime.setClockOffset(ms),
      () => {},
    );
  }

  /**
   * Invokes the function with an event and returns its answer.
   *
   * @throws SignInError with Cognito's `PreTokenGeneration failed with error …` description when
   *   the function throws, crashes or times out, or Cognito's socket timeout after three attempts.
   */
  async invoke(event: Record<string, unknown>): Promise<unknown> {
    const runtime = await this.runtime;
    for (let attempt = 1; attempt <= COGNITO_ATTEMPTS; attempt++) {
      const call = runtime.invoke(event);
      call.catch(() => {});
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'gave up'>((resolve) => {
        timer = setTimeout(() => resolve('gave up'), this.waitMs);
      });
      try {
        const outcome = await Promise.race([call.then((result) => ({ result })), gaveUp]);
        if (outcome !== 'gave up') return outcome.result;
      } catch (error) {
        throw triggerFailure(error instanceof InvocationError ? error.errorMessage : String(error));
      } finally {
        clearTimeout(timer);
      }
    }
    // Wording reported for other triggers (sst#1815, amazon-cognito-identity-dart-2#204).
    throw new SignInError(
      'invalid_request',
      'PreTokenGeneration invocation failed due to error Socket timeout while invoking Lambda function.',
    );
  }

  async close(): Promise<void> {
    await (await this.runtime.catch(() => undefined))?.close();
  }
}
