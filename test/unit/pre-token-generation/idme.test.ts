import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  idmeAffiliations,
  idmeAssurance,
  idmeIalTable,
  normalizeIdmeClaims,
} from '../../../functions/shared/claims/idme.ts';
import type { Assurance } from '../../../functions/shared/claims/types.ts';
import { now, origin } from './support.ts';

const normalize = (attributes: Record<string, string>) =>
  normalizeIdmeClaims(attributes, origin('idme', '7e9bdcc2c79247fda1e4973e24c9dcaf'), { now });

describe('idmeAssurance', () => {
  const rows: [string, Record<string, string>, Assurance | undefined][] = [
    ['credential_ial 1 is IAL1', { 'custom:idp_ial': '1' }, { ial: 'IAL1', source_acr: '1' }],
    ['credential_ial 2 is IAL2', { 'custom:idp_ial': '2' }, { ial: 'IAL2', source_acr: '2' }],
    [
      'classic_loa3 is IAL2 (decision)',
      { 'custom:idp_ial': 'classic_loa3' },
      { ial: 'IAL2', source_acr: 'classic_loa3' },
    ],
    [
      'values are trimmed and case-folded',
      { 'custom:idp_ial': ' CLASSIC_LOA3 ' },
      { ial: 'IAL2', source_acr: 'classic_loa3' },
    ],
    [
      'the IAL2/AAL2 policy URI gives both levels',
      { 'custom:idp_ial': 'http://idmanagement.gov/ns/assurance/ial/2/aal/2' },
      { ial: 'IAL2', aal: 'AAL2', source_acr: 'http://idmanagement.gov/ns/assurance/ial/2/aal/2' },
    ],
    ['credential_aal 2 is AAL2', { 'custom:idp_aal': '2' }, { aal: 'AAL2' }],
    ['credential_aal 1 is AAL1', { 'custom:idp_aal': '1' }, { aal: 'AAL1' }],
    ['level_of_assurance 3 is IAL2 and AAL2', { 'custom:idp_loa': '3' }, { ial: 'IAL2', aal: 'AAL2' }],
    ['level_of_assurance 1 is IAL1', { 'custom:idp_loa': '1' }, { ial: 'IAL1' }],
    ['level_of_assurance 2 is not guessed', { 'custom:idp_loa': '2' }, undefined],
    [
      'all three agreeing (the classic LOA3 policy)',
      { 'custom:idp_ial': 'classic_loa3', 'custom:idp_aal': '2', 'custom:idp_loa': '3' },
      { ial: 'IAL2', aal: 'AAL2', source_acr: 'classic_loa3' },
    ],
    [
      'the lower level wins when sources disagree (a stale IAL2 never outranks LOA1)',
      { 'custom:idp_ial': '2', 'custom:idp_loa': '1' },
      { ial: 'IAL1', source_acr: '2' },
    ],
    [
      'the lower AAL wins when sources disagree',
      { 'custom:idp_aal': '1', 'custom:idp_loa': '3' },
      { ial: 'IAL2', aal: 'AAL1' },
    ],
    ['an unknown value gives no level and no source', { 'custom:idp_ial': 'loa9000' }, undefined],
    ['a national identifier in the attribute is not echoed', { 'custom:idp_ial': '796104437' }, undefined],
    ['inherited property names are not table rows', { 'custom:idp_ial': 'constructor' }, undefined],
    ['nothing in, nothing out', {}, undefined],
  ];
  for (const [description, attributes, expected] of rows) {
    it(description, () => assert.deepEqual(idmeAssurance(attributes), expected));
  }

  it('has an IAL for every row of the credential_ial table', () => {
    for (const [key, row] of Object.entries(idmeIalTable)) assert.ok(row.ial, key);
  });
});

describe('idmeAffiliations (multi-valued groups)', () => {
  const json = (value: unknown) => JSON.stringify(value);
  const rows: [string, unknown, string[] | undefined][] = [
    [
      'one verified subgroup',
      json([{ group: 'military', subgroups: ['Veteran'], verified: true }]),
      ['military:veteran'],
    ],
    [
      'several subgroups, sorted',
      json([{ group: 'military', subgroups: ['Veteran', 'Retiree'], verified: true }]),
      ['military:retiree', 'military:veteran'],
    ],
    [
      'several groups',
      json([
        { group: 'military', subgroups: ['Military Spouse'], verified: true },
        { group: 'responder', subgroups: ['EMT'], verified: true },
      ]),
      ['military:military_spouse', 'responder:emt'],
    ],
    ['a group without subgroups', json([{ group: 'student', subgroups: [], verified: true }]), ['student']],
    ['a group with subgroups missing', json([{ group: 'teacher', verified: true }]), ['teacher']],
    [
      'a single subgroup as a string',
      json([{ group: 'military', subgroups: 'Veteran', verified: true }]),
      ['military:veteran'],
    ],
    ['verified as the string "true"', json([{ group: 'nurse', verified: 'true' }]), ['nurse']],
    ['verified as the string "false" is skipped', json([{ group: 'nurse', verified: 'false' }]), []],
    [
      'unverified entries are skipped',
      json([{ group: 'military', subgroups: ['Veteran'], verified: false }]),
      [],
    ],
    ['entries without verified are skipped', json([{ group: 'military', subgroups: ['Veteran'] }]), []],
    [
      'duplicates are removed',
      json([
        { group: 'military', subgroups: ['Veteran', 'veteran'], verified: true },
        { group: 'Military', subgroups: ['VETERAN'], verified: true },
      ]),
      ['military:veteran'],
    ],
    ['a single object instead of an array', json({ group: 'student', verified: true }), ['student']],
    [
      'URL-form-encoded by Cognito',
      encodeURIComponent(
        json([{ group: 'military', subgroups: ['Service Member'], verified: true }]),
      ).replace(/%20/g, '+'),
      ['military:service_member'],
    ],
    [
      'the Java toString form',
      '[{group=military, subgroups=[Veteran, Surviving Spouse], verified=true}]',
      ['military:surviving_spouse', 'military:veteran'],
    ],
    [
      'subgroups with digits are dropped, the verified group stays',
      json([{ group: 'teacher', subgroups: ['K-12 Teacher'], verified: true }]),
      ['teacher'],
    ],
    ['a group with digits is dropped', json([{ group: '796104437', verified: true }]), []],
    ['non-object entries are skipped', json(['military', 7, null, [1]]), []],
    ['an empty array', '[]', []],
    ['unreadable text', 'military veteran', undefined],
    ['a non-string', 42, undefined],
  ];
  for (const [description, input, expected] of rows) {
    it(description, () => assert.deepEqual(idmeAffiliations(input), expected));
  }
});

