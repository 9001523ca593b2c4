import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tagValue } from '../../../functions/shared/claims/assemble.ts';
import {
  accessTokenClaimNames,
  buildSuppressOnlyResponse,
  buildV1Details,
  buildV2Details,
  claimsToSuppress,
  encodeForV1,
  groupOverrideFrom,
  safeClaims,
} from '../../../functions/shared/claims/response.ts';
import type { CanonicalClaims } from '../../../functions/shared/claims/types.ts';
import { canonicalIdmeClaims } from '../../../local/fixtures.ts';

const claims: CanonicalClaims = canonicalIdmeClaims;

const attributes = {
  sub: '44e8b438-a061-70ca-faa7-3d3e93c015cb',
  identities: '[]',
  'cognito:user_status': 'EXTERNAL_PROVIDER',
  'cognito:mfa_enabled': 'false',
  given_name: 'GARY',
  email: 'Gary@Example.com',
  email_verified: 'true',
  phone_number: '+15035550142',
  nickname: '796104437',
  'custom:idp_zip': '97217',
  'custom:idme_status': '[]',
  'custom:ssn': '796104437',
};

describe('encodeForV1 (the Lite plan: strings only)', () => {
  it('keeps strings', () => assert.deepEqual(encodeForV1({ idp: 'idme' }), { idp: 'idme' }));
  it('writes arrays as JSON', () =>
    assert.deepEqual(encodeForV1({ affiliations: ['military:veteran'] }), {
      affiliations: '["military:veteran"]',
    }));
  it('writes objects as JSON', () =>
    assert.deepEqual(encodeForV1({ assurance: { loa: 'high' } }), { assurance: '{"loa":"high"}' }));
  it('writes true as "true"', () =>
    assert.deepEqual(encodeForV1({ email_verified: true }), { email_verified: 'true' }));
  it('leaves email_verified out when false (the string "false" is truthy)', () =>
    assert.deepEqual(encodeForV1({ email_verified: false }), {}));
  it('writes other false booleans as "false"', () =>
    assert.deepEqual(encodeForV1({ flag: false }), { flag: 'false' }));
  it('writes numbers as decimal strings', () => assert.deepEqual(encodeForV1({ n: 3 }), { n: '3' }));
});

describe('safeClaims', () => {
  it('drops claims Cognito owns', () => {
    assert.deepEqual(safeClaims({ sub: 'x', 'cognito:groups': ['a'], identities: '[]', idp: 'idme' }), {
      idp: 'idme',
    });
  });
  it('drops claims named like national identifiers', () => {
    assert.deepEqual(safeClaims({ ssn: '1', cprNumberIdentifier: '2', idp: 'idme' }), { idp: 'idme' });
  });
  it('drops undefined values', () =>
    assert.deepEqual(safeClaims({ idp: 'idme', name: undefined }), { idp: 'idme' }));
});

describe('claimsToSuppress', () => {
  const suppressed = claimsToSuppress(attributes, Object.keys(claims));
  it('suppresses raw custom attributes', () => {
    assert.ok(suppressed.includes('custom:idp_zip'));
    assert.ok(suppressed.includes('custom:idme_status'));
  });
  it('suppresses anything mapped by mistake, national identifiers included', () => {
    assert.ok(suppressed.includes('custom:ssn'));
    assert.ok(suppressed.includes('nickname'));
    assert.ok(suppressed.includes('phone_number'));
  });
  it('never suppresses what it adds (suppression would win over the override)', () => {
    for (const name of Object.keys(claims)) assert.equal(suppressed.includes(name), false, name);
  });
  it('never names a claim Cognito owns', () => {
    for (const name of ['sub', 'identities', 'cognito:user_status', 'cognito:mfa_enabled']) {
      assert.equal(suppressed.includes(name), false, name);
    }
  });
  it('is sorted, for stable output', () => assert.deepEqual(suppressed, [...suppressed].sort()));
});

