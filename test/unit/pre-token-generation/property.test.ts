/**
 * Properties over thousands of random events: the trigger never throws, never emits a national
 * identifier, never touches a claim Cognito owns, always carries the principal-tag claims, and
 * answers deterministically.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { idmeAttributes, idmeIalTable } from '../../../functions/shared/claims/idme.ts';
import { iduraAcrTable, iduraAttributes, iduraSchemes } from '../../../functions/shared/claims/idura.ts';
import {
  containsNationalId,
  isCognitoOwnedClaim,
  isNationalId,
  isNationalIdName,
} from '../../../functions/shared/claims/privacy.ts';
import { accessTokenClaimNames } from '../../../functions/shared/claims/response.ts';
import type { PreTokenEvent } from '../../../functions/shared/claims/types.ts';
import { readTemplate } from '../../../local/template.ts';
import { testHandler } from './support.ts';

const numRuns = Number(process.env.PROPERTY_RUNS ?? 3000);
const handler = testHandler();
/** The ID-token claims template.yaml maps to principal tags (IdentityPoolPrincipalTags). */
const principalTagClaims = Object.values(
  (readTemplate().Resources.IdentityPoolPrincipalTags?.Properties?.PrincipalTags ?? {}) as Record<
    string,
    string
  >,
);

const nationalId = fc.oneof(
  fc.stringMatching(/^\d{9}$/), // SSN
  fc.stringMatching(/^\d{3}-\d{2}-\d{4}$/), // SSN, dashed
  fc.stringMatching(/^[0-3]\d[01]\d{3}-?\d{4}$/), // CPR
  fc.stringMatching(/^(?:19|20)?\d{6}[-+]\d{4}$/), // personnummer
  fc.stringMatching(/^\d{12}$/), // personnummer, 12 digits
  fc.stringMatching(/^\d{11}$/), // fødselsnummer
  fc.stringMatching(/^\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]$/), // HETU
);

const mappedAttributes = [...new Set([...Object.values(idmeAttributes), ...Object.values(iduraAttributes)])];
const attributeName = fc.oneof(
  fc.constantFrom(...mappedAttributes),
  fc.constantFrom(
    'name',
    'nickname',
    'phone_number',
    'address',
    'email_verified',
    'custom:idp_zip',
    'custom:idp_phone',
  ),
  fc.constantFrom(
    'sub',
    'identities',
    'cognito:user_status',
    'cognito:groups',
    'username',
    'aud',
    'acr',
    'exp',
  ),
  fc.constantFrom(
    'ssn',
    'social',
    'socialno',
    'custom:ssn',
    'cprNumberIdentifier',
    'hetu',
    'personnummer',
    'custom:idp_social',
  ),
  fc.string({ maxLength: 12 }).map((s) => `custom:${s}`),
  fc.string({ maxLength: 20 }),
);

const knownValue = fc.constantFrom(
  ...Object.keys(idmeIalTable),
  ...Object.keys(iduraAcrTable),
  ...Object.keys(iduraSchemes),
  '1',
  '2',
  '3',
  'true',
  'false',
  'TRUE',
  'D',
  'DK',
  '1970-10-10',
  '10/04/1950',
  '19640812',
  '1955-09-82',
  '0000-01-01',
  'MUSTERMANN',
  'A\u030asa',
  'Ditlev Von Testesen',
  'gary@example.com',
  '',
  '   ',
);

const statusJson = (group: string, subgroup: string, verified: unknown) =>
  JSON.stringify([{ group, subgroups: [subgroup], verified }]);

/**
 * Stands for one of the run's national identifiers. Arbitraries are built once (building them per
 * run is slow), so values carry this placeholder and each run substitutes its own identifiers.
 */
const placeholder = (n: number) => `QQNATID${n}QQ`;
const id = fc.nat({ max: 2 }).map(placeholder);
const word = fc.string({ maxLength: 12 });

/** Attribute values; some carry one of the national identifiers the property checks for. */
const attributeValue = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('Åse Ødegård', 'GROẞ Weiß', 'Ærø', '\u0000\u200b', '𝔊𝔞𝔯𝔶', '\ud800', 'Kari\nNordmann'),
  knownValue,
  id,
  fc.tuple(word, id).map(([w, i]) => `${w} ${i}`),
  id.map((i) => `${i}@example.com`),
  id.map((i) => `urn:grn:authn:${i}`),
  fc.tuple(id, fc.constantFrom(true, 'true', false)).map(([i, v]) => statusJson(i, 'Veteran', v)),
  fc.tuple(id, fc.constantFrom(true, 'true')).map(([i, v]) => statusJson('military', i, v)),
  fc.tuple(word, word, fc.constantFrom(true, 'true', false, 'x')).map(([g, s, v]) => statusJson(g, s, v)),
  fc.tuple(word, word).map(([g, s]) => encodeURIComponent(statusJson(g, s, true))),
  fc.json({ maxDepth: 1 }),
);

