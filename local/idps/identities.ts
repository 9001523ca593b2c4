// Test identities offered on the stand-ins' sign-in pages. Claim names and formats follow
// https://docs.id.me/integrations/configurations/policies/user-properties and
// https://docs.idura.app/verify/reference/token-contents/; national identifiers are fake
// but well-formed, because the broker's privacy filter must be tested against what the real
// providers send. Nothing here is a real person.

/** Claims as they leave the provider, keyed by the provider's own claim names. */
type RawClaims = Readonly<Record<string, unknown>>;

export interface TestIdentity {
  /** Form value of the sign-in button and the suffix of its `data-testid` (`identity-<id>`). */
  readonly id: string;
  readonly label: string;
  readonly description: string;
  /** Subject identifier, also the oidc-provider account id. */
  readonly sub: string;
  /** Claims other than `sub` and the per-login ones (times, session index). */
  readonly claims: RawClaims;
}

export interface IdmeIdentity extends TestIdentity {
  /** The ID.me policy (scope) this identity was verified for. */
  readonly policy: string;
}

export const IDME_POLICIES = {
  military: 'military',
  student: 'student',
  ial2: 'http://idmanagement.gov/ns/assurance/ial/2/aal/2',
  login: 'login',
} as const;

// uuid and claims of the veteran are those of a published sandbox token (vets-api's ID.me service spec).
const veteranUuid = '6400bbf301eb4e6e95ccea7693eced6f';
const studentUuid = 'a3f1c9e27b6d4e0f8c5b2a9d7e4f1c36';
const ial2Uuid = 'c0de5eed1a2b4c3d9e8f7a6b5c4d3e2f';
const unverifiedUuid = 'e1f2a3b4c5d64e7f8a9b0c1d2e3f4a5b';

export const IDME_IDENTITIES: readonly IdmeIdentity[] = [
  {
    id: 'veteran',
    label: 'MARK WEBB',
    description: 'Veteran, verified for the military policy (LOA3, MFA)',
    policy: IDME_POLICIES.military,
    sub: veteranUuid,
    claims: {
      uuid: veteranUuid,
      fname: 'MARK',
      lname: 'WEBB',
      email: 'vets.gov.user+228@gmail.com',
      birth_date: '1950-10-04',
      zip: '20420',
      phone: '12069827345',
      social: '796104437',
      level_of_assurance: 3,
      credential_ial: 'classic_loa3',
      credential_aal: 2,
      credential_ial_highest: 'classic_loa3',
      credential_aal_highest: 2,
      multifactor: true,
      status: [{ group: 'military', subgroups: ['Veteran'], verified: true }],
    },
  },
  {
    id: 'student',
    label: 'AMELIA ORTIZ',
    description: 'Student, verified for the student policy (LOA1, no MFA, no SSN released)',
    policy: IDME_POLICIES.student,
    sub: studentUuid,
    claims: {
      uuid: studentUuid,
      fname: 'AMELIA',
      lname: 'ORTIZ',
      email: 'amelia.ortiz@example.edu',
      birth_date: '2003-05-17',
      zip: '94103',
      level_of_assurance: 1,
      credential_ial: 'classic_loa1',
      credential_aal: 1,
      multifactor: false,
      status: [{ group: 'student', subgroups: [], verified: true }],
    },
  },
  {
    id: 'ial2',
    label: 'KATHERINE J JOHNSON',
    description: 'NIST IAL2/AAL2 identity with address and SSN',
    policy: IDME_POLICIES.ial2,
    sub: ial2Uuid,
    claims: {
      uuid: ial2Uuid,
      fname: 'KATHERINE',
      mname: 'J',
      lname: 'JOHNSON',
      email: 'k.johnson@example.com',
      birth_date: '1978-08-26',
      street: '1600 PENNSYLVANIA AVE NW',
      city: 'WASHINGTON',
      state: 'DC',
      zip: '20500',
      phone: '12025550143',
      social: '666451234',
      level_of_assurance: 3,
      credential_ial: 2,
      credential_aal: 2,
      credential_ial_highest: 2,
      credential_aal_highest: 2,
      multifactor: true,
    },
  },
  {
    id: 'unverified',
    label: 'SAM DOE',
    description:
      'Unverified account for the login policy: a confirmed email, no identity proofing, no community',
    policy: IDME_POLICIES.login,
    sub: unverifiedUuid,
    claims: {
      uuid: unverifiedUuid,
      email: 'sam.doe@example.org',
    },
  },
];

export const IDURA_ACR = {
  mitidLow: 'urn:grn:authn:dk:mitid:low',
  mitidSubstantial: 'urn:grn:authn:dk:mitid:substantial',
  mitidHigh: 'urn:grn:authn:dk:mitid:high',
  seBankid: 'urn:grn:authn:se:bankid',
  seBankidSameDevice: 'urn:grn:authn:se:bankid:same-device',
  seBankidAnotherDevice: 'urn:grn:authn:se:bankid:another-device',
  seBankidQr: 'urn:grn:authn:se:bankid:another-device:qr',
  noBankid: 'urn:grn:authn:no:bankid',
  noBankidSubstantial: 'urn:grn:authn:no:bankid:substantial',
  dePersonalausweis: 'urn:grn:authn:de:personalausweis',
} as const;

