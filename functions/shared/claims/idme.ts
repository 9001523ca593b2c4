/**
 * ID.me: user-pool attributes (as mapped by template.yaml) to canonical claims. Every rule is a
 * table below; docs/claims.md explains each decision.
 */
import { assembleClaims, type Profile } from './assemble.ts';
import { normalizeBirthdate } from './dates.ts';
import { parseStructured } from './structured.ts';
import type {
  Aal,
  Assurance,
  ClaimName,
  Ial,
  Normalized,
  NormalizeOptions,
  Origin,
  UserAttributes,
} from './types.ts';
import { joinName, lookup, normalizeEmail, normalizeName, parseBoolean, slug, text } from './values.ts';

/** Pool attribute <- ID.me claim, as in the template's AttributeMapping. */
export const idmeAttributes = {
  givenName: 'given_name', // fname
  familyName: 'family_name', // lname
  middleName: 'middle_name', // mname
  email: 'email', // email
  birthdate: 'custom:idp_birthdate', // birth_date
  ial: 'custom:idp_ial', // credential_ial
  aal: 'custom:idp_aal', // credential_aal
  loa: 'custom:idp_loa', // level_of_assurance
  status: 'custom:idme_status', // status (community verification)
} as const;

/**
 * `credential_ial` values (trimmed, lower case). `classic_loa3` is ID.me's legacy LOA3 proofing,
 * which NIST 800-63-3 maps to IAL2 (decision, not an ID.me statement). The URIs are the policy
 * handles, accepted in case a policy reports them here.
 */
export const idmeIalTable: Readonly<Record<string, Assurance>> = {
  '1': { ial: 'IAL1' },
  '2': { ial: 'IAL2' },
  ial1: { ial: 'IAL1' },
  ial2: { ial: 'IAL2' },
  classic_loa3: { ial: 'IAL2' },
  'http://idmanagement.gov/ns/assurance/ial/1/aal/2': { ial: 'IAL1', aal: 'AAL2' },
  'http://idmanagement.gov/ns/assurance/ial/2/aal/2': { ial: 'IAL2', aal: 'AAL2' },
  'http://idmanagement.gov/ns/assurance/loa/3': { ial: 'IAL2', aal: 'AAL2' },
};

/** `credential_aal` values. */
const idmeAalTable: Readonly<Record<string, Assurance>> = {
  '1': { aal: 'AAL1' },
  '2': { aal: 'AAL2' },
  '3': { aal: 'AAL3' },
  aal1: { aal: 'AAL1' },
  aal2: { aal: 'AAL2' },
  aal3: { aal: 'AAL3' },
};

/**
 * `level_of_assurance` (legacy OMB M-04-04 levels). LOA3 requires remote proofing and two factors
 * (IAL2, AAL2); LOA1 asserts no proofing (IAL1). LOA2 has no single 800-63-3 equivalent and is
 * left out rather than guessed.
 */
const idmeLoaTable: Readonly<Record<string, Assurance>> = {
  '1': { ial: 'IAL1' },
  '3': { ial: 'IAL2', aal: 'AAL2' },
};

const ialRank: Readonly<Record<Ial, number>> = { IAL1: 1, IAL2: 2, IAL3: 3 };
const aalRank: Readonly<Record<Aal, number>> = { AAL1: 1, AAL2: 2, AAL3: 3 };

/** ID.me sends birth dates as `YYYY-MM-DD`; IAL2 (TEFCA-style) profiles as `MM/DD/YYYY`. */
const idmeDateFormats = ['iso', 'us'] as const;

/**
 * Whether an email from this provider counts as verified. ID.me confirms an address when the
 * account is created, but that is not documented for relying parties, so: no (decision).
 */
const idmeEmailVerified = false;

/**
 * Canonical claims for an ID.me user.
 *
 * @example normalizeIdmeClaims(event.request.userAttributes, origin, { now: new Date() })
 */