const providerName = fc.oneof(
  { arbitrary: fc.constantFrom('IDme', 'IDmeSandbox', 'Idura', 'IduraTest'), weight: 8 },
  { arbitrary: fc.constantFrom('Google', 'constructor', '__proto__'), weight: 1 },
  { arbitrary: fc.string({ maxLength: 10 }), weight: 1 },
);

const identityEntry = fc.record({
  userId: fc.oneof(
    fc.stringMatching(/^[0-9a-f]{32}$/),
    fc.uuid().map((u) => `{${u}}`),
    id,
    fc.string({ maxLength: 40 }),
  ),
  providerName,
  providerType: fc.constant('OIDC'),
  issuer: fc.constant(null),
  primary: fc.constantFrom('true', 'false', true, false, 'yes', undefined),
  dateCreated: fc.oneof(fc.nat().map(String), fc.constant(undefined), fc.string()),
});

const identities = fc.oneof(
  {
    arbitrary: fc.array(identityEntry, { minLength: 1, maxLength: 3 }).map((e) => JSON.stringify(e)),
    weight: 8,
  },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  { arbitrary: fc.json({ maxDepth: 1 }), weight: 1 },
);

const attributes = fc
  .tuple(
    fc.dictionary(attributeName, attributeValue, { maxKeys: 16 }),
    fc.option(identities, { nil: undefined, freq: 8 }),
  )
  .map(([attrs, ids_]) => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(attrs))
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    if (ids_ !== undefined) out.identities = ids_;
    return out;
  });

const groupConfiguration = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.record({
    groupsToOverride: fc.array(fc.string(), { maxLength: 3 }),
    iamRolesToOverride: fc.array(fc.string(), { maxLength: 2 }),
    preferredRole: fc.option(fc.string(), { nil: null }),
  }),
  fc.anything(),
);

const triggerSource = fc.oneof(
  fc.constantFrom(
    'TokenGeneration_HostedAuth',
    'TokenGeneration_Authentication',
    'TokenGeneration_NewPasswordChallenge',
    'TokenGeneration_AuthenticateDevice',
    'TokenGeneration_RefreshTokens',
  ),
  fc.constantFrom(
    'TokenGeneration_HostedAuth',
    'TokenGeneration_Authentication',
    'TokenGeneration_NewPasswordChallenge',
    'TokenGeneration_AuthenticateDevice',
    'TokenGeneration_RefreshTokens',
    'TokenGeneration_ClientCredentials',
  ),
  fc.string({ maxLength: 20 }),
);

const envelope = fc.record({
  version: fc.oneof(
    { arbitrary: fc.constantFrom('1', '2', '3'), weight: 8 },
    { arbitrary: fc.string({ maxLength: 2 }), weight: 1 },
  ),
  triggerSource,
  region: fc.constant('us-east-1'),
  userPoolId: fc.constant('us-east-1_AbC123'),
  userName: fc.string({ maxLength: 20 }),
  callerContext: fc.constant({ awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: 'client' }),
  request: fc.record(
    { userAttributes: attributes, groupConfiguration, scopes: fc.array(fc.string(), { maxLength: 2 }) },
    { requiredKeys: ['userAttributes'] },
  ),
  response: fc.constantFrom(
    { claimsOverrideDetails: null },
    { claimsAndScopeOverrideDetails: null },
    {},
    { claimsOverrideDetails: null, claimsAndScopeOverrideDetails: null },
  ),
});

/** An event and the three national identifiers substituted into it. */
const scenario = fc.tuple(fc.tuple(nationalId, nationalId, nationalId), envelope).map(([ids, event]) => {
  let json = JSON.stringify(event);
  ids.forEach((value, n) => {
    json = json.replaceAll(placeholder(n), value);
  });
  return { ids, event: JSON.parse(json) as unknown };
});

/** Values JSON never produces but a careless caller might: null prototypes, boxed values, maps. */
const junk = fc.anything({ withNullPrototype: true, withBoxedValues: true, withMap: true, withSet: true });

interface Emitted {
  added: Record<string, unknown>[];
  suppressed: string[];
  accessAdded: Record<string, unknown> | undefined;
  v1: boolean;
}

