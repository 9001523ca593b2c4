import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  defaultProviderTable,
  detectProvider,
  parseIdentities,
  parseProviderTable,
  selectPrimaryIdentity,
} from '../../../functions/shared/claims/providers.ts';
import { identitiesFor } from './support.ts';

const entry = (providerName: string, userId: string, primary: unknown, dateCreated?: unknown) => ({
  userId,
  providerName,
  providerType: 'OIDC',
  issuer: null,
  primary,
  dateCreated,
});

describe('parseIdentities', () => {
  it('reads the JSON string Cognito stores', () => {
    const [identity] = parseIdentities(identitiesFor('IDme', '7e9bdcc2c79247fda1e4973e24c9dcaf'));
    assert.deepEqual(identity, {
      providerName: 'IDme',
      userId: '7e9bdcc2c79247fda1e4973e24c9dcaf',
      isPrimary: true,
      dateCreated: 1751492486000,
    });
  });

  it('reads primary given as a string or as a boolean', () => {
    const parsed = parseIdentities(
      JSON.stringify([
        entry('A', '1', 'true'),
        entry('B', '2', true),
        entry('C', '3', 'false'),
        entry('D', '4', 'yes'),
      ]),
    );
    assert.deepEqual(
      parsed.map((i) => i.isPrimary),
      [true, true, false, false],
    );
  });

  it('accepts a single object instead of an array', () => {
    assert.equal(parseIdentities(JSON.stringify(entry('Idura', '{x}', 'true')))[0]?.providerName, 'Idura');
  });

  it('skips entries without a provider name', () => {
    assert.deepEqual(parseIdentities(JSON.stringify([{ userId: 'x' }, null, 'IDme', 7])), []);
  });

  for (const [description, value] of [
    ['malformed JSON', '[{"providerName":'],
    ['a non-string', [{ providerName: 'IDme' }]],
    ['an empty string', ''],
    ['JSON null', 'null'],
  ] as const) {
    it(`gives no identities for ${description}`, () => assert.deepEqual(parseIdentities(value), []));
  }
});

describe('selectPrimaryIdentity', () => {
  it('takes the entry marked primary, wherever it is', () => {
    const identities = parseIdentities(
      JSON.stringify([entry('Idura', 'b', 'false', '100'), entry('IDme', 'a', 'true', '200')]),
    );
    assert.equal(selectPrimaryIdentity(identities)?.providerName, 'IDme');
  });

  it('takes the oldest entry when none is marked primary', () => {
    const identities = parseIdentities(
      JSON.stringify([entry('Idura', 'b', 'false', '300'), entry('IDme', 'a', 'false', '200')]),
    );
    assert.equal(selectPrimaryIdentity(identities)?.providerName, 'IDme');
  });

  it('takes the first entry when none is primary or dated', () => {
    const identities = parseIdentities(
      JSON.stringify([entry('Idura', 'b', 'false'), entry('IDme', 'a', 'false')]),
    );
    assert.equal(selectPrimaryIdentity(identities)?.providerName, 'Idura');
  });

  it('is undefined for no identities', () => assert.equal(selectPrimaryIdentity([]), undefined));
});

