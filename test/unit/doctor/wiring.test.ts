/**
 * The broker's wiring read from template.yaml (resolved with parameters, as CloudFormation would),
 * healthy and in copies of the parsed template broken on purpose.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localConfig, localParameters } from '../../../local/config.ts';
import { type Json, type RawTemplate, readTemplate } from '../../../local/template.ts';
import {
  parseParameterOverrides,
  readSamconfig,
  wiringFromTemplate,
} from '../../../tools/doctor/template-source.ts';
import { checkWiring, type WiringExpectations } from '../../../tools/doctor/wiring.ts';
import { assertNoErrors, assertSeverity, clone } from './support.ts';

const pristine = readTemplate();
const offline = localConfig();
const publicBaseUrl = 'https://api.example.com';
const parameters = { ...localParameters(offline), PublicBaseUrl: publicBaseUrl };

type Props = Record<string, Json>;
/** `!Join ['', parts]`, the long form a parsed template holds. */
const join = (...parts: Json[]): Json => ({ 'Fn::Join': ['', parts] });
/** A deep copy of template.yaml with one resource's Properties changed. */
function broken(logicalId: string, change: (props: Props) => void): RawTemplate {
  const template = clone(pristine);
  const resource = template.Resources[logicalId];
  assert.ok(resource?.Properties, `template.yaml has ${logicalId}`);
  change(resource.Properties);
  return template;
}

function check(template: RawTemplate, expect: WiringExpectations = {}) {
  const { wiring, findings } = wiringFromTemplate(template, { parameters, region: 'eu-west-1' });
  return [...findings, ...checkWiring(wiring, { publicBaseUrl, ...expect })];
}

describe('doctor: template.yaml wiring as it is', () => {
  it('has no errors', () => {
    assertNoErrors(check(pristine));
  });

  it('resolves the identity pool provider to the logins key of the pool in the region', () => {
    const finding = assertSeverity(check(pristine), 'identity-pool.provider-name', 'ok');
    assert.match(finding.message, /cognito-idp\.eu-west-1\.amazonaws\.com\/<UserPool>/);
  });

  it('resolves provider Refs on the app client to provider names', () => {
    const { wiring } = wiringFromTemplate(pristine, { parameters, region: 'us-east-1' });
    assert.deepEqual(wiring.client?.supportedProviders, ['IDmeSandbox', 'IduraTest']);
  });

  it('warns when the callback is still the localhost default outside the offline stack', () => {
    const { wiring } = wiringFromTemplate(pristine, {
      parameters: localParameters(offline),
      region: 'us-east-1',
    });
    assertSeverity(
      checkWiring(wiring, { publicBaseUrl: offline.publicBaseUrl }),
      'client.callback',
      'warning',
    );
    assertSeverity(
      checkWiring(wiring, { publicBaseUrl: offline.publicBaseUrl, offline: true }),
      'client.callback',
      'ok',
    );
  });

  it('warns about parameters without a value', () => {
    const { findings } = wiringFromTemplate(pristine, { parameters: {}, region: 'us-east-1' });
    assert.match(assertSeverity(findings, 'template.parameters', 'warning').message, /IdmeClientId/);
  });
});