export function normalizeIdmeClaims(
  attributes: UserAttributes,
  origin: Origin,
  options: NormalizeOptions,
): Normalized {
  const rejected: ClaimName[] = [];
  const read = <T>(claim: ClaimName, attribute: string, parse: (raw: unknown) => T | undefined) => {
    const raw = attributes[attribute];
    const value = parse(raw);
    if (value === undefined && text(raw) !== undefined) rejected.push(claim);
    return value;
  };

  const givenName = read('given_name', idmeAttributes.givenName, normalizeName);
  const middleName = read('middle_name', idmeAttributes.middleName, normalizeName);
  const familyName = read('family_name', idmeAttributes.familyName, normalizeName);
  const email = read('email', idmeAttributes.email, normalizeEmail);
  const assurance = idmeAssurance(attributes);
  const assuranceInputs = [idmeAttributes.ial, idmeAttributes.aal, idmeAttributes.loa];
  if (assurance === undefined && assuranceInputs.some((a) => text(attributes[a]) !== undefined)) {
    rejected.push('assurance');
  }
  const statusPresent = text(attributes[idmeAttributes.status]) !== undefined;
  const affiliations = statusPresent ? idmeAffiliations(attributes[idmeAttributes.status]) : undefined;
  if (statusPresent && affiliations === undefined) rejected.push('affiliations');

  const profile: Profile = {
    given_name: givenName,
    middle_name: middleName,
    family_name: familyName,
    name: joinName(givenName, middleName, familyName),
    birthdate: read('birthdate', idmeAttributes.birthdate, (raw) =>
      normalizeBirthdate(raw, idmeDateFormats, options.now),
    ),
    email,
    email_verified: email === undefined ? undefined : idmeEmailVerified,
    assurance,
    affiliations,
  };
  return assembleClaims(origin, profile, rejected);
}

/**
 * Identity and authentication assurance from `credential_ial`, `credential_aal` and
 * `level_of_assurance`. When the sources disagree, the lower level wins: a stale or inconsistent
 * attribute must never raise assurance.
 */
export function idmeAssurance(attributes: UserAttributes): Assurance | undefined {
  const key = (attribute: string) => text(attributes[attribute])?.toLowerCase();
  const ialKey = key(idmeAttributes.ial);
  const aalKey = key(idmeAttributes.aal);
  const loaKey = key(idmeAttributes.loa);
  const sources = [
    lookup(idmeIalTable, ialKey),
    lookup(idmeAalTable, aalKey),
    lookup(idmeLoaTable, loaKey),
  ].filter((s) => s !== undefined);
  const ial = lowest(
    sources.map((s) => s.ial),
    ialRank,
  );
  const aal = lowest(
    sources.map((s) => s.aal),
    aalRank,
  );
  const out: Assurance = {};
  if (ial !== undefined) out.ial = ial;
  if (aal !== undefined) out.aal = aal;
  if (ialKey !== undefined && lookup(idmeIalTable, ialKey) !== undefined) out.source_acr = ialKey;
  return Object.keys(out).length === 0 ? undefined : out;
}

function lowest<L extends string>(
  levels: (L | undefined)[],
  rank: Readonly<Record<L, number>>,
): L | undefined {
  let out: L | undefined;
  for (const level of levels) {
    if (level !== undefined && (out === undefined || rank[level] < rank[out])) out = level;
  }
  return out;
}

/**
 * Verified community affiliations from ID.me's `status`
 * (`[{"group":"military","subgroups":["Veteran"],"verified":true}]`): one `group:subgroup` per
 * verified subgroup, or `group` when there is none. Unverified entries are skipped: `verified`
 * refers to the group, and nothing is inferred from it alone. Returns `[]` when the value parsed
 * but held nothing verified, undefined when it could not be read at all.
 *
 * @example idmeAffiliations('[{"group":"military","subgroups":["Veteran"],"verified":true}]') // ['military:veteran']
 */
export function idmeAffiliations(value: unknown): string[] | undefined {
  const parsed = parseStructured(value);
  if (parsed === undefined) return undefined;
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  const out = new Set<string>();
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    const e = entry as Record<string, unknown>;
    if (parseBoolean(e.verified) !== true) continue;
    const group = slug(e.group);
    if (group === undefined) continue;
    const subgroups = (Array.isArray(e.subgroups) ? e.subgroups : [e.subgroups])
      .map(slug)
      .filter((s) => s !== undefined);
    if (subgroups.length === 0) out.add(group);
    for (const subgroup of subgroups) out.add(`${group}:${subgroup}`);
  }
  return [...out].sort();
}
