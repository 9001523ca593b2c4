import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributeValue, mapClaims, SignInError, UserDirectory } from '../../../local/cognito/attributes.ts';
import {
  type AppClientTemplate,
  type ProviderConfig,
  readPoolConfig,
} from '../../../local/cognito/pool-config.ts';
import { noOverrides, preTokenEvent, readOverrides } from '../../../local/cognito/trigger.ts';
import { lambdaFunction } from '../../../local/lambda/functions.ts';
import { readTemplate } from '../../../local/template.ts';
import { resolver } from './cognito-support.ts';

const config = readPoolConfig(resolver());
const idme = config.providers.get('IDmeSandbox') as ProviderConfig;
const idura = config.providers.get('IduraTest') as ProviderConfig;
const client = config.clients.get('UserPoolClient') as AppClientTemplate;

function signInError(error: unknown, description: string): boolean {
  assert.ok(error instanceof SignInError, String(error));
  assert.equal(error.error, 'invalid_request');
  assert.equal(error.message, description);
  return true;
}

describe('pool configuration from template.yaml', () => {
  it('reads both providers with their scopes, user-info method and mapping', () => {
    assert.deepEqual([...config.providers.keys()], ['IDmeSandbox', 'IduraTest']);
    assert.equal(idme.authorizeScopes, 'openid military');
    assert.equal(idme.attributesRequestMethod, 'GET');
    assert.equal(idme.attributeMapping['custom:idme_status'], 'status');
    assert.equal(idura.attributeMapping['custom:eid_scheme'], 'identityscheme');
    assert.equal(Object.values(idura.attributeMapping).includes('cprNumberIdentifier'), false);
  });

  it('reads the app client: code flow, scopes, providers by name, validity in seconds', () => {
    assert.deepEqual(client.allowedFlows, ['code']);
    assert.deepEqual(client.allowedScopes, ['openid', 'email', 'profile']);
    assert.deepEqual(client.supportedProviders, ['IDmeSandbox', 'IduraTest']);
    assert.equal(client.idTokenSeconds, 3600);
    assert.equal(client.accessTokenSeconds, 3600);
    assert.equal(client.refreshTokenSeconds, 720 * 60);
    assert.equal(client.allowRefresh, true);
    assert.equal(client.tokenRevocation, true);
    assert.equal(client.writeAttributes?.has('custom:idme_status'), true);
  });

  it('reads the schema: standard attributes plus custom: ones, none required', () => {
    assert.equal(config.schema.get('custom:idp_zip')?.maxLength, 2048);
    assert.equal(config.schema.get('email')?.required, false);
    assert.ok([...config.schema.values()].every((attribute) => !attribute.required));
  });

  it('locates the trigger through the template: V2_0, the function, its environment and Timeout', () => {
    const trigger = config.trigger;
    assert.ok(trigger);
    assert.equal(trigger.version, 'V2_0');
    assert.equal(trigger.functionLogicalId, 'PreTokenGenerationFunction');
    const fn = lambdaFunction(resolver(), trigger.functionLogicalId);
    assert.equal(fn.environment.PROVIDER_TABLE, '');
    assert.equal(fn.logging.applicationLogLevel, 'INFO');
    assert.equal(fn.timeoutSeconds, 5);
  });

  it('follows a LambdaArn given as a resolved ARN to the function', () => {
    const template = readTemplate();
    const pool = template.Resources.UserPool?.Properties as {
      LambdaConfig: { PreTokenGenerationConfig: { LambdaArn: unknown } };
    };
    pool.LambdaConfig.PreTokenGenerationConfig.LambdaArn =
      'arn:aws:lambda:us-east-1:123456789012:function:PreTokenGenerationFunction';
    assert.equal(readPoolConfig(resolver(template)).trigger?.functionLogicalId, 'PreTokenGenerationFunction');
  });

  it('has no trigger when the pool configures none', () => {
    const template = readTemplate();
    const pool = template.Resources.UserPool?.Properties as { LambdaConfig?: unknown };
    delete pool.LambdaConfig;
    assert.equal(readPoolConfig(resolver(template)).trigger, undefined);
  });
});

describe('attribute mapping', () => {
  it('stores strings as they are and numbers, booleans, arrays and objects as text', () => {
    assert.equal(attributeValue('MARK'), 'MARK');
    assert.equal(attributeValue(3), '3');
    assert.equal(attributeValue(true), 'true');
    assert.equal(attributeValue([{ group: 'military' }]), '[{"group":"military"}]');
  });

  it('maps only claims present in the sign-in, under the pool attribute names', () => {
    const mapped = mapClaims(idme, config.schema, {
      sub: 'abc',
      fname: 'MARK',
      level_of_assurance: 3,
      social: '123456789',
    });
    assert.equal(mapped.providerUserId, 'abc');
    assert.deepEqual(mapped.values, { given_name: 'MARK', 'custom:idp_loa': '3' });
  });

  it('refuses a value longer than the attribute allows', () => {
    assert.throws(
      () => mapClaims(idme, config.schema, { sub: 'abc', fname: 'x'.repeat(2049) }),
      (error) =>
        signInError(
          error,
          'Invalid user attributes: given_name: String must be no longer than 2048 characters.',
        ),
    );
  });

  it('refuses a standard attribute name that does not exist', () => {
    const provider = { ...idme, attributeMapping: { ...idme.attributeMapping, surname: 'lname' } };
    assert.throws(
      () => mapClaims(provider, config.schema, { sub: 'abc', lname: 'WEBB' }),
      (error) =>
        signInError(error, 'Invalid user attributes: surname: Attribute does not exist in the schema.'),
    );
  });
});

