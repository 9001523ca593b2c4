/**
 * Idura Verify: user-pool attributes (as mapped by template.yaml) to canonical claims. The e-ID
 * scheme and login method decide country and assurance through the tables below; docs/claims.md
 * explains each decision.
 */
import { assembleClaims, type Profile } from './assemble.ts';
import { normalizeBirthdate } from './dates.ts';
import type {
  Assurance,
  ClaimName,
  Loa,
  Normalized,
  NormalizeOptions,
  Origin,
  UserAttributes,
} from './types.ts';
import { joinName, lookup, normalizeCountry, normalizeEmail, normalizeName, text } from './values.ts';

/** Pool attribute <- Idura claim, as in the template's AttributeMapping. */
export const iduraAttributes = {
  givenName: 'given_name', // given_name
  familyName: 'family_name', // family_name
  name: 'name', // name
  email: 'email', // email (Norwegian BankID biometrics, Freja)
  emailAddress: 'custom:idp_emailaddr', // emailaddress (Vipps, Norwegian BankID biometrics)
  birthdate: 'custom:idp_birthdate', // birthdate
  country: 'custom:idp_country', // country
  acr: 'custom:idp_acr', // authenticationtype
  scheme: 'custom:eid_scheme', // identityscheme
} as const;

/** Known `identityscheme` values and the country whose e-ID each is. */
export const iduraSchemes: Readonly<Record<string, { country: string }>> = {
  dkmitid: { country: 'DK' },
  sebankid: { country: 'SE' },
  sefrejaid: { country: 'SE' },
  'nobankid-oidc': { country: 'NO' },
  nobankid: { country: 'NO' },
  novippslogin: { country: 'NO' },
  fitupas: { country: 'FI' },
  deadesso: { country: 'DE' },
};

/**
 * `authenticationtype` (the acr) -> the schemes it belongs to, and the eIDAS level when it is
 * certain: stated in the acr itself (MitID levels, Norwegian BankID biometrics), or notified at that
 * level (the German eID card: "high", 2017). Swedish BankID, plain Norwegian BankID, Vipps, Freja
 * and FTN carry no level until Idura confirms one (revised decision): consumers can still decide
 * on `assurance.source_acr`.
 */
export const iduraAcrTable: Readonly<Record<string, { schemes: readonly string[]; loa?: Loa }>> = {
  'urn:grn:authn:dk:mitid:low': { schemes: ['dkmitid'], loa: 'low' },
  'urn:grn:authn:dk:mitid:substantial': { schemes: ['dkmitid'], loa: 'substantial' },
  'urn:grn:authn:dk:mitid:high': { schemes: ['dkmitid'], loa: 'high' },
  'urn:grn:authn:dk:mitid:business': { schemes: ['dkmitid'] },
  'urn:grn:authn:se:bankid': { schemes: ['sebankid'] },
  'urn:grn:authn:se:bankid:same-device': { schemes: ['sebankid'] },
  'urn:grn:authn:se:bankid:another-device': { schemes: ['sebankid'] },
  'urn:grn:authn:se:bankid:another-device:qr': { schemes: ['sebankid'] },
  'urn:grn:authn:se:frejaid': { schemes: ['sefrejaid'] },
  'urn:grn:authn:no:bankid': { schemes: ['nobankid-oidc', 'nobankid'] },
  'urn:grn:authn:no:bankid:substantial': { schemes: ['nobankid-oidc', 'nobankid'], loa: 'substantial' },
  'urn:grn:authn:no:vipps': { schemes: ['novippslogin'] },
  'urn:grn:authn:fi:bank-id': { schemes: ['fitupas'] },
  'urn:grn:authn:fi:mobile-id': { schemes: ['fitupas'] },
  'urn:grn:authn:fi:all': { schemes: ['fitupas'] },
  'urn:grn:authn:de:personalausweis': { schemes: ['deadesso'], loa: 'high' },
};

/** Login methods Idura adds later are passed on verbatim as `source_acr`, without a level. */
const acrPattern = /^urn:grn:authn:[a-z0-9._:-]{1,100}$/;
const schemePattern = /^[a-z][a-z0-9-]{1,31}$/;

