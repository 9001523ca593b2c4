import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  iduraAcr,
  iduraAcrTable,
  iduraAssurance,
  iduraSchemes,
  normalizeIduraClaims,
} from '../../../functions/shared/claims/idura.ts';
import type { Assurance } from '../../../functions/shared/claims/types.ts';
import { now, origin } from './support.ts';

const mitidSubject = '{0f9960a0-d28d-4353-a3e2-ea07f8ffa185}';
const normalize = (attributes: Record<string, string>) =>
  normalizeIduraClaims(attributes, origin('idura', mitidSubject), { now });

describe('Idura assurance from authenticationtype', () => {
  const rows: [string, string | undefined, Assurance | undefined][] = [
    ['urn:grn:authn:dk:mitid:low', 'dkmitid', { loa: 'low', source_acr: 'urn:grn:authn:dk:mitid:low' }],
    [
      'urn:grn:authn:dk:mitid:substantial',
      'dkmitid',
      { loa: 'substantial', source_acr: 'urn:grn:authn:dk:mitid:substantial' },
    ],
    ['urn:grn:authn:dk:mitid:high', 'dkmitid', { loa: 'high', source_acr: 'urn:grn:authn:dk:mitid:high' }],
    ['urn:grn:authn:dk:mitid:business', 'dkmitid', { source_acr: 'urn:grn:authn:dk:mitid:business' }],
    ['urn:grn:authn:se:bankid', 'sebankid', { source_acr: 'urn:grn:authn:se:bankid' }],
    [
      'urn:grn:authn:se:bankid:another-device:qr',
      'sebankid',
      { source_acr: 'urn:grn:authn:se:bankid:another-device:qr' },
    ],
    ['urn:grn:authn:no:bankid', 'nobankid-oidc', { source_acr: 'urn:grn:authn:no:bankid' }],
    [
      'urn:grn:authn:no:bankid:substantial',
      'nobankid-oidc',
      { loa: 'substantial', source_acr: 'urn:grn:authn:no:bankid:substantial' },
    ],
    ['urn:grn:authn:no:vipps', 'novippslogin', { source_acr: 'urn:grn:authn:no:vipps' }],
    ['urn:grn:authn:se:frejaid', 'sefrejaid', { source_acr: 'urn:grn:authn:se:frejaid' }],
    [
      'urn:grn:authn:de:personalausweis',
      'deadesso',
      { loa: 'high', source_acr: 'urn:grn:authn:de:personalausweis' },
    ],
    ['URN:GRN:AUTHN:DK:MITID:LOW', 'dkmitid', { loa: 'low', source_acr: 'urn:grn:authn:dk:mitid:low' }],
    ['urn:grn:authn:nl:idin', 'nlidin', { source_acr: 'urn:grn:authn:nl:idin' }],
    [
      'urn:grn:authn:dk:mitid:substantial',
      undefined,
      { loa: 'substantial', source_acr: 'urn:grn:authn:dk:mitid:substantial' },
    ],
    ['urn:grn:authn:dk:mitid:substantial', 'sebankid', undefined],
    ['urn:grn:authn:no:bankid:substantial', 'dkmitid', undefined],
    ['https://example.com/not-an-idura-acr', 'dkmitid', undefined],
  ];
  for (const [acr, scheme, expected] of rows) {
    it(`${acr} with scheme ${scheme ?? '(none)'}`, () => {
      assert.deepEqual(iduraAssurance(iduraAcr(acr), scheme), expected);
    });
  }

  it('drops an acr-shaped value that carries a national identifier', () => {
    const { claims, rejected } = normalize({ 'custom:idp_acr': 'urn:grn:authn:796104437' });
    assert.equal(claims.assurance, undefined);
    assert.deepEqual(rejected, ['assurance']);
  });

  it('names a known scheme for every acr in the table', () => {
    for (const [acr, row] of Object.entries(iduraAcrTable)) {
      assert.ok(
        row.schemes.every((s) => Object.hasOwn(iduraSchemes, s)),
        acr,
      );
    }
  });
});