describe('user directory', () => {
  const directory = (): UserDirectory => new UserDirectory('us-east-1_OfflinePool', config.schema);

  it('keeps the old value of an attribute whose claim is absent at a later sign-in', () => {
    const users = directory();
    users.upsertFederated({
      provider: idme,
      client,
      now: 1,
      mapped: mapClaims(idme, config.schema, { sub: 'a', fname: 'MARK', zip: '20420' }),
    });
    const user = users.upsertFederated({
      provider: idme,
      client,
      now: 2,
      mapped: mapClaims(idme, config.schema, { sub: 'a', fname: 'Mark' }),
    });
    assert.equal(user.attributes.given_name, 'Mark');
    assert.equal(user.attributes['custom:idp_zip'], '20420');
    assert.equal(user.lastModifiedAt, 2);
    assert.equal(user.createdAt, 1);
    assert.equal(users.list().length, 1);
  });

  it('looks usernames up case-insensitively and keeps sub and identities', () => {
    const users = directory();
    const created = users.upsertFederated({
      provider: idme,
      client,
      now: 5,
      mapped: mapClaims(idme, config.schema, { sub: 'AbC' }),
    });
    assert.equal(users.get('idmesandbox_abc'), created);
    assert.equal(JSON.parse(created.attributes.identities ?? '[]')[0].dateCreated, '5');
    assert.deepEqual(created.groups, ['us-east-1_OfflinePool_IDmeSandbox']);
  });

  it('refuses an attribute the app client may not write', () => {
    const readOnly: AppClientTemplate = { ...client, writeAttributes: new Set(['email']) };
    assert.throws(
      () =>
        directory().upsertFederated({
          provider: idme,
          client: readOnly,
          now: 1,
          mapped: mapClaims(idme, config.schema, { sub: 'a', fname: 'X' }),
        }),
      (error) => signInError(error, 'Invalid user attributes: given_name: Attribute cannot be updated.'),
    );
  });

  it('refuses to rewrite an immutable attribute of an existing profile', () => {
    const schema = new Map(config.schema);
    schema.set('custom:idp_zip', {
      name: 'custom:idp_zip',
      required: false,
      mutable: false,
      maxLength: 2048,
    });
    const users = new UserDirectory('us-east-1_OfflinePool', schema);
    const mapped = mapClaims(idme, schema, { sub: 'a', zip: '20420' });
    users.upsertFederated({ provider: idme, client, now: 1, mapped });
    assert.throws(
      () => users.upsertFederated({ provider: idme, client, now: 2, mapped }),
      (error) => signInError(error, 'Invalid user attributes: custom:idp_zip: Attribute cannot be updated.'),
    );
  });
});

describe('pre-token-generation event and answer', () => {
  const users = new UserDirectory('us-east-1_OfflinePool', config.schema);
  const user = users.upsertFederated({
    provider: idura,
    client,
    now: 1,
    mapped: mapClaims(idura, config.schema, { sub: '{x}', name: 'Ditlev', identityscheme: 'dkmitid' }),
  });

  it('builds a V1 event without scopes and with claimsOverrideDetails: null', () => {
    const event = preTokenEvent({
      version: 'V1_0',
      triggerSource: 'TokenGeneration_RefreshTokens',
      region: 'eu-north-1',
      userPoolId: 'eu-north-1_Pool',
      clientId: 'c',
      user,
      scopes: ['openid'],
    });
    assert.equal(event.version, '1');
    assert.equal(event.triggerSource, 'TokenGeneration_RefreshTokens');
    assert.deepEqual(event.response, { claimsOverrideDetails: null });
    const request = event.request as Record<string, unknown>;
    assert.equal('scopes' in request, false);
    assert.deepEqual(Object.keys(request.userAttributes as object).slice(0, 3), [
      'sub',
      'cognito:user_status',
      'identities',
    ]);
  });

  it('reads V1 answers as strings only', () => {
    const { overrides, ignored } = readOverrides('V1_0', {
      response: {
        claimsOverrideDetails: { claimsToAddOrOverride: { idp: 'idura', assurance: { loa: 'high' } } },
      },
    });
    assert.deepEqual(overrides.id.add, { idp: 'idura' });
    assert.deepEqual(ignored, ['assurance']);
    assert.equal(overrides.groups, undefined);
  });

  it('removes the groups when groupOverrideDetails is null, keeps them when absent', () => {
    const removed = readOverrides('V2_0', {
      response: { claimsAndScopeOverrideDetails: { groupOverrideDetails: null } },
    });
    assert.equal(removed.overrides.groups, null);
    const kept = readOverrides('V2_0', {
      response: { claimsAndScopeOverrideDetails: { idTokenGeneration: {} } },
    });
    assert.equal(kept.overrides.groups, undefined);
  });

  it('changes nothing when a V2 function answers in the V1 shape', () => {
    const answer = { response: { claimsOverrideDetails: { claimsToAddOrOverride: { idp: 'idme' } } } };
    assert.deepEqual(readOverrides('V2_0', answer).overrides, noOverrides);
  });
});