/** Idura sends `YYYY-MM-DD`; the compact form is accepted as well. Never day-first. */
const iduraDateFormats = ['iso', 'basic'] as const;

/** No e-ID verifies the email address it releases (decision). */
const iduraEmailVerified = false;

/**
 * Canonical claims for an Idura Verify user.
 *
 * @example normalizeIduraClaims(event.request.userAttributes, origin, { now: new Date() })
 */
export function normalizeIduraClaims(
  attributes: UserAttributes,
  origin: Origin,
  options: NormalizeOptions,
): Normalized {
  const rejected: ClaimName[] = [];
  const present = (attribute: string) => text(attributes[attribute]) !== undefined;
  const check = <T>(claim: ClaimName, value: T | undefined, ...sources: string[]) => {
    if (value === undefined && sources.some(present)) rejected.push(claim);
    return value;
  };

  const givenName = check(
    'given_name',
    normalizeName(attributes[iduraAttributes.givenName]),
    iduraAttributes.givenName,
  );
  const familyName = check(
    'family_name',
    normalizeName(attributes[iduraAttributes.familyName]),
    iduraAttributes.familyName,
  );
  // MitID sends only `name`; splitting it would break surnames like "Von Testesen", so it stays whole.
  const name = check('name', normalizeName(attributes[iduraAttributes.name]), iduraAttributes.name);
  const email = check(
    'email',
    normalizeEmail(attributes[iduraAttributes.email]) ??
      normalizeEmail(attributes[iduraAttributes.emailAddress]),
    iduraAttributes.email,
    iduraAttributes.emailAddress,
  );
  const acr = iduraAcr(attributes[iduraAttributes.acr]);
  const scheme =
    check('eid_scheme', iduraScheme(attributes[iduraAttributes.scheme]), iduraAttributes.scheme) ??
    acr?.schemes[0];
  const assurance = check('assurance', iduraAssurance(acr, scheme), iduraAttributes.acr);
  const country = check(
    'country',
    normalizeCountry(attributes[iduraAttributes.country]),
    iduraAttributes.country,
  );

  const profile: Profile = {
    given_name: givenName,
    family_name: familyName,
    name: name ?? joinName(givenName, familyName),
    birthdate: check(
      'birthdate',
      normalizeBirthdate(attributes[iduraAttributes.birthdate], iduraDateFormats, options.now),
      iduraAttributes.birthdate,
    ),
    email,
    email_verified: email === undefined ? undefined : iduraEmailVerified,
    country: country ?? lookup(iduraSchemes, scheme)?.country,
    eid_scheme: scheme,
    assurance,
  };
  return assembleClaims(origin, profile, rejected);
}

export interface IduraAcr {
  value: string;
  schemes: readonly string[];
  loa: Loa | undefined;
}

export function iduraAcr(value: unknown): IduraAcr | undefined {
  const acr = text(value)?.toLowerCase();
  if (acr === undefined || !acrPattern.test(acr)) return undefined;
  const known = lookup(iduraAcrTable, acr);
  return { value: acr, schemes: known?.schemes ?? [], loa: known?.loa };
}

function iduraScheme(value: unknown): string | undefined {
  const scheme = text(value)?.toLowerCase();
  return scheme !== undefined && schemePattern.test(scheme) ? scheme : undefined;
}

/**
 * Assurance from the login method. When the acr belongs to another scheme than the one reported,
 * one of the two attributes is stale (Cognito keeps a mapped value when a claim stops coming), so
 * no assurance is emitted at all rather than a level nobody can vouch for.
 */
export function iduraAssurance(acr: IduraAcr | undefined, scheme: string | undefined): Assurance | undefined {
  if (acr === undefined) return undefined;
  if (scheme !== undefined && acr.schemes.length > 0 && !acr.schemes.includes(scheme)) return undefined;
  return acr.loa === undefined ? { source_acr: acr.value } : { loa: acr.loa, source_acr: acr.value };
}
