import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { handler } from '../../../functions/pre-token-generation/handler.ts';
import { defaultProviderTable, type ProviderTable } from '../../../functions/shared/claims/providers.ts';
import type { PreTokenEvent } from '../../../functions/shared/claims/types.ts';
import { captureLogger, identitiesFor, loadEvent, testHandler, userEvent, withVersion } from './support.ts';

const idmeUser = () =>
  userEvent({
    identities: identitiesFor('IDme', '7e9bdcc2c79247fda1e4973e24c9dcaf'),
    given_name: 'GARY',
    email: 'gary@example.com',
    'custom:idp_birthdate': '1970-10-10',
    'custom:idme_status': '[{"group":"military","subgroups":["Veteran"],"verified":true}]',
  });

describe('pre-token-generation handler', () => {
  describe('passes through untouched', () => {
    const cases: [string, () => PreTokenEvent][] = [
      ['a V3 client-credentials (M2M) event', () => loadEvent('m2m-client-credentials.json')],
      ['a user who is not federated (V2)', () => loadEvent('not-federated.json')],
      [
        'a user who is not federated (V1)',
        () => withVersion(loadEvent('not-federated.json'), '1', 'TokenGeneration_Authentication'),
      ],
      [
        'a user of a provider missing from the table',
        () => userEvent({ identities: identitiesFor('Google', '1') }),
      ],
      [
        'a user whose identities attribute is malformed',
        () => userEvent({ identities: '[{"providerName":' }),
      ],
      ['an event of an unknown version', () => ({ ...idmeUser(), version: '9' })],
      ['an event without userAttributes', () => ({ ...idmeUser(), request: {} })],
    ];
    for (const [description, make] of cases) {
      it(description, async () => {
        const event = make();
        const before = structuredClone(event);
        assert.deepEqual(await testHandler()(event), before);
      });
    }
  });

  it('answers a V3 user sign-in in the V2 shape', async () => {
    const result = await testHandler()(withVersion(idmeUser(), '3', 'TokenGeneration_HostedAuth'));
    assert.equal(
      result.response.claimsAndScopeOverrideDetails?.idTokenGeneration?.claimsToAddOrOverride?.idp,
      'idme',
    );
  });

  it('answers a V1 event in the V1 shape', async () => {
    const result = await testHandler()(withVersion(idmeUser(), '1', 'TokenGeneration_HostedAuth'));
    assert.equal(result.response.claimsOverrideDetails?.claimsToAddOrOverride?.idp, 'idme');
    assert.equal(result.response.claimsAndScopeOverrideDetails, undefined);
  });

  it('creates the response when the event has none at all', async () => {
    const event = idmeUser();
    delete (event as Partial<PreTokenEvent>).response;
    const result = await testHandler()(event);
    assert.ok(result.response.claimsAndScopeOverrideDetails?.idTokenGeneration);
  });

  it('reads a numeric version as well as a string', async () => {
    const event = { ...idmeUser(), version: 2 as unknown as string };
    const result = await testHandler()(event);
    assert.ok(result.response.claimsAndScopeOverrideDetails?.idTokenGeneration);
  });

  it('gives the same claims on refresh as on sign-in (stored attributes, no request data)', async () => {
    const signIn = await testHandler()(withVersion(idmeUser(), '2', 'TokenGeneration_HostedAuth'));
    const refresh = await testHandler()({
      ...withVersion(idmeUser(), '2', 'TokenGeneration_RefreshTokens'),
      request: { ...idmeUser().request, clientMetadata: { anything: 'x' } },
    });
    assert.deepEqual(refresh.response, signIn.response);
  });

  it('returns odd input as it came, without throwing', async () => {
    const h = testHandler();
    for (const odd of [null, undefined, 'event', 42, []] as unknown as PreTokenEvent[]) {
      assert.deepEqual(await h(odd), odd);
    }
  });

  describe('when normalisation fails unexpectedly', () => {
    const throwingTable = new Proxy(
      {},
      {
        get() {
          throw new TypeError('boom with a value 796104437');
        },
        has() {
          throw new TypeError('boom with a value 796104437');
        },
        getOwnPropertyDescriptor() {
          throw new TypeError('boom with a value 796104437');
        },
      },
    ) as ProviderTable;

    it('does not throw, adds nothing and suppresses every raw attribute', async () => {
      const { logger, lines } = captureLogger();
      const result = await testHandler(throwingTable, logger)(idmeUser());
      const id = result.response.claimsAndScopeOverrideDetails?.idTokenGeneration;
      assert.deepEqual(id?.claimsToAddOrOverride, {});
      assert.deepEqual(id?.claimsToSuppress, [
        'custom:idme_status',
        'custom:idp_birthdate',
        'email',
        'given_name',
      ]);
      assert.equal(lines.at(-1)?.decision, 'fallback');
      assert.equal(lines.at(-1)?.errorName, 'TypeError');
      assert.equal(JSON.stringify(lines).includes('796104437'), false);
    });

    it('returns the event unchanged when even the fallback cannot read the attributes', async () => {
      const { logger, lines } = captureLogger();
      const attributes = new Proxy(
        {},
        {
          get() {
            throw new Error('unreadable');
          },
          ownKeys() {
            throw new Error('unreadable');
          },
        },
      );
      const event = { ...idmeUser(), request: { userAttributes: attributes } } as PreTokenEvent;
      const result = await testHandler(defaultProviderTable, logger)(event);
      assert.deepEqual(result.response, { claimsAndScopeOverrideDetails: null });
      assert.equal(lines.at(-1)?.decision, 'fallback');
    });
  });

  describe('logging', () => {
    it('logs one line with provider and decision, never an attribute value', async () => {
      const { logger, lines } = captureLogger();
      const event = idmeUser();
      await testHandler(defaultProviderTable, logger)(event);
      assert.equal(lines.length, 1);
      assert.deepEqual(
        { ...lines[0], timestamp: undefined },
        {
          level: 'INFO',
          timestamp: undefined,
          message: 'claims normalized',
          version: '2',
          source: 'TokenGeneration_HostedAuth',
          decision: 'normalized',
          provider: 'IDme',
          idp: 'idme',
          idpEnv: 'production',
          rejected: [],
        },
      );
      const logged = JSON.stringify(lines);
      for (const value of Object.values(event.request.userAttributes ?? {})) {
        assert.equal(logged.includes(value), false, value);
      }
    });

    it('names rejected claims without their values', async () => {
      const { logger, lines } = captureLogger();
      await testHandler(
        defaultProviderTable,
        logger,
      )(userEvent({ identities: identitiesFor('IDme', 'a'), 'custom:idp_birthdate': '1955-09-82' }));
      assert.deepEqual(lines[0]?.rejected, ['birthdate']);
      assert.equal(JSON.stringify(lines).includes('1955-09-82'), false);
    });

    it('does not log an unknown provider name or trigger source', async () => {
      const { logger, lines } = captureLogger();
      const event = userEvent({ identities: identitiesFor('Kari Nordmann 796104437', '1') });
      event.triggerSource = 'Kari' as PreTokenEvent['triggerSource'];
      await testHandler(defaultProviderTable, logger)(event);
      assert.equal(lines[0]?.decision, 'unknown-provider');
      assert.equal(JSON.stringify(lines).includes('Kari'), false);
    });
  });

  describe('the exported handler', () => {
    it('uses the default provider table when PROVIDER_TABLE is unset', async () => {
      const result = await handler(loadEvent('idura-mitid.json'));
      assert.equal(
        result.response.claimsAndScopeOverrideDetails?.idTokenGeneration?.claimsToAddOrOverride?.idp,
        'idura',
      );
    });

    it('logs a bad PROVIDER_TABLE once at start-up and keeps signing users in with the defaults', () => {
      const handlerUrl = new URL('../../../functions/pre-token-generation/handler.ts', import.meta.url).href;
      const eventUrl = new URL('../../../events/pre-token-generation/idme-veteran.json', import.meta.url);
      // A fresh process, so that the module-scope table is read from this environment.
      const script = `
        import { readFileSync } from 'node:fs';
        const { handler } = await import(${JSON.stringify(handlerUrl)});
        const event = JSON.parse(readFileSync(new URL(${JSON.stringify(eventUrl.href)}), 'utf8'));
        for (let i = 0; i < 3; i++) await handler(structuredClone(event));
      `;
      const stdout = execFileSync(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
        env: { ...process.env, PROVIDER_TABLE: '{"IDme": not json', AWS_LAMBDA_LOG_LEVEL: 'INFO' },
        encoding: 'utf8',
      });
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const errors = lines.filter((l) => l.level === 'ERROR');
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]?.message), /PROVIDER_TABLE ignored/);
      assert.equal(lines.filter((l) => l.decision === 'normalized' && l.idp === 'idme').length, 3);
    });
  });
});
