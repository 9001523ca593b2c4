/**
 * What may never reach a token. Two independent nets:
 * - national identifiers (SSN, CPR, personnummer, fødselsnummer, HETU …), recognised by attribute
 *   name and by the shape of a value, whatever attribute they were mapped into;
 * - the claims Cognito does not let a trigger add, override or suppress.
 */

/** Name parts that mark a national identifier or identity-document number. */
const nationalIdWords = new Set([
  'ssn',
  'ssns',
  'social',
  'socialno',
  'socialsecurity',
  'itin',
  'cpr',
  'hetu',
  'satu',
  'personnummer',
  'personnr',
  'samordningsnummer',
  'fodselsnummer',
  'fnr',
  'dnummer',
  'nationalid',
  'passport',
  'passportnumber',
  'steuerid',
  'taxid',
]);
/** Multi-word spellings, after splitting `identity_document_number` into words and joining them. */
const nationalIdPhrases = [
  'socialsecurity',
  'nationalid',
  'nationalidentity',
  'identitydocument',
  'documentnumber',
];

/** Splits `custom:cprNumberIdentifier` or `idp_social_no` into lower-case ASCII words. */
function words(name: string): string[] {
  return name
    .replace(/^custom:/i, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/[øØ]/g, 'o')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
}

/**
 * Whether an attribute or claim name denotes a national identifier.
 *
 * @example isNationalIdName('custom:cprNumberIdentifier') // true
 */
export function isNationalIdName(name: string): boolean {
  const parts = words(name);
  if (parts.some((w) => nationalIdWords.has(w))) return true;
  const joined = parts.join('');
  return nationalIdWords.has(joined) || nationalIdPhrases.some((p) => joined.includes(p));
}

/**
 * Shapes of national identifiers inside free text:
 * - nine or more consecutive digits: SSN (9), CPR (10), personnummer (10/12), fødselsnummer (11);
 * - SSN with separators: 123-45-6789;
 * - six digits, a separator or Finnish century sign, three digits and a check character: CPR
 *   (010170-1234), personnummer (121212-1212), HETU (070770-905D);
 * - the long personnummer: 19121212-1212.
 */
const nationalIdShape = /\d{9,}|\d{3}[- ]\d{2}[- ]\d{4}|\d{6}[-+a-fu-y]\d{3}[\da-y]|\d{8}[-+]\d{4}/i;
const wholeNationalId = new RegExp(`^(?:${nationalIdShape.source})$`, 'i');

/** Whether free text (a name, an email) carries something shaped like a national identifier. */
export function containsNationalId(value: string): boolean {
  return nationalIdShape.test(value);
}

/**
 * Whether an opaque identifier *is* a national identifier. Used for subjects: an ID.me subject is
 * 32 hex characters and may well contain a run of nine digits, so only the whole value counts.
 */
export function isNationalId(value: string): boolean {
  return wholeNationalId.test(value.replace(/\s/g, ''));
}

/**
 * Claims Cognito does not let a pre-token-generation trigger add, override or suppress, in either
 * token. `cognito:groups`, `cognito:roles` and `cognito:preferred_role` change through
 * `groupOverrideDetails`; `scope` through `scopesToAdd`/`scopesToSuppress`.
 */
const cognitoOwnedClaims: ReadonlySet<string> = new Set([
  'acr',
  'amr',
  'aud',
  'at_hash',
  'auth_time',
  'azp',
  'client_id',
  'device_key',
  'event_id',
  'exp',
  'iat',
  'identities',
  'iss',
  'jti',
  'nbf',
  'nonce',
  'origin_jti',
  'scope',
  'sub',
  'token_use',
  'username',
  'version',
]);

/** Whether Cognito owns the claim, so a trigger must neither set nor suppress it. */
export function isCognitoOwnedClaim(name: string): boolean {
  return cognitoOwnedClaims.has(name) || name.toLowerCase().startsWith('cognito:');
}
