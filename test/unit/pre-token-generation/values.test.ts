import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DateFormat, normalizeBirthdate } from '../../../functions/shared/claims/dates.ts';
import { parseStructured } from '../../../functions/shared/claims/structured.ts';
import {
  joinName,
  lookup,
  normalizeCountry,
  normalizeEmail,
  normalizeName,
  parseBoolean,
  slug,
} from '../../../functions/shared/claims/values.ts';
import { now } from './support.ts';

type Row<I, O> = [description: string, input: I, expected: O];

function table<I, O>(name: string, fn: (input: I) => O, rows: Row<I, O>[]) {
  describe(name, () => {
    for (const [description, input, expected] of rows) {
      it(description, () => assert.deepEqual(fn(input), expected));
    }
  });
}

table<unknown, string | undefined>('normalizeName', normalizeName, [
  ['keeps a plain name', 'Kari', 'Kari'],
  ['trims surrounding whitespace', '  Kari \t', 'Kari'],
  ['collapses inner whitespace', 'Öberg   Lindqvist', 'Öberg Lindqvist'],
  ['keeps upper case as delivered (ID.me, German eID)', 'MUSTERMANN', 'MUSTERMANN'],
  ['keeps lower case as delivered', 'von testesen', 'von testesen'],
  ['composes decomposed characters to NFC', 'A\u030asa', '\u00c5sa'],
  ['keeps Nordic letters', 'Søren Ærø Ågård', 'Søren Ærø Ågård'],
  ['keeps German letters, capital sharp s included', 'GROẞ Weiß', 'GROẞ Weiß'],
  ['keeps a name with hyphen and apostrophe', "Anne-Marie O'Neill", "Anne-Marie O'Neill"],
  ['removes zero-width and bidi characters', 'Ka\u200bri\u202e', 'Kari'],
  ['turns control characters into spaces', 'Kari\nMette\u0000Nordmann', 'Kari Mette Nordmann'],
  ['omits a value with a lone surrogate', 'Kari\ud800', undefined],
  ['omits an empty string', '', undefined],
  ['omits whitespace only', '   ', undefined],
  ['omits a value without any letter', '---', undefined],
  ['omits digits only', '12345', undefined],
  ['omits a name carrying a CPR number', 'Ditlev 010170-1234', undefined],
  ['omits an SSN mapped into a name', '796104437', undefined],
  ['omits a value longer than 256 characters', 'a'.repeat(257), undefined],
  ['omits a non-string', 42, undefined],
  ['omits undefined', undefined, undefined],
]);

describe('joinName', () => {
  it('joins present parts with single spaces', () =>
    assert.equal(joinName('Mark', undefined, 'Webb'), 'Mark Webb'));
  it('is undefined when nothing is present', () => assert.equal(joinName(undefined, undefined), undefined));
});

table<unknown, string | undefined>('normalizeEmail', normalizeEmail, [
  ['keeps a plain address', 'gary@example.com', 'gary@example.com'],
  ['trims', '  gary@example.com ', 'gary@example.com'],
  ['lower-cases only the domain', 'Gary.Twinkle@Example.COM', 'Gary.Twinkle@example.com'],
  ['keeps plus addressing', 'vets.gov.user+228@gmail.com', 'vets.gov.user+228@gmail.com'],
  ['keeps an internationalised domain', 'åse@Bücher.example', 'åse@bücher.example'],
  ['omits a value without @', 'gary.example.com', undefined],
  ['omits a value with two @', 'a@b@example.com', undefined],
  ['omits an empty local part', '@example.com', undefined],
  ['omits a domain without a dot', 'gary@localhost', undefined],
  ['omits a domain label starting with a hyphen', 'gary@-example.com', undefined],
  ['omits whitespace inside', 'gary twinkle@example.com', undefined],
  ['omits an SSN-shaped local part', '796104437@example.com', undefined],
  ['omits a personnummer-shaped local part', '19121212-1212@example.se', undefined],
  ['omits an empty string', '', undefined],
  ['omits a non-string', { email: 'x@example.com' }, undefined],
]);

table<unknown, string | undefined>('normalizeCountry', normalizeCountry, [
  ['keeps an ISO alpha-2 code', 'DK', 'DK'],
  ['upper-cases', 'se', 'SE'],
  ['trims', ' NO ', 'NO'],
  ['maps the German eID address code D to DE', 'D', 'DE'],
  ['maps alpha-3 Nordic codes', 'DNK', 'DK'],
  ['omits an unknown code', 'XX', undefined],
  ['omits EU, which is not a country', 'EU', undefined],
  ['omits a country name', 'Denmark', undefined],
  ['omits digits', '45', undefined],
  ['omits an empty string', '', undefined],
]);

table<unknown, boolean | undefined>('parseBoolean (booleans arrive as strings)', parseBoolean, [
  ['"true"', 'true', true],
  ['"false"', 'false', false],
  ['"TRUE" in upper case', 'TRUE', true],
  ['" true " with spaces', ' true ', true],
  ['a real boolean from parsed JSON', true, true],
  ['"1" is not a boolean', '1', undefined],
  ['"yes" is not a boolean', 'yes', undefined],
  ['"" is not a boolean', '', undefined],
  ['null is not a boolean', null, undefined],
]);