export interface IduraIdentity extends TestIdentity {
  /** Idura's `identityscheme` claim. */
  readonly scheme: 'dkmitid' | 'sebankid' | 'nobankid-oidc' | 'deadesso';
  /** Login methods (acr values) this identity can sign in with; the first is the default. */
  readonly acrValues: readonly [string, ...string[]];
}

/**
 * `nameidentifier` is the `sub` GUID without braces and dashes
 * (https://docs.idura.app/verify/reference/token-contents/).
 */
function nameIdentifier(sub: string): string {
  return sub.replace(/[{}-]/g, '');
}

function iduraIdentity(identity: IduraIdentity): IduraIdentity {
  return { ...identity, claims: { nameidentifier: nameIdentifier(identity.sub), ...identity.claims } };
}

export const IDURA_IDENTITIES: readonly IduraIdentity[] = [
  // MitID gives a single `name`; the example values are those of Idura's MitID page
  // (https://docs.idura.app/verify/e-ids/danish-mitid/) and docs/claims.md.
  iduraIdentity({
    id: 'mitid',
    label: 'Ditlev Von Testesen',
    description: 'Danish MitID user: only `name`, CPR number',
    scheme: 'dkmitid',
    acrValues: [IDURA_ACR.mitidSubstantial, IDURA_ACR.mitidLow, IDURA_ACR.mitidHigh],
    sub: '{0f9960a0-d28d-4353-a3e2-ea07f8ffa185}',
    claims: {
      identityscheme: 'dkmitid',
      name: 'Ditlev Von Testesen',
      birthdate: '1927-01-21',
      uuid: '8a3d2e71-5b4c-4f9e-a0d1-6c7b8e9f0a12',
      cprNumberIdentifier: '2101270017',
      country: 'DK',
    },
  }),
  iduraIdentity({
    id: 'se-bankid',
    label: 'Åsa Öberg Läckberg',
    description: 'Swedish BankID user: given/family names, personnummer in `ssn`, no birthdate',
    scheme: 'sebankid',
    acrValues: [
      IDURA_ACR.seBankid,
      IDURA_ACR.seBankidSameDevice,
      IDURA_ACR.seBankidAnotherDevice,
      IDURA_ACR.seBankidQr,
    ],
    sub: '{5c1d7e3a-9b2f-4a6e-8d0c-3f4a5b6c7d8e}',
    claims: {
      identityscheme: 'sebankid',
      name: 'Åsa Öberg Läckberg',
      given_name: 'Åsa',
      family_name: 'Öberg Läckberg',
      givenname: 'Åsa',
      surname: 'Öberg Läckberg',
      ssn: '198112189876',
      ipaddress: '127.0.0.1',
      country: 'SE',
    },
  }),
  iduraIdentity({
    id: 'no-bankid',
    label: 'Ingrid Sæther',
    description: 'Norwegian BankID user: given/family names, fødselsnummer in `socialno`',
    scheme: 'nobankid-oidc',
    acrValues: [IDURA_ACR.noBankid, IDURA_ACR.noBankidSubstantial],
    sub: '{9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b}',
    claims: {
      identityscheme: 'nobankid-oidc',
      name: 'Ingrid Sæther',
      given_name: 'Ingrid',
      family_name: 'Sæther',
      birthdate: '1985-03-15',
      socialno: '15038512345',
      uniqueuserid: '9578-6000-4-365161',
      certissuer: 'CN=BankID - TestBank1 - Bank CA 3,OU=123456789,O=TestBank1 AS,C=NO',
      certsubject: 'CN=Sæther\\, Ingrid,O=TestBank1 AS,C=NO,SERIALNUMBER=9578-6000-4-365161',
      country: 'NO',
    },
  }),
  // The German eID sends upper-case names and an address whose country is "D" (not ISO alpha-2);
  // it has no top-level `name` or `country` (docs/claims.md says how they are built).
  iduraIdentity({
    id: 'de-eid',
    label: 'ERIKA MUSTERMANN',
    description: 'German eID (Personalausweis) user: upper-case names, address country "D"',
    scheme: 'deadesso',
    acrValues: [IDURA_ACR.dePersonalausweis],
    sub: '{3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}',
    claims: {
      identityscheme: 'deadesso',
      given_name: 'ERIKA',
      family_name: 'MUSTERMANN',
      birth_name: 'GABLER',
      birthdate: '1964-08-12',
      place_of_birth: 'BERLIN',
      nationality: 'D',
      issuing_state: 'D',
      date_of_expiry: '2031-10-31',
      address: {
        street_address: 'HEIDESTRASSE 17',
        locality: 'KÖLN',
        postal_code: '51147',
        country: 'D',
      },
    },
  }),
];
