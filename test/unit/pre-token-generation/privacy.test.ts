import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { idmeAttributes } from '../../../functions/shared/claims/idme.ts';
import { iduraAttributes } from '../../../functions/shared/claims/idura.ts';
import {
  containsNationalId,
  isCognitoOwnedClaim,
  isNationalId,
  isNationalIdName,
} from '../../../functions/shared/claims/privacy.ts';
import { identitiesFor, nationalIdSamples, testHandler, userEvent } from './support.ts';

describe('isNationalIdName', () => {
  for (const name of [
    'social',
    'ssn',
    'SSN',
    'custom:idp_ssn',
    'socialno',
    'custom:socialNo',
    'social_security_number',
    'cprNumberIdentifier',
    'custom:cpr',
    'hetu',
    'satu',
    'personnummer',
    'fødselsnummer',
    'fodselsnummer',
    'national_id',
    'nationalIdentityNumber',
    'identity_document_number',
    'passport_number',
  ]) {
    it(`flags ${name}`, () => assert.equal(isNationalIdName(name), true));
  }
  for (const name of [
    'given_name',
    'email',
    'custom:idp_zip',
    'custom:idme_status',
    'classname',
    'assurance',
    'session',
    'idp_sub',
    'uniqueuserid',
  ]) {
    it(`does not flag ${name}`, () => assert.equal(isNationalIdName(name), false));
  }
});

describe('containsNationalId', () => {
  for (const [description, value] of nationalIdSamples) {
    it(`finds a ${description}`, () => assert.equal(containsNationalId(value), true));
    it(`finds a ${description} inside text`, () =>
      assert.equal(containsNationalId(`Kari ${value} Nordmann`), true));
  }
  for (const value of [
    'Ditlev Von Testesen',
    '1970-10-10',
    '19701010',
    '97217',
    '97217-1234',
    '+45 12 34 56 78',
    'K-12 Teacher',
    'IAL2',
    'urn:grn:authn:dk:mitid:substantial',
    'vets.gov.user+228@gmail.com',
  ]) {
    it(`leaves "${value}" alone`, () => assert.equal(containsNationalId(value), false));
  }
});

describe('isNationalId (whole opaque identifiers)', () => {
  it('flags a subject that is an SSN', () => assert.equal(isNationalId('796104437'), true));
  it('flags a subject that is a HETU', () => assert.equal(isNationalId('070770-905D'), true));
  it('leaves an ID.me subject with a digit run alone', () =>
    assert.equal(isNationalId('1234567890abcdef1234567890abcdef'), false));
  it('leaves an Idura braced GUID alone', () =>
    assert.equal(isNationalId('{0f9960a0-d28d-4353-a3e2-ea07f8ffa185}'), false));
});

describe('isCognitoOwnedClaim', () => {
  // Spot checks of the list in claims/privacy.ts (the one list; the user pool stand-in uses it too).
  for (const name of [
    'sub',
    'iss',
    'aud',
    'exp',
    'identities',
    'token_use',
    'scope',
    'cognito:groups',
    'Cognito:Anything',
  ]) {
    it(`owns ${name}`, () => assert.equal(isCognitoOwnedClaim(name), true));
  }
  for (const name of ['email', 'email_verified', 'given_name', 'idp', 'custom:idp_zip']) {
    it(`does not own ${name}`, () => assert.equal(isCognitoOwnedClaim(name), false));
  }
});

describe('national identifiers never reach a token, whatever attribute they were mapped into', () => {
  const handler = testHandler();
  const providers = [
    ['IDme', '7e9bdcc2c79247fda1e4973e24c9dcaf', Object.values(idmeAttributes)],
    ['Idura', '{0f9960a0-d28d-4353-a3e2-ea07f8ffa185}', Object.values(iduraAttributes)],
  ] as const;
  for (const [providerName, subject, attributes] of providers) {
    for (const [description, id] of nationalIdSamples) {
      it(`${providerName}: a ${description} in every mapped attribute`, async () => {
        const values = [
          id,
          `Kari ${id}`,
          `${id}@example.com`,
          `urn:grn:authn:${id}`,
          `[{"group":"${id}","verified":true}]`,
        ];
        for (const value of values) {
          const mapped = Object.fromEntries(attributes.map((a) => [a, value]));
          const event = userEvent({
            identities: identitiesFor(providerName, subject),
            ...mapped,
            ssn: id,
            social: id,
          });
          const result = await handler(event);
          const details = result.response.claimsAndScopeOverrideDetails;
          const added = JSON.stringify([
            details?.idTokenGeneration?.claimsToAddOrOverride,
            details?.accessTokenGeneration?.claimsToAddOrOverride,
          ]);
          assert.equal(added.includes(id), false, `${value} leaked: ${added}`);
          assert.ok(details?.idTokenGeneration?.claimsToSuppress?.includes('ssn'));
          assert.ok(details?.idTokenGeneration?.claimsToSuppress?.includes('social'));
        }
      });
    }
  }

  it('drops a subject that is a national identifier, and keeps the other claims', async () => {
    const result = await handler(
      userEvent({ identities: identitiesFor('IDme', '796104437'), given_name: 'GARY' }),
    );
    const claims = result.response.claimsAndScopeOverrideDetails?.idTokenGeneration?.claimsToAddOrOverride;
    assert.equal(claims?.idp_sub, undefined);
    assert.equal(claims?.given_name, 'GARY');
  });
});