describe('doctor: template copies broken on purpose', () => {
  it('reports a required attribute an IdP does not send', () => {
    const template = broken('UserPool', (p) => {
      (p.Schema as Json[]).push({
        Name: 'email',
        AttributeDataType: 'String',
        Required: true,
        Mutable: true,
      });
    });
    const finding = assertSeverity(check(template), 'pool.required-attributes', 'error');
    assert.match(finding.message, /email is required/);
    assert.match(finding.fix ?? '', /cannot be changed/);
  });

  it('reports a required custom attribute no IdP maps', () => {
    const template = broken('UserPool', (p) => {
      (p.Schema as Json[]).push({ Name: 'member_id', AttributeDataType: 'String', Required: true });
    });
    assert.match(
      assertSeverity(check(template), 'pool.required-attributes', 'error').message,
      /custom:member_id is required but IDmeSandbox, IduraTest does not map it/,
    );
  });

  it('reports a mapping to an attribute the schema does not have', () => {
    const template = broken('IduraProvider', (p) => {
      (p.AttributeMapping as Props)['custom:idp_nationality'] = 'nationality';
    });
    const finding = assertSeverity(check(template), 'provider.mapping-schema', 'error', 'IduraTest');
    assert.match(finding.message, /custom:idp_nationality/);
  });

  it('reports a mapped attribute that is immutable', () => {
    const template = broken('UserPool', (p) => {
      const zip = (p.Schema as Props[]).find((a) => a.Name === 'idp_zip');
      assert.ok(zip);
      zip.Mutable = false;
    });
    assert.match(assertSeverity(check(template), 'pool.mapped-mutable', 'error').message, /custom:idp_zip/);
  });

  it('reports a callback URL mismatch', () => {
    const template = broken('UserPoolClient', (p) => {
      p.CallbackURLs = [join({ Ref: 'PublicBaseUrl' }, '/callback')];
    });
    const finding = assertSeverity(check(template), 'client.callback', 'error');
    assert.match(finding.message, /https:\/\/api\.example\.com\/auth\/callback is not a callback URL/);
  });

  it('reports a callback registered with a trailing slash as a near miss', () => {
    const template = broken('UserPoolClient', (p) => {
      p.CallbackURLs = [join({ Ref: 'PublicBaseUrl' }, '/auth/callback/')];
    });
    assert.match(assertSeverity(check(template), 'client.callback', 'error').message, /near miss/);
  });

  it('reports an identity pool provider name with ":" instead of "."', () => {
    const template = broken('IdentityPool', (p) => {
      const [provider] = p.CognitoIdentityProviders as Props[];
      assert.ok(provider);
      provider.ProviderName = join('cognito-idp:', { Ref: 'AWS::Region' }, ':amazonaws.com/', {
        Ref: 'UserPool',
      });
    });
    const finding = assertSeverity(check(template), 'identity-pool.provider-name', 'error');
    assert.match(finding.message, /cognito-idp:eu-west-1:amazonaws\.com\/<UserPool>/);
    assert.match(finding.fix ?? '', /Issuer doesn't match providerName/);
  });

  it('reports the app client missing from the identity pool', () => {
    const template = broken('IdentityPool', (p) => {
      const [provider] = p.CognitoIdentityProviders as Props[];
      assert.ok(provider);
      provider.ClientId = 'some-other-client';
    });
    const finding = assertSeverity(check(template), 'identity-pool.client', 'error');
    assert.match(finding.fix ?? '', /Token is not from a supported provider/);
  });

  it('reports a trusted client the identity pool does not list', () => {
    assertSeverity(check(pristine, { trustedClientIds: ['mobile-app'] }), 'identity-pool.client', 'error');
  });

  it('warns when ServerSideTokenCheck is off', () => {
    const template = broken('IdentityPool', (p) => {
      (p.CognitoIdentityProviders as Props[])[0] = {
        ...(p.CognitoIdentityProviders as Props[])[0],
        ServerSideTokenCheck: false,
      };
    });
    assertSeverity(check(template), 'identity-pool.server-side-token-check', 'warning');
  });

  it('reports a V2_0 trigger on the Lite tier', () => {
    const template = broken('UserPool', (p) => {
      p.UserPoolTier = 'LITE';
    });
    assertSeverity(check(template), 'pool.trigger-tier', 'error');
  });

  it('reports a mapped attribute the app client cannot write', () => {
    const template = broken('UserPoolClient', (p) => {
      p.WriteAttributes = (p.WriteAttributes as string[]).filter((a) => a !== 'custom:eid_scheme');
    });
    assert.match(
      assertSeverity(check(template), 'client.write-attributes', 'error').message,
      /custom:eid_scheme/,
    );
  });

  it('reports an IdP enabled on the client that the pool does not define', () => {
    const template = broken('UserPoolClient', (p) => {
      p.SupportedIdentityProviders = ['IDme', { Ref: 'IduraProvider' }];
    });
    const finding = assertSeverity(check(template), 'client.providers', 'error');
    assert.match(finding.message, /enables IDme/);
  });

  it('reports scopes without openid, and ID.me without a policy handle', () => {
    const template = broken('IdmeProvider', (p) => {
      (p.ProviderDetails as Props).authorize_scopes = 'military';
    });
    assertSeverity(check(template), 'provider.scopes', 'error', 'IDmeSandbox');
    const noPolicy = broken('IdmeProvider', (p) => {
      (p.ProviderDetails as Props).authorize_scopes = 'openid';
    });
    assertSeverity(check(noPolicy), 'provider.idme-scopes', 'error', 'IDmeSandbox');
  });

  it('reports an oidc_issuer with a trailing slash', () => {
    const template = broken('IduraProvider', (p) => {
      (p.ProviderDetails as Props).oidc_issuer = join('https://', { Ref: 'IduraDomain' }, '/');
    });
    assertSeverity(check(template), 'provider.oidc-issuer', 'error', 'IduraTest');
  });

  it('reports an app client without the code flow, openid or a secret', () => {
    const template = broken('UserPoolClient', (p) => {
      p.AllowedOAuthFlows = ['implicit'];
      p.AllowedOAuthScopes = ['email'];
      p.GenerateSecret = false;
    });
    const findings = check(template);
    assertSeverity(findings, 'client.code-flow', 'error');
    assertSeverity(findings, 'client.openid-scope', 'error');
    assertSeverity(findings, 'client.secret', 'error');
  });

  it('reports a template without identity pool or app client', () => {
    const template = clone(pristine);
    delete template.Resources.IdentityPool;
    delete template.Resources.UserPoolClient;
    const findings = check(template);
    assertSeverity(findings, 'identity-pool.missing', 'error');
    assertSeverity(findings, 'client.missing', 'error');
  });
});

describe('doctor: samconfig.toml', () => {
  it("reads the deploy environment's parameter_overrides, region and stack name", () => {
    const text = `version = 0.1
[default.global.parameters]
stack_name = "federation-broker"
[default.deploy.parameters]
region = "eu-west-1"
# comment
parameter_overrides = "HostedUiDomainPrefix=\\"my-broker\\" IdmeClientId=\\"abc\\" PublicBaseUrl=https://api.example.com"
[default.local_start_api.parameters]
parameter_overrides = "HostedUiDomainPrefix=\\"local\\""`;
    assert.deepEqual(readSamconfig(text), {
      parameters: {
        HostedUiDomainPrefix: 'my-broker',
        IdmeClientId: 'abc',
        PublicBaseUrl: 'https://api.example.com',
      },
      region: 'eu-west-1',
      stackName: 'federation-broker',
    });
    assert.deepEqual(readSamconfig(text, 'default', 'local_start_api').parameters, {
      HostedUiDomainPrefix: 'local',
    });
  });

  it('reads the CloudFormation form of parameter overrides', () => {
    assert.deepEqual(
      parseParameterOverrides('ParameterKey=A,ParameterValue=1 ParameterKey=B,ParameterValue="x y"'),
      {
        A: '1',
        B: 'x y',
      },
    );
  });
});