table<unknown, string | undefined>('slug', slug, [
  ['lower-cases a word', 'Veteran', 'veteran'],
  ['joins words with underscores', 'Service Member', 'service_member'],
  ['folds accents', 'Réserviste', 'reserviste'],
  ['collapses punctuation', ' Military -- Spouse ', 'military_spouse'],
  ['omits a value with digits', 'K-12 Teacher', undefined],
  ['omits a value without letters', '***', undefined],
  ['omits a value over 40 characters', 'a'.repeat(41), undefined],
  ['omits a non-string', 7, undefined],
]);

describe('lookup', () => {
  const t = { a: 1 };
  it('finds own rows', () => assert.equal(lookup(t, 'a'), 1));
  it('never returns inherited properties', () => {
    assert.equal(lookup(t, 'constructor'), undefined);
    assert.equal(lookup(t, '__proto__'), undefined);
    assert.equal(lookup(t, 'toString'), undefined);
  });
});

describe('normalizeBirthdate', () => {
  const rows: [string, unknown, readonly DateFormat[], string | undefined][] = [
    ['keeps ISO dates', '1970-10-10', ['iso'], '1970-10-10'],
    ['trims', ' 1970-10-10 ', ['iso'], '1970-10-10'],
    ['reads month-first US dates where the provider sends them', '10/04/1950', ['iso', 'us'], '1950-10-04'],
    [
      'never reads a slashed date for a provider that does not send them',
      '10/04/1950',
      ['iso', 'basic'],
      undefined,
    ],
    ['reads the compact form where allowed', '19640812', ['iso', 'basic'], '1964-08-12'],
    ['ignores the compact form where not allowed', '19640812', ['iso', 'us'], undefined],
    ['accepts 29 February of a leap year', '2000-02-29', ['iso'], '2000-02-29'],
    ['drops 29 February of a common year', '1999-02-29', ['iso'], undefined],
    ['drops month 82 (seen in a Vipps sample) rather than fixing it', '1955-09-82', ['iso'], undefined],
    ['drops month 13', '1955-13-01', ['iso'], undefined],
    ['drops day 0', '1955-01-00', ['iso'], undefined],
    ['drops 31 April', '1980-04-31', ['iso'], undefined],
    ['drops year 0000 (OIDC "year unknown")', '0000-10-10', ['iso'], undefined],
    ['drops a year before 1870', '1869-12-31', ['iso'], undefined],
    ['drops a date in the future', '2027-01-01', ['iso'], undefined],
    ['drops a partial date (German eIDs may lack the day)', '1964-08', ['iso', 'basic'], undefined],
    ['drops a date with time', '1970-10-10T00:00:00Z', ['iso'], undefined],
    ['drops a day-first date with an invalid month', '31/12/1970', ['iso', 'us'], undefined],
    ['drops an empty string', '', ['iso'], undefined],
    ['drops a non-string', 19701010, ['iso', 'basic'], undefined],
  ];
  for (const [description, input, formats, expected] of rows) {
    it(description, () => assert.equal(normalizeBirthdate(input, formats, now), expected));
  }
});

describe('parseStructured (multi-valued attributes stored as one string)', () => {
  const status = [{ group: 'military', subgroups: ['Veteran'], verified: true }];
  const rows: [string, unknown, unknown][] = [
    ['reads JSON', JSON.stringify(status), status],
    ['reads JSON encoded twice', JSON.stringify(JSON.stringify(status)), status],
    ['reads URL-encoded JSON', encodeURIComponent(JSON.stringify(status)), status],
    [
      'reads form-encoded JSON with + for spaces',
      encodeURIComponent(JSON.stringify([{ group: 'military', subgroups: ['Service Member'] }])).replace(
        /%20/g,
        '+',
      ),
      [{ group: 'military', subgroups: ['Service Member'] }],
    ],
    [
      'reads the Java toString form',
      '[{group=military, subgroups=[Veteran, Retiree], verified=true}]',
      [{ group: 'military', subgroups: ['Veteran', 'Retiree'], verified: 'true' }],
    ],
    ['reads an empty Java list', '[]', []],
    ['is undefined for a bare scalar', 'military', undefined],
    ['is undefined for JSON scalars', '42', undefined],
    ['is undefined for broken JSON', '[{"group":', undefined],
    ['is undefined for a broken Java form', '[{group=military', undefined],
    ['is undefined for malformed percent-encoding', '%E0%A4%A', undefined],
    ['is undefined for over-deep Java nesting', `${'{a='.repeat(20)}x${'}'.repeat(20)}`, undefined],
    ['reads shallow Java nesting', '{a={b=c}}', { a: { b: 'c' } }],
    ['is undefined for an empty string', '', undefined],
    ['is undefined for a non-string', ['military'], undefined],
  ];
  for (const [description, input, expected] of rows) {
    it(description, () => assert.deepEqual(parseStructured(input), expected));
  }

  it('does not let a __proto__ key reach the prototype', () => {
    const parsed = parseStructured('{__proto__={polluted=yes}}') as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(parsed), ['__proto__']);
  });
});
