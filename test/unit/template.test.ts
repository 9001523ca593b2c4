/**
 * template.yaml against the SAM schema (test/fixtures/sam, SAM translator 1.110.0), the CloudFormation
 * schemas cfn-lint uses for the resources SAM's schema does not describe (test/fixtures/cfn-lint), and
 * what `sam validate --lint`, `sam build` (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-using-build-typescript.html)
 * and `sam local start-api` need.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import AjvModule from 'ajv';
import AjvDraft04 from 'ajv-draft-04';
import { repoRoot, routesFromTemplate } from '../../local/api.ts';
import { type Json, readTemplate, TemplateResolver } from '../../local/template.ts';

// ajv-draft-04 and ajv are CommonJS: the class is the default export's `default`.
const Ajv = AjvDraft04.default;
const AjvDraft7 = AjvModule.default;
const schemaPath = join(repoRoot, 'test', 'fixtures', 'sam', 'sam.schema.json');
const template = readTemplate();
const resources = template.Resources;
const localParameters = {
  HostedUiDomainPrefix: 'local',
  IdmeClientId: 'a',
  IduraDomain: 'localhost',
  IduraClientId: 'b',
};
/** A resource's Properties, typed as the test expects them. */
function props<T>(id: string): T {
  return (resources[id]?.Properties ?? {}) as T;
}
const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function');

describe('template.yaml against the SAM schema', () => {
  it('finds the schema beside the repository', () => {
    assert.ok(existsSync(schemaPath), `SAM schema not found at ${schemaPath}`);
  });

  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as {
    definitions: Record<string, { properties?: { Type?: { enum?: string[] } } }>;
  };
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema(schema, 'sam');
  const definitionFor = (type: string, kind: 'Resource' | 'Event') =>
    Object.entries(schema.definitions).find(
      ([name, d]) =>
        (kind === 'Resource' ? name.endsWith('__Resource') : !name.endsWith('__Resource')) &&
        d.properties?.Type?.enum?.includes(type),
    )?.[0];

  for (const [id, resource] of Object.entries(resources)) {
    if (!resource.Type.startsWith('AWS::Serverless::')) continue;
    it(`${id} (${resource.Type}) is valid`, () => {
      const name = definitionFor(resource.Type.replace('AWS::Serverless::', 'AWS::Serverless::'), 'Resource');
      assert.ok(name, `no schema definition for ${resource.Type}`);
      const validate = ajv.getSchema(`sam#/definitions/${name}`);
      assert.ok(validate);
      assert.ok(validate(resource), JSON.stringify(validate.errors, null, 2));
      for (const [eventName, event] of Object.entries(
        (resource.Properties?.Events ?? {}) as Record<string, { Type: string }>,
      )) {
        const eventDef = definitionFor(event.Type, 'Event');
        assert.ok(eventDef, `no schema definition for event type ${event.Type}`);
        const validateEvent = ajv.getSchema(`sam#/definitions/${eventDef}`);
        assert.ok(validateEvent?.(event), `${eventName}: ${JSON.stringify(validateEvent?.errors, null, 2)}`);
      }
    });
  }

  it('would catch a mistake (the schema is not vacuous)', () => {
    const name = definitionFor('AWS::Serverless::Function', 'Resource');
    const broken = structuredClone(resources.CredentialsFunction) as { Properties: Record<string, Json> };
    broken.Properties.Runtimee = 'nodejs24.x';
    assert.equal(ajv.getSchema(`sam#/definitions/${name}`)?.(broken), false);
  });

  it('has valid Globals', () => {
    const validate = ajv.getSchema('sam#/definitions/__main____Globals');
    assert.ok(validate?.(template.Globals), JSON.stringify(validate?.errors, null, 2));
  });
});

