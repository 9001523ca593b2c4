/**
 * Response bodies per event version. V2 and V3 share one shape (typed values, ID and access
 * token); V1 customises the ID token only and carries strings only.
 */
import { isCognitoOwnedClaim, isNationalIdName } from './privacy.ts';
import type {
  CanonicalClaims,
  ClaimName,
  Claims,
  ClaimsAndScopeOverrideDetails,
  ClaimsOverrideDetails,
  ClaimValue,
  GroupConfiguration,
  PreTokenEvent,
  UserAttributes,
} from './types.ts';

/**
 * The access token carries only what APIs authorise on: who vouched for the person (`idp`,
 * `idp_env`, `idp_sub`), how strongly (`assurance`), and which verified communities
 * (`affiliations`), each with its flat companion, plus the schema version. No names, birthdate,
 * email or country: access tokens travel to every API and into their logs.
 */
export const accessTokenClaimNames: readonly ClaimName[] = [
  'idp',
  'idp_env',
  'idp_sub',
  'assurance',
  'assurance_level',
  'affiliations',
  'affiliation_tags',
  'claims_schema',
];

/** Drops claim names no trigger may set (Cognito-owned) or that denote a national identifier. */
export function safeClaims(claims: Readonly<Record<string, ClaimValue | undefined>>): Claims {
  const out: Claims = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined || isCognitoOwnedClaim(name) || isNationalIdName(name)) continue;
    out[name] = value;
  }
  return out;
}

function pick(claims: CanonicalClaims, names: readonly ClaimName[]): Claims {
  const out: Record<string, ClaimValue | undefined> = {};
  for (const name of names) out[name] = claims[name];
  return safeClaims(out);
}

/**
 * Attributes Cognito would copy into the ID token that the canonical set does not replace. For a
 * federated user every such attribute is suppressed (an allow-list: raw `custom:` attributes,
 * stale values, and anything mapped by mistake, national identifiers included); Cognito-owned
 * claims cannot be suppressed and are left out.
 */
export function claimsToSuppress(attributes: UserAttributes, added: Iterable<string>): string[] {
  const keep = new Set(added);
  return Object.keys(attributes)
    .filter((name) => !keep.has(name) && !isCognitoOwnedClaim(name))
    .sort();
}

/**
 * The request's group configuration, to be sent back unchanged: Cognito replaces the groups with
 * whatever `groupOverrideDetails` says, so leaving it out of a response would be the riskier choice.
 * Undefined when the request had none.
 */
export function groupOverrideFrom(config: unknown): GroupConfiguration | undefined {
  if (typeof config !== 'object' || config === null) return undefined;
  const c = config as Record<string, unknown>;
  const strings = (v: unknown) =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : undefined;
  const out: GroupConfiguration = {};
  const groups = strings(c.groupsToOverride);
  const roles = strings(c.iamRolesToOverride);
  if (groups !== undefined) out.groupsToOverride = groups;
  if (roles !== undefined) out.iamRolesToOverride = roles;
  if (typeof c.preferredRole === 'string') out.preferredRole = c.preferredRole;
  return Object.keys(out).length === 0 ? undefined : out;
}

/** V2/V3: typed claims in the ID token, the access-token subset, raw attributes suppressed. */
export function buildV2Details(
  claims: CanonicalClaims,
  attributes: UserAttributes,
  groups: GroupConfiguration | undefined,
): ClaimsAndScopeOverrideDetails {
  const idClaims = safeClaims({ ...claims });
  const suppress = claimsToSuppress(attributes, Object.keys(idClaims));
  return {
    idTokenGeneration: {
      claimsToAddOrOverride: idClaims,
      ...(suppress.length === 0 ? {} : { claimsToSuppress: suppress }),
    },
    accessTokenGeneration: { claimsToAddOrOverride: pick(claims, accessTokenClaimNames) },
    ...(groups === undefined ? {} : { groupOverrideDetails: groups }),
  };
}

/** V1 (the Lite plan): the same claims in the ID token, encoded as strings (see encodeForV1). */
export function buildV1Details(
  claims: CanonicalClaims,
  attributes: UserAttributes,
  groups: GroupConfiguration | undefined,
): ClaimsOverrideDetails {
  const idClaims = encodeForV1(safeClaims({ ...claims }));
  const suppress = claimsToSuppress(attributes, Object.keys(idClaims));
  return {
    claimsToAddOrOverride: idClaims,
    ...(suppress.length === 0 ? {} : { claimsToSuppress: suppress }),
    ...(groups === undefined ? {} : { groupOverrideDetails: groups }),
  };
}

/**
 * V1 claim values are strings: arrays and objects become JSON (`'["military:veteran"]'`),
 * booleans `"true"`/`"false"`. `email_verified: false` is left out instead, because the string
 * `"false"` is truthy and a consumer testing `if (claims.email_verified)` would read it as verified.
 */
export function encodeForV1(claims: Claims): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (name === 'email_verified' && value === false) continue;
    out[name] =
      typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}

/** The fallback when normalisation failed: add nothing, suppress every raw attribute, keep groups. */
export function buildSuppressOnlyResponse(
  shape: 'v1' | 'v2',
  attributes: UserAttributes,
  groups: GroupConfiguration | undefined,
): PreTokenEvent['response'] {
  const suppress = claimsToSuppress(attributes, []);
  const groupPart = groups === undefined ? {} : { groupOverrideDetails: groups };
  return shape === 'v1'
    ? { claimsOverrideDetails: { claimsToAddOrOverride: {}, claimsToSuppress: suppress, ...groupPart } }
    : {
        claimsAndScopeOverrideDetails: {
          idTokenGeneration: { claimsToAddOrOverride: {}, claimsToSuppress: suppress },
          ...groupPart,
        },
      };
}