describe('normalizeIdmeClaims', () => {
  it('keeps upper-case names as delivered and builds name from the parts', () => {
    const { claims } = normalize({ given_name: 'MARK', middle_name: 'A', family_name: 'WEBB' });
    assert.deepEqual(
      [claims.given_name, claims.middle_name, claims.family_name, claims.name],
      ['MARK', 'A', 'WEBB', 'MARK A WEBB'],
    );
  });

  it('builds name from the parts that are present', () => {
    assert.equal(normalize({ family_name: 'WEBB' }).claims.name, 'WEBB');
  });

  it('reads both ISO and month-first birth dates', () => {
    assert.equal(normalize({ 'custom:idp_birthdate': '1950-10-04' }).claims.birthdate, '1950-10-04');
    assert.equal(normalize({ 'custom:idp_birthdate': '10/04/1950' }).claims.birthdate, '1950-10-04');
  });

  it('omits an invalid birth date and reports it (by name only)', () => {
    const { claims, rejected } = normalize({ 'custom:idp_birthdate': '02/30/1950' });
    assert.equal(claims.birthdate, undefined);
    assert.deepEqual(rejected, ['birthdate']);
  });

  it('marks an email as not verified (decision)', () => {
    const { claims } = normalize({ email: 'gary@example.com' });
    assert.equal(claims.email_verified, false);
  });

  it('emits no email_verified without an email', () => {
    assert.equal('email_verified' in normalize({ email_verified: 'true' }).claims, false);
  });

  it('emits no country: a ZIP code alone does not prove a US address (decision)', () => {
    assert.equal(normalize({ 'custom:idp_zip': '97217' }).claims.country, undefined);
  });

  it('omits affiliations when none is verified, and says affiliation_tags "none" (it feeds a principal tag)', () => {
    const { claims, rejected } = normalize({
      'custom:idme_status': '[{"group":"military","subgroups":["Veteran"],"verified":false}]',
    });
    assert.equal('affiliations' in claims, false);
    assert.equal(claims.affiliation_tags, 'none');
    assert.deepEqual(rejected, []);
  });

  it('reports an unreadable status as rejected', () => {
    assert.deepEqual(normalize({ 'custom:idme_status': 'garbage' }).rejected, ['affiliations']);
  });

  it('reports assurance attributes it cannot read as rejected', () => {
    assert.deepEqual(normalize({ 'custom:idp_ial': 'loa9000' }).rejected, ['assurance']);
  });

  it('ignores stale attributes of the other provider (linked or earlier Idura identity)', () => {
    const { claims } = normalize({
      given_name: 'GARY',
      name: 'Ditlev Von Testesen',
      'custom:eid_scheme': 'dkmitid',
      'custom:idp_acr': 'urn:grn:authn:dk:mitid:substantial',
      'custom:idp_country': 'DK',
      'custom:idp_emailaddr': 'old@example.dk',
    });
    assert.deepEqual(claims, {
      idp: 'idme',
      idp_env: 'production',
      idp_sub: '7e9bdcc2c79247fda1e4973e24c9dcaf',
      given_name: 'GARY',
      name: 'GARY',
      assurance_level: 'none',
      affiliation_tags: 'none',
      claims_schema: 'fb-1',
    });
  });

  it('emits only the origin claims and "none" principal-tag claims for a user with no usable attributes', () => {
    assert.deepEqual(normalize({}).claims, {
      idp: 'idme',
      idp_env: 'production',
      idp_sub: '7e9bdcc2c79247fda1e4973e24c9dcaf',
      assurance_level: 'none',
      affiliation_tags: 'none',
      claims_schema: 'fb-1',
    });
  });

  it('drops an affiliation literally named "none" (it could not be told from no affiliation)', () => {
    const { claims } = normalize({ 'custom:idme_status': '[{"group":"none","verified":true}]' });
    assert.equal('affiliations' in claims, false);
    assert.equal(claims.affiliation_tags, 'none');
  });

  it('never emits empty strings or nulls', () => {
    const { claims } = normalize({
      given_name: '',
      family_name: '  ',
      email: '',
      'custom:idp_birthdate': '',
    });
    for (const value of Object.values(claims)) {
      assert.notEqual(value, '');
      assert.notEqual(value, null);
    }
  });
});