describe('template.yaml and the sam build / sam local checklist', () => {
  it('uses the SAM transform and a current Node.js runtime for every function', () => {
    assert.equal((template as unknown as { Transform: string }).Transform, 'AWS::Serverless-2016-10-31');
    assert.equal(template.Globals?.Function?.Runtime, 'nodejs24.x');
    for (const [id, fn] of functions)
      assert.equal(fn.Properties?.Runtime ?? template.Globals?.Function?.Runtime, 'nodejs24.x', id);
  });

  it('builds every function with esbuild from an entry point that exists', () => {
    for (const [id, fn] of functions) {
      const meta = fn.Metadata as { BuildMethod: string; BuildProperties: Record<string, Json> };
      assert.equal(meta.BuildMethod, 'esbuild', id);
      const props = meta.BuildProperties;
      const entries = props.EntryPoints as string[];
      assert.equal(entries.length, 1, id);
      assert.ok(
        existsSync(join(repoRoot, String(fn.Properties?.CodeUri), entries[0] as string)),
        `${id}: ${entries[0]} missing`,
      );
      assert.equal(fn.Properties?.Handler, 'handler.handler', `${id}: sam build writes handler.mjs`);
      assert.equal(props.Format, 'esm', id);
      assert.equal(props.Sourcemap, true, id);
      for (const [k, v] of Object.entries(props)) {
        assert.ok(
          typeof v === 'boolean' || typeof v === 'string' || Array.isArray(v),
          `${id}: BuildProperties.${k} must be bool, string or list`,
        );
      }
    }
  });

  it('exports `handler` from every entry point', async () => {
    for (const [id, fn] of functions) {
      const entry = (fn.Metadata as { BuildProperties: { EntryPoints: string[] } }).BuildProperties
        .EntryPoints[0] as string;
      const source = readFileSync(join(repoRoot, entry), 'utf8');
      assert.match(source, /export const handler\b|export (async )?function handler\b/, `${id}: ${entry}`);
    }
  });

  it('keeps a package.json at CodeUri so sam build can install runtime dependencies', () => {
    for (const [, fn] of functions)
      assert.ok(existsSync(join(repoRoot, String(fn.Properties?.CodeUri), 'package.json')));
  });

  it('bundles everything: no function marks a package External, since no layer would provide it', () => {
    // Lambda's nodejs24.x runtime would resolve an External import from the runtime's own SDK copy
    // (another version than the tests ran) or fail with Runtime.ImportModuleError.
    assert.deepEqual(
      Object.values(resources).filter((r) => r.Type === 'AWS::Serverless::LayerVersion'),
      [],
    );
    for (const [id, fn] of functions) {
      const build = (fn.Metadata as { BuildProperties: { External?: string[] } }).BuildProperties;
      assert.equal(build.External, undefined, `${id} lists External packages`);
      assert.equal(fn.Properties?.Layers, undefined, `${id} uses a layer`);
    }
  });

  it('routes every HttpApi event through the one explicit HttpApi, with no stage name', () => {
    const resolver = new TemplateResolver(template, { parameters: localParameters });
    const routes = routesFromTemplate(resolver);
    assert.ok(routes.some((r) => r.method === 'GET' && r.path === '/credentials'));
    assert.ok(routes.some((r) => r.method === 'POST' && r.path === '/credentials'));
    for (const [id, fn] of functions) {
      for (const event of Object.values(
        (fn.Properties?.Events ?? {}) as Record<string, { Type: string; Properties: { ApiId?: Json } }>,
      )) {
        assert.equal(event.Type, 'HttpApi', id);
        assert.deepEqual(event.Properties.ApiId, { Ref: 'BrokerApi' }, id);
      }
    }
    assert.equal(resources.BrokerApi?.Properties?.StageName, undefined);
    assert.equal(resources.ServerlessHttpApi, undefined);
    assert.equal(resources.ServerlessRestApi, undefined);
    const keys = routes.map((r) => `${r.method} ${r.path}`);
    assert.equal(new Set(keys).size, keys.length, 'no duplicate routes');
  });

  it('configures CORS with lists and never combines credentials with *', () => {
    const cors = template.Globals?.HttpApi?.CorsConfiguration as Record<string, Json>;
    assert.ok(Array.isArray(cors.AllowMethods) && Array.isArray(cors.AllowHeaders));
    assert.deepEqual(cors.AllowOrigins, { Ref: 'FrontendOrigins' });
    const resolver = new TemplateResolver(template, { parameters: localParameters });
    const origins = resolver.resolve(cors.AllowOrigins as Json);
    assert.ok(Array.isArray(origins) && !origins.includes('*'));
  });

  it('has no trigger/user-pool cycle and grants Cognito permission to invoke the trigger', () => {
    const userPool = resources.UserPool?.Properties as {
      LambdaConfig: { PreTokenGenerationConfig: { LambdaArn: Json; LambdaVersion: string } };
    };
    const config = userPool.LambdaConfig.PreTokenGenerationConfig;
    assert.equal(config.LambdaVersion, 'V2_0');
    assert.deepEqual(config.LambdaArn, { 'Fn::GetAtt': ['PreTokenGenerationFunction', 'Arn'] });
    const trigger = JSON.stringify(resources.PreTokenGenerationFunction);
    for (const name of ['UserPool', 'UserPoolClient', 'IdentityPool']) {
      assert.ok(!new RegExp(`"${name}"|\\$\\{${name}[.}]`).test(trigger), `trigger references ${name}`);
    }
    assert.equal(
      template.Globals?.Function?.Environment,
      undefined,
      'Globals Environment would reach the trigger',
    );
    const permission = resources.PreTokenGenerationPermission?.Properties as Record<string, Json>;
    assert.equal(permission.Principal, 'cognito-idp.amazonaws.com');
    assert.deepEqual(permission.SourceArn, { 'Fn::GetAtt': ['UserPool', 'Arn'] });
    assert.equal(props<{ UserPoolTier: string }>('UserPool').UserPoolTier, 'ESSENTIALS');
  });

  it('never references the API from the app client (that would be a cycle through the functions)', () => {
    assert.ok(!JSON.stringify(resources.UserPoolClient).includes('BrokerApi'));
  });

  it('creates the user pool with no required attributes and mutable custom attributes', () => {
    const schema = props<{ Schema: Array<Record<string, Json>> }>('UserPool').Schema;
    for (const attribute of schema) {
      assert.notEqual(attribute.Required, true, String(attribute.Name));
      assert.equal(attribute.Mutable, true, String(attribute.Name));
      assert.ok(String(attribute.Name).length <= 20);
    }
  });

  it('maps only attributes the pool has, and no national identifiers', () => {
    const schema = props<{ Schema: Array<{ Name: string }> }>('UserPool').Schema.map(
      (a) => `custom:${a.Name}`,
    );
    const standard = [
      'username',
      'given_name',
      'family_name',
      'middle_name',
      'name',
      'email',
      'birthdate',
      'phone_number',
    ];
    const writable = props<{ WriteAttributes: string[] }>('UserPoolClient').WriteAttributes;
    for (const id of ['IdmeProvider', 'IduraProvider']) {
      const mapping = props<{ AttributeMapping: Record<string, string> }>(id).AttributeMapping;
      for (const [attribute, claim] of Object.entries(mapping)) {
        assert.ok(
          schema.includes(attribute) || standard.includes(attribute),
          `${id}: ${attribute} is not in the pool schema`,
        );
        assert.ok(
          attribute === 'username' || writable.includes(attribute),
          `${id}: ${attribute} must be writable by the app client`,
        );
        assert.doesNotMatch(
          claim,
          /^(social|ssn|socialno|cprNumberIdentifier|hetu)$/i,
          `${id} maps a national identifier`,
        );
      }
    }
  });

  it('takes IdP client secrets from Secrets Manager dynamic references, never parameters', () => {
    for (const id of ['IdmeProvider', 'IduraProvider']) {
      const secret = JSON.stringify(
        props<{ ProviderDetails: Record<string, Json> }>(id).ProviderDetails.client_secret,
      );
      assert.match(secret, /\{\{resolve:secretsmanager:/, id);
    }
    for (const name of Object.keys(template.Parameters ?? {}))
      assert.doesNotMatch(name, /secret$/i, `parameter ${name} carries a secret`);
  });

  it('trusts the identity pool role only for this pool, authenticated users', () => {
    const role = resources.AuthenticatedRole?.Properties as {
      AssumeRolePolicyDocument: { Statement: Array<Record<string, Json>> };
    };
    const statement = role.AssumeRolePolicyDocument.Statement[0] as Record<
      string,
      Record<string, Record<string, Json>>
    >;
    assert.deepEqual(statement.Condition?.StringEquals?.['cognito-identity.amazonaws.com:aud'], {
      Ref: 'IdentityPool',
    });
    assert.equal(
      statement.Condition?.['ForAnyValue:StringLike']?.['cognito-identity.amazonaws.com:amr'],
      'authenticated',
    );
    assert.equal(
      props<{ AllowUnauthenticatedIdentities: boolean }>('IdentityPool').AllowUnauthenticatedIdentities,
      false,
    );
  });

  it('declares every output a user needs', () => {
    for (const name of [
      'ApiUrl',
      'UserPoolId',
      'UserPoolClientId',
      'IdentityPoolId',
      'HostedUiDomain',
      'IdpResponseUrl',
    ]) {
      assert.ok(template.Outputs?.[name], name);
    }
  });

  it('gives every parameter without a Default a value in samconfig.toml', () => {
    const samconfig = readFileSync(join(repoRoot, 'samconfig.toml'), 'utf8');
    for (const [name, p] of Object.entries(template.Parameters ?? {})) {
      if (p.Default !== undefined) continue;
      assert.match(samconfig, new RegExp(`\\b${name}=`), `${name} has no default in samconfig.toml`);
    }
  });
});

describe('the optional custom domain (ApiDomainName + CertificateArn)', () => {
  const withDomain = {
    ...localParameters,
    ApiDomainName: 'auth.example.com',
    CertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
  };
  const cfnSchema = (file: string) =>
    JSON.parse(readFileSync(join(repoRoot, 'test', 'fixtures', 'cfn-lint', file), 'utf8')) as object;
  const cfn = new AjvDraft7({ strict: false, allErrors: true });
  const validateDomain = cfn.compile(cfnSchema('aws-apigatewayv2-domainname.json'));
  const validateMapping = cfn.compile(cfnSchema('aws-apigatewayv2-apimapping.json'));
  const publicBaseUrls = (resolver: TemplateResolver) =>
    functions
      .map(
        ([id]) =>
          (resolver.resource(id).Properties.Environment as { Variables?: Record<string, Json> })?.Variables,
      )
      .filter((v) => v?.PUBLIC_BASE_URL !== undefined)
      .map((v) => v?.PUBLIC_BASE_URL);

  it('creates no domain without the parameters: PublicBaseUrl is the public origin everywhere', () => {
    const resolver = new TemplateResolver(template, { parameters: localParameters });
    assert.equal(resolver.hasResource('ApiDomain'), false);
    assert.equal(resolver.hasResource('ApiDomainMapping'), false);
    assert.ok(!resolver.resourcesOfType('AWS::ApiGatewayV2::DomainName').length);
    const urls = publicBaseUrls(resolver);
    assert.equal(urls.length, 5, 'every sign-in function and /credentials read PUBLIC_BASE_URL');
    assert.deepEqual(new Set(urls), new Set(['http://localhost:3000']));
    assert.deepEqual(resolver.resource('UserPoolClient').Properties.CallbackURLs, [
      'http://localhost:3000/auth/callback',
    ]);
    assert.equal(resolver.output('PublicOrigin'), 'http://localhost:3000');
    assert.equal(resolver.output('ApiDomainTarget'), undefined);
  });

  it('with them, maps the domain to the API and derives the callback URL from it, before any deploy', () => {
    const resolver = new TemplateResolver(template, { parameters: withDomain });
    assert.ok(resolver.hasResource('ApiDomain') && resolver.hasResource('ApiDomainMapping'));
    const domain = resolver.resource('ApiDomain').Properties;
    assert.ok(validateDomain(domain), JSON.stringify(validateDomain.errors));
    assert.deepEqual(domain, {
      DomainName: 'auth.example.com',
      DomainNameConfigurations: [
        { CertificateArn: withDomain.CertificateArn, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' },
      ],
    });
    const mapping = resolver.resource('ApiDomainMapping').Properties;
    assert.ok(validateMapping(mapping), JSON.stringify(validateMapping.errors));
    assert.deepEqual(mapping, { DomainName: 'ApiDomain', ApiId: 'BrokerApi', Stage: '$default' });
    assert.deepEqual(resources.ApiDomainMapping?.Properties?.Stage, { Ref: 'BrokerApi.Stage' });
    assert.deepEqual(new Set(publicBaseUrls(resolver)), new Set(['https://auth.example.com']));
    assert.deepEqual(resolver.resource('UserPoolClient').Properties.CallbackURLs, [
      'https://auth.example.com/auth/callback',
    ]);
    assert.equal(resolver.output('CallbackUrl'), 'https://auth.example.com/auth/callback');
    assert.equal(resolver.output('PublicOrigin'), 'https://auth.example.com');
  });

  it('validates the new resources against the CloudFormation schemas cfn-lint uses (not vacuously)', () => {
    assert.equal(validateDomain({ DomainName: 'a.example.com', DomainNameConfiguration: [] }), false);
    assert.equal(validateMapping({ DomainName: 'a.example.com', ApiId: 'x' }), false, 'Stage is required');
  });

  it("accepts empty or well-formed values in the parameters' AllowedPattern, and refuses others", () => {
    const pattern = (name: string) => new RegExp(String(template.Parameters?.[name]?.AllowedPattern));
    for (const ok of ['', 'auth.example.com', 'api.eu.example.co.uk'])
      assert.match(ok, pattern('ApiDomainName'));
    for (const bad of ['https://auth.example.com', 'auth.example.com/', 'Auth.Example.com', 'localhost'])
      assert.doesNotMatch(bad, pattern('ApiDomainName'), bad);
    for (const ok of ['', withDomain.CertificateArn]) assert.match(ok, pattern('CertificateArn'));
    assert.doesNotMatch('arn:aws:iam::123456789012:role/x', pattern('CertificateArn'));
  });

  it('names only declared conditions (resources, outputs and Fn::If)', () => {
    const declared = new Set(Object.keys(template.Conditions ?? {}));
    const used = JSON.stringify(template).matchAll(/"(?:Condition|Fn::If)":\s*(?:\[\s*)?"(\w+)"/g);
    for (const [, name] of used) assert.ok(declared.has(name as string), `${name} is not declared`);
    assert.equal(resources.ApiDomain?.Condition, 'HasCustomDomain');
    assert.equal(resources.ApiDomainMapping?.Condition, 'HasCustomDomain');
  });
});