function emitted(event: PreTokenEvent): Emitted {
  const v1 = event.response?.claimsOverrideDetails ?? undefined;
  const v2 = event.response?.claimsAndScopeOverrideDetails ?? undefined;
  return {
    added: [
      v1?.claimsToAddOrOverride ?? {},
      v2?.idTokenGeneration?.claimsToAddOrOverride ?? {},
      v2?.accessTokenGeneration?.claimsToAddOrOverride ?? {},
    ],
    suppressed: [
      ...(v1?.claimsToSuppress ?? []),
      ...(v2?.idTokenGeneration?.claimsToSuppress ?? []),
      ...(v2?.accessTokenGeneration?.claimsToSuppress ?? []),
    ],
    accessAdded: v2?.accessTokenGeneration?.claimsToAddOrOverride,
    v1: v1 !== undefined,
  };
}

function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (typeof value === 'object' && value !== null) for (const v of Object.values(value)) strings(v, out);
  return out;
}

describe('pre-token-generation properties', () => {
  it(`never throws, never emits a national identifier or a Cognito-owned claim (${numRuns} random events)`, async () => {
    let normalized = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async ({ ids, event }) => {
        const input = event as unknown as PreTokenEvent;
        const result = await handler(structuredClone(input));
        const { added, suppressed, accessAdded, v1 } = emitted(result);
        if (added.some((claims) => 'claims_schema' in claims)) normalized++;

        const serialized = JSON.stringify(added);
        for (const id of ids)
          assert.equal(serialized.includes(id), false, `national identifier ${id} emitted`);

        for (const claims of added) {
          for (const [name, value] of Object.entries(claims)) {
            assert.equal(isCognitoOwnedClaim(name), false, `Cognito-owned claim ${name} added`);
            assert.equal(isNationalIdName(name), false, `claim ${name} names a national identifier`);
            assert.equal(suppressed.includes(name), false, `${name} both added and suppressed`);
            if (v1) assert.equal(typeof value, 'string', `V1 claim ${name} is not a string`);
            if (name === 'email_verified') assert.equal(typeof value, v1 ? 'string' : 'boolean');
            for (const text of strings(value)) {
              const shaped = name === 'idp_sub' ? isNationalId(text) : containsNationalId(text);
              assert.equal(shaped, false, `${name} carries something shaped like a national identifier`);
            }
          }
        }
        for (const name of suppressed)
          assert.equal(isCognitoOwnedClaim(name), false, `Cognito-owned ${name} suppressed`);
        for (const name of Object.keys(accessAdded ?? {})) {
          assert.ok(
            (accessTokenClaimNames as readonly string[]).includes(name),
            `${name} in the access token`,
          );
        }
        // Every claim that feeds a principal tag (template.yaml, IdentityPoolPrincipalTags) is in
        // every normalized ID token: a string the identity pool can copy into an STS session tag.
        for (const claims of added.slice(0, 2)) {
          if (!('claims_schema' in claims)) continue;
          for (const name of principalTagClaims) {
            const value = claims[name];
            assert.equal(typeof value, 'string', `${name} missing from a normalized ID token`);
            assert.ok((value as string).length > 0 && (value as string).length <= 256, `${name} length`);
          }
        }
        if (input.triggerSource === 'TokenGeneration_ClientCredentials') {
          assert.deepEqual(result.response, input.response);
        }

        const again = await handler(structuredClone(input));
        assert.deepEqual(again.response, result.response, 'not deterministic');
      }),
      { numRuns },
    );
    // Guards against a vacuous property: most random events must reach the normalizers.
    assert.ok(normalized > numRuns / 3, `only ${normalized} of ${numRuns} events were normalized`);
  });

  it(`never throws on arbitrary input (${Math.round(numRuns / 3)} random values)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything({ withNullPrototype: true, withObjectString: true }), async (value) => {
        await handler(value as PreTokenEvent);
      }),
      { numRuns: Math.round(numRuns / 3) },
    );
  });

  it(`never throws on events with arbitrary requests and responses (${Math.round(numRuns / 3)} random events)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          version: fc.oneof(fc.constantFrom('1', '2', '3'), junk),
          triggerSource: fc.oneof(fc.constant('TokenGeneration_HostedAuth'), junk),
          request: fc.oneof(
            junk,
            fc.record({ userAttributes: junk, groupConfiguration: junk }),
            fc.record({
              userAttributes: fc.dictionary(fc.string(), junk, { maxKeys: 8 }),
              groupConfiguration: junk,
            }),
          ),
          response: junk,
        }),
        async (event) => {
          await handler(event as unknown as PreTokenEvent);
        },
      ),
      { numRuns: Math.round(numRuns / 3) },
    );
  });
});
