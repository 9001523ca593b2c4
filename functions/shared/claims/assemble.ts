/**
 * Turns what a provider normalizer read into the canonical claim set: adds the origin claims and
 * the schema version, runs the last privacy check over every value, and derives the flat
 * companion claims used as principal tags.
 */
import { containsNationalId } from './privacy.ts';
import {
  type Assurance,
  type CanonicalClaims,
  type ClaimName,
  canonicalClaimNames,
  claimsSchemaVersion,
  type Normalized,
  noTagValue,
  type Origin,
} from './types.ts';

/** The provider-specific part of the claim set (the principal-tag claims are derived here, not given). */
export type Profile = Partial<
  Pick<
    CanonicalClaims,
    | 'given_name'
    | 'family_name'
    | 'middle_name'
    | 'name'
    | 'birthdate'
    | 'email'
    | 'email_verified'
    | 'country'
    | 'eid_scheme'
    | 'assurance'
    | 'affiliations'
  >
>;

/** Principal-tag values are at most 256 characters (Cognito identity pool, STS session tags). */
const maxTagValueLength = 256;

const textClaims = [
  'given_name',
  'middle_name',
  'family_name',
  'name',
  'birthdate',
  'email',
  'country',
  'eid_scheme',
] as const;

/**
 * Assembles the canonical claims. A value that still looks like a national identifier here (the
 * normalizers already reject them) is dropped and reported in `rejected`.
 */
export function assembleClaims(origin: Origin, profile: Profile, rejected: ClaimName[]): Normalized {
  const out: Partial<CanonicalClaims> = { ...profile };
  for (const name of textClaims) {
    const value = out[name];
    if (value !== undefined && containsNationalId(value)) {
      delete out[name];
      rejected.push(name);
    }
  }
  if (out.email === undefined) delete out.email_verified;

  const assurance = cleanAssurance(out.assurance);
  if (out.assurance?.source_acr !== undefined && assurance?.source_acr === undefined)
    rejected.push('assurance');
  if (assurance === undefined) delete out.assurance;
  else {
    out.assurance = assurance;
    const level = assurance.ial ?? assurance.loa;
    if (level !== undefined) out.assurance_level = level;
  }

  // A community literally named "none" could not be told from no affiliation at all: dropped.
  const affiliations = [
    ...new Set((out.affiliations ?? []).filter((a) => a !== noTagValue && !containsNationalId(a))),
  ].sort();
  if (affiliations.length === 0) delete out.affiliations;
  else {
    out.affiliations = affiliations;
    out.affiliation_tags = tagValue(affiliations) || noTagValue;
  }

  const claims: CanonicalClaims = {
    assurance_level: noTagValue,
    affiliation_tags: noTagValue,
    ...out,
    idp: origin.idp,
    idp_env: origin.env,
    ...(origin.userId === undefined ? {} : { idp_sub: origin.userId }),
    claims_schema: claimsSchemaVersion,
  };
  return { claims: ordered(claims), rejected: [...new Set(rejected)] };
}

function cleanAssurance(assurance: Assurance | undefined): Assurance | undefined {
  if (assurance === undefined) return undefined;
  const out: Assurance = {};
  if (assurance.ial !== undefined) out.ial = assurance.ial;
  if (assurance.aal !== undefined) out.aal = assurance.aal;
  if (assurance.loa !== undefined) out.loa = assurance.loa;
  if (assurance.source_acr !== undefined && !containsNationalId(assurance.source_acr)) {
    out.source_acr = assurance.source_acr;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

/**
 * Space-separated values that fit a principal tag. Whole entries are dropped from the end of the
 * sorted list rather than cutting one in half (a cut `military:veteran` could read as another value).
 */
export function tagValue(values: readonly string[]): string {
  let out = '';
  for (const value of values) {
    const next = out === '' ? value : `${out} ${value}`;
    if (next.length > maxTagValueLength) break;
    out = next;
  }
  return out;
}

function ordered(claims: CanonicalClaims): CanonicalClaims {
  const out: Record<string, unknown> = {};
  for (const name of canonicalClaimNames) {
    if (claims[name] !== undefined) out[name] = claims[name];
  }
  return out as unknown as CanonicalClaims;
}