describe('detectProvider', () => {
  const cases: [string, string, { idp: string; env: string }][] = [
    ['IDme', 'idme', { idp: 'idme', env: 'production' }],
    ['IDmeSandbox', 'idme', { idp: 'idme', env: 'sandbox' }],
    ['Idura', 'idura', { idp: 'idura', env: 'production' }],
    ['IduraTest', 'idura', { idp: 'idura', env: 'test' }],
  ];
  for (const [providerName, , expected] of cases) {
    it(`maps ${providerName} to ${expected.idp}/${expected.env}`, () => {
      const detection = detectProvider(
        { identities: identitiesFor(providerName, 'abc') },
        defaultProviderTable,
      );
      assert.deepEqual(detection, {
        kind: 'federated',
        origin: { providerName, ...expected, userId: 'abc' },
      });
    });
  }

  it('keeps a braced GUID subject verbatim', () => {
    const subject = '{0f9960a0-d28d-4353-a3e2-ea07f8ffa185}';
    const detection = detectProvider({ identities: identitiesFor('Idura', subject) }, defaultProviderTable);
    assert.equal(detection.kind === 'federated' ? detection.origin.userId : undefined, subject);
  });

  it('keeps an ID.me subject that happens to contain a run of digits', () => {
    const subject = '1234567890abcdef1234567890abcdef';
    const detection = detectProvider({ identities: identitiesFor('IDme', subject) }, defaultProviderTable);
    assert.equal(detection.kind === 'federated' ? detection.origin.userId : undefined, subject);
  });

  for (const subject of [
    '796104437',
    '010170-1234',
    '19121212-1212',
    '01017012345',
    '070770-905D',
    '',
    'has space',
  ]) {
    it(`drops the subject "${subject}" (a national identifier or not an opaque id)`, () => {
      const detection = detectProvider({ identities: identitiesFor('IDme', subject) }, defaultProviderTable);
      assert.equal(detection.kind, 'federated');
      assert.equal(detection.kind === 'federated' ? detection.origin.userId : 'x', undefined);
    });
  }

  it('reports a user without identities as not federated', () => {
    assert.deepEqual(detectProvider({ email: 'ops@example.com' }, defaultProviderTable), {
      kind: 'not-federated',
    });
  });

  it('reports a provider missing from the table as unknown', () => {
    assert.deepEqual(detectProvider({ identities: identitiesFor('Google', '1') }, defaultProviderTable), {
      kind: 'unknown-provider',
    });
  });

  it('does not take inherited properties for table rows', () => {
    assert.equal(
      detectProvider({ identities: identitiesFor('constructor', '1') }, defaultProviderTable).kind,
      'unknown-provider',
    );
  });

  it('ignores attributes a provider could set, such as custom:eid_scheme', () => {
    assert.equal(
      detectProvider({ 'custom:eid_scheme': 'dkmitid', name: 'X' }, defaultProviderTable).kind,
      'not-federated',
    );
  });
});

describe('parseProviderTable (PROVIDER_TABLE)', () => {
  it('uses the defaults when PROVIDER_TABLE is not set', () => {
    assert.deepEqual(parseProviderTable({}), { table: defaultProviderTable, problems: [] });
  });

  it('uses the defaults when PROVIDER_TABLE is empty (the template default)', () => {
    assert.deepEqual(parseProviderTable({ PROVIDER_TABLE: '' }), {
      table: defaultProviderTable,
      problems: [],
    });
  });

  it('replaces the defaults with a valid table (so a provider can be dropped)', () => {
    const parsed = parseProviderTable({
      PROVIDER_TABLE: JSON.stringify({
        IDme: { idp: 'idme', env: 'production' },
        Idura: { idp: 'idura', env: 'production' },
      }),
    });
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(Object.keys(parsed.table), ['IDme', 'Idura']);
    assert.equal(
      detectProvider({ identities: identitiesFor('IDmeSandbox', 'a') }, parsed.table).kind,
      'unknown-provider',
    );
  });

  for (const [description, value, problem] of [
    ['not JSON', '{IDme:', /not valid JSON/],
    ['an array', '[]', /must be a JSON object/],
    ['empty', '{}', /lists no provider/],
    ['an unknown idp', '{"Okta":{"idp":"okta","env":"production"}}', /idp must be one of idme, idura/],
    ['a bad env', '{"IDme":{"idp":"idme","env":"Prod uction"}}', /env must be/],
    ['an entry that is not an object', '{"IDme":"idme"}', /idp must be/],
    ['a provider name over 32 characters', `{"${'x'.repeat(33)}":{"idp":"idme","env":"production"}}`, /1-32/],
  ] as const) {
    it(`falls back to the defaults, with the reason, when it is ${description}`, () => {
      const parsed = parseProviderTable({ PROVIDER_TABLE: value });
      assert.equal(parsed.table, defaultProviderTable);
      assert.match(parsed.problems.join('\n'), problem);
    });
  }

  it('ignores a half-valid table as a whole rather than applying part of it', () => {
    const parsed = parseProviderTable({
      PROVIDER_TABLE: JSON.stringify({
        IDme: { idp: 'idme', env: 'production' },
        Bad: { idp: 'nope', env: 'x' },
      }),
    });
    assert.equal(parsed.table, defaultProviderTable);
    assert.equal(parsed.problems.length, 1);
  });
});