describe('normalizeIduraClaims', () => {
  it('keeps MitID\u2019s single name whole and does not split it', () => {
    const { claims } = normalize({ name: 'Ditlev Von Testesen' });
    assert.equal(claims.name, 'Ditlev Von Testesen');
    assert.equal(claims.given_name, undefined);
    assert.equal(claims.family_name, undefined);
  });

  it('keeps the braced GUID subject verbatim in idp_sub', () => {
    assert.equal(normalize({}).claims.idp_sub, mitidSubject);
  });

  it('builds name from given and family name when Idura sends no name (German eID)', () => {
    const { claims } = normalize({ given_name: 'ERIKA', family_name: 'MUSTERMANN' });
    assert.equal(claims.name, 'ERIKA MUSTERMANN');
  });

  it('prefers the name Idura sends over building one', () => {
    const { claims } = normalize({
      given_name: 'Kari',
      family_name: 'Nordmann',
      name: 'Kari Mette Nordmann',
    });
    assert.equal(claims.name, 'Kari Mette Nordmann');
  });

  it('normalizes non-ASCII names to NFC and keeps them untransliterated', () => {
    const { claims } = normalize({ given_name: 'A\u030asa', family_name: 'Ødegård' });
    assert.equal(claims.given_name, '\u00c5sa');
    assert.equal(claims.family_name, 'Ødegård');
  });

  it('prefers email over emailaddress', () => {
    const { claims } = normalize({ email: 'kari@example.no', 'custom:idp_emailaddr': 'other@example.no' });
    assert.equal(claims.email, 'kari@example.no');
  });

  it('falls back to emailaddress, and marks it unverified', () => {
    const { claims } = normalize({ 'custom:idp_emailaddr': 'Kari@Example.NO' });
    assert.equal(claims.email, 'Kari@example.no');
    assert.equal(claims.email_verified, false);
  });

  it('falls back to emailaddress when email is invalid, without reporting a rejection', () => {
    const { claims, rejected } = normalize({
      email: 'not-an-email',
      'custom:idp_emailaddr': 'kari@example.no',
    });
    assert.equal(claims.email, 'kari@example.no');
    assert.deepEqual(rejected, []);
  });

  it('reads compact birthdates but never day-first ones', () => {
    assert.equal(normalize({ 'custom:idp_birthdate': '19640812' }).claims.birthdate, '1964-08-12');
    assert.equal(normalize({ 'custom:idp_birthdate': '12.08.1964' }).claims.birthdate, undefined);
  });

  it('maps the German eID country D to DE', () => {
    assert.equal(normalize({ 'custom:idp_country': 'D' }).claims.country, 'DE');
  });

  it('takes the country of the e-ID scheme when none was sent', () => {
    assert.equal(normalize({ 'custom:eid_scheme': 'deadesso' }).claims.country, 'DE');
    assert.equal(normalize({ 'custom:eid_scheme': 'sebankid' }).claims.country, 'SE');
  });

  it('emits no country for an unknown scheme without one', () => {
    assert.equal(normalize({ 'custom:eid_scheme': 'nlidin' }).claims.country, undefined);
  });

  it('passes an unknown but well-formed scheme on', () => {
    assert.equal(normalize({ 'custom:eid_scheme': 'NLiDIN' }).claims.eid_scheme, 'nlidin');
  });

  it('derives the scheme from the acr when identityscheme is missing', () => {
    assert.equal(normalize({ 'custom:idp_acr': 'urn:grn:authn:no:vipps' }).claims.eid_scheme, 'novippslogin');
  });

  it('drops assurance when the acr belongs to another scheme (one of them is stale)', () => {
    const { claims, rejected } = normalize({
      'custom:eid_scheme': 'sebankid',
      'custom:idp_acr': 'urn:grn:authn:dk:mitid:substantial',
    });
    assert.equal(claims.assurance, undefined);
    assert.equal(claims.assurance_level, 'none');
    assert.deepEqual(rejected, ['assurance']);
  });

  it('gives the eIDAS level as the flat assurance_level', () => {
    const { claims } = normalize({
      'custom:idp_acr': 'urn:grn:authn:dk:mitid:low',
      'custom:eid_scheme': 'dkmitid',
    });
    assert.equal(claims.assurance_level, 'low');
  });

  it('says assurance_level "none" when only the source acr is known', () => {
    const { claims } = normalize({
      'custom:idp_acr': 'urn:grn:authn:se:bankid',
      'custom:eid_scheme': 'sebankid',
    });
    assert.deepEqual(claims.assurance, { source_acr: 'urn:grn:authn:se:bankid' });
    assert.equal(claims.assurance_level, 'none');
  });

  it('never emits affiliations (ID.me only), and says affiliation_tags "none"', () => {
    const { claims } = normalize({ 'custom:idme_status': '[{"group":"military","verified":true}]' });
    assert.equal(claims.affiliations, undefined);
    assert.equal(claims.affiliation_tags, 'none');
  });

  it('ignores a stale middle_name from an earlier ID.me mapping', () => {
    assert.equal(normalize({ middle_name: 'Q', name: 'Kari Nordmann' }).claims.middle_name, undefined);
  });
});
