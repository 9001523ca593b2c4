/**
 * The Cognito pre token generation trigger (V1_0, V2_0, V3_0): one canonical, versioned claim set for
 * users federated from ID.me or Idura Verify.
 *
 * A thrown error would fail the sign-in and put its message in the user's callback URL, so nothing
 * here throws: whatever goes wrong, the trigger answers, and the log says what it decided.
 */

import type { Logger } from '../log.ts';
import { recordTriggerDecision } from '../metrics.ts';
import { canonicalClaimsFor } from './canonical.ts';
import type { ProviderTable } from './providers.ts';
import { buildSuppressOnlyResponse, buildV1Details, buildV2Details, groupOverrideFrom } from './response.ts';
import {
  clientCredentialsSource,
  type PreTokenEvent,
  type UserAttributes,
  userTriggerSources,
} from './types.ts';

export interface TriggerDeps {
  providers: ProviderTable;
  log: Logger;
  now: () => Date;
}

type Shape = 'v1' | 'v2';

/** The response shape the configured trigger version expects; undefined for versions we do not know. */
function shapeOf(event: PreTokenEvent): Shape | undefined {
  const version = versionOf(event);
  if (version === '1') return 'v1';
  if (version === '2' || version === '3') return 'v2';
  return undefined;
}

function attributesOf(event: PreTokenEvent): UserAttributes | undefined {
  const attributes = event.request?.userAttributes;
  return typeof attributes === 'object' && attributes !== null && !Array.isArray(attributes)
    ? attributes
    : undefined;
}

/** The incoming response object, to keep any field we do not set; Cognito sends one with null fields. */
function responseOf(event: PreTokenEvent): PreTokenEvent['response'] {
  const response: unknown = event.response;
  return typeof response === 'object' && response !== null && !Array.isArray(response) ? event.response : {};
}

/** `"1"`, `"2"` or `"3"` (also when sent as a number), otherwise `"other"`. */
function versionOf(event: PreTokenEvent): string {
  const version: unknown = event.version;
  const text = typeof version === 'string' || typeof version === 'number' ? String(version) : '';
  return ['1', '2', '3'].includes(text) ? text : 'other';
}

/** The trigger source for the log, only when it is one Cognito documents. */
function sourceOf(event: PreTokenEvent): string {
  const source: unknown = event.triggerSource;
  return source === clientCredentialsSource || userTriggerSources.some((s) => s === source)
    ? String(source)
    : 'other';
}

/**
 * The trigger's answer to one event: the canonical claims added (V1_0 or V2_0/V3_0 shape) and the raw
 * attributes suppressed, or the event unchanged when there is nothing to normalise. Never throws.
 */
export function normalizeTokenEvent(event: PreTokenEvent, deps: TriggerDeps): PreTokenEvent {
  if (typeof event !== 'object' || event === null) return event;
  let shape: Shape | undefined;
  let attributes: UserAttributes | undefined;
  try {
    const context = { version: versionOf(event), source: sourceOf(event) };
    shape = shapeOf(event);
    attributes = attributesOf(event);
    if (shape === undefined) {
      deps.log.warn('claims unchanged', { ...context, decision: 'unknown-version' });
      recordTriggerDecision(undefined, 'unknown-version');
      return event;
    }
    if (event.triggerSource === clientCredentialsSource) {
      deps.log.info('claims unchanged', { ...context, decision: 'machine-to-machine' });
      recordTriggerDecision(undefined, 'machine-to-machine');
      return event;
    }
    if (attributes === undefined) {
      deps.log.warn('claims unchanged', { ...context, decision: 'no-user-attributes' });
      recordTriggerDecision(undefined, 'no-user-attributes');
      return event;
    }
    const outcome = canonicalClaimsFor(attributes, deps.providers, { now: deps.now() });
    if (outcome.decision !== 'normalized') {
      deps.log.info('claims unchanged', { ...context, decision: outcome.decision });
      recordTriggerDecision(undefined, outcome.decision);
      return event;
    }
    const groups = groupOverrideFrom(event.request.groupConfiguration);
    event.response =
      shape === 'v1'
        ? {
            ...responseOf(event),
            claimsOverrideDetails: buildV1Details(outcome.claims, attributes, groups),
          }
        : {
            ...responseOf(event),
            claimsAndScopeOverrideDetails: buildV2Details(outcome.claims, attributes, groups),
          };
    deps.log.info('claims normalized', {
      ...context,
      decision: 'normalized',
      provider: outcome.origin.providerName,
      idp: outcome.origin.idp,
      idpEnv: outcome.origin.env,
      rejected: outcome.rejected,
    });
    recordTriggerDecision(outcome.origin.providerName, 'normalized');
    return event;
  } catch (error) {
    return fallback(event, shape, attributes, error, deps.log);
  }
}

/**
 * After an unexpected error: add nothing and suppress every raw attribute (so nothing
 * un-normalised reaches the token), but let the sign-in go on. Only the error's name is logged; its
 * message could quote an attribute value.
 */
function fallback(
  event: PreTokenEvent,
  shape: Shape | undefined,
  attributes: UserAttributes | undefined,
  error: unknown,
  logger: Logger,
): PreTokenEvent {
  const errorName = error instanceof Error ? error.name : typeof error;
  recordTriggerDecision(undefined, 'fallback');
  try {
    if (shape !== undefined && attributes !== undefined) {
      const groups = groupOverrideFrom(event.request?.groupConfiguration);
      event.response = { ...responseOf(event), ...buildSuppressOnlyResponse(shape, attributes, groups) };
    }
    logger.error('claims not normalized; raw attributes suppressed', { decision: 'fallback', errorName });
  } catch {
    logger.error('claims not normalized; event returned unchanged', { decision: 'fallback', errorName });
  }
  return event;
}