describe('groupOverrideFrom', () => {
  it('copies the request groups so that Cognito keeps them', () => {
    assert.deepEqual(
      groupOverrideFrom({
        groupsToOverride: ['g'],
        iamRolesToOverride: ['arn:aws:iam::1:role/r'],
        preferredRole: 'p',
      }),
      { groupsToOverride: ['g'], iamRolesToOverride: ['arn:aws:iam::1:role/r'], preferredRole: 'p' },
    );
  });
  it('leaves out a null preferredRole', () => {
    assert.deepEqual(
      groupOverrideFrom({ groupsToOverride: ['g'], iamRolesToOverride: [], preferredRole: null }),
      {
        groupsToOverride: ['g'],
        iamRolesToOverride: [],
      },
    );
  });
  it('drops non-string entries', () =>
    assert.deepEqual(groupOverrideFrom({ groupsToOverride: ['g', 1, null] }), { groupsToOverride: ['g'] }));
  it('is undefined without a group configuration', () => {
    assert.equal(groupOverrideFrom(undefined), undefined);
    assert.equal(groupOverrideFrom(null), undefined);
    assert.equal(groupOverrideFrom({}), undefined);
    assert.equal(groupOverrideFrom('groups'), undefined);
  });
});

describe('buildV2Details', () => {
  const details = buildV2Details(claims, attributes, { groupsToOverride: ['g'] });

  it('puts the typed canonical claims into the ID token', () => {
    assert.deepEqual(details.idTokenGeneration?.claimsToAddOrOverride, claims);
  });

  it('puts only authorization claims into the access token', () => {
    const access = details.accessTokenGeneration?.claimsToAddOrOverride ?? {};
    assert.deepEqual(Object.keys(access), accessTokenClaimNames);
    for (const pii of ['given_name', 'family_name', 'name', 'birthdate', 'email', 'country']) {
      assert.equal(pii in access, false, pii);
    }
  });

  it('changes no scopes', () => {
    assert.equal(details.accessTokenGeneration?.scopesToAdd, undefined);
    assert.equal(details.accessTokenGeneration?.scopesToSuppress, undefined);
  });

  it('keeps the groups', () => assert.deepEqual(details.groupOverrideDetails, { groupsToOverride: ['g'] }));

  it('leaves groupOverrideDetails out when the request had no groups', () => {
    assert.equal('groupOverrideDetails' in buildV2Details(claims, attributes, undefined), false);
  });

  it('sends an email_verified boolean, never an object', () => {
    assert.equal(details.idTokenGeneration?.claimsToAddOrOverride?.email_verified, false);
  });
});

describe('buildV1Details', () => {
  const details = buildV1Details(claims, attributes, undefined);
  it('sends only strings', () => {
    for (const value of Object.values(details.claimsToAddOrOverride ?? {}))
      assert.equal(typeof value, 'string');
  });
  it('suppresses a stored email_verified when the canonical value is false', () => {
    assert.ok(details.claimsToSuppress?.includes('email_verified'));
    assert.equal(details.claimsToAddOrOverride?.email_verified, undefined);
  });
  it('encodes assurance and affiliations as JSON', () => {
    assert.deepEqual(JSON.parse(details.claimsToAddOrOverride?.assurance ?? ''), claims.assurance);
    assert.deepEqual(JSON.parse(details.claimsToAddOrOverride?.affiliations ?? ''), claims.affiliations);
  });
});

describe('buildSuppressOnlyResponse (fallback)', () => {
  it('adds nothing and suppresses every raw attribute (V2)', () => {
    const response = buildSuppressOnlyResponse('v2', attributes, { groupsToOverride: ['g'] });
    const id = response.claimsAndScopeOverrideDetails?.idTokenGeneration;
    assert.deepEqual(id?.claimsToAddOrOverride, {});
    assert.ok(id?.claimsToSuppress?.includes('custom:ssn'));
    assert.equal(id?.claimsToSuppress?.includes('sub'), false);
    assert.deepEqual(response.claimsAndScopeOverrideDetails?.groupOverrideDetails, {
      groupsToOverride: ['g'],
    });
  });
  it('uses the V1 shape for V1', () => {
    assert.ok(buildSuppressOnlyResponse('v1', attributes, undefined).claimsOverrideDetails?.claimsToSuppress);
  });
});

describe('tagValue (principal tags hold 256 characters)', () => {
  it('joins with spaces', () => assert.equal(tagValue(['a', 'b']), 'a b'));
  it('drops whole entries that do not fit, never cutting one', () => {
    const values = Array.from(
      { length: 30 },
      (_, i) => `military:${'x'.repeat(10)}${String.fromCharCode(97 + (i % 26))}`,
    );
    const tag = tagValue(values);
    assert.ok(tag.length <= 256);
    for (const part of tag.split(' ')) assert.ok(values.includes(part));
  });
});
