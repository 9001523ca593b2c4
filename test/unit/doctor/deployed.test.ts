/**
 * The deployed mode: the wiring read with DescribeUserPool, ListIdentityProviders,
 * DescribeIdentityProvider, DescribeUserPoolClient and DescribeIdentityPool (aws-sdk-client-mock),
 * healthy and broken.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import {
  CognitoIdentityClient,
  DescribeIdentityPoolCommand,
  type DescribeIdentityPoolCommandOutput,
  ListIdentityPoolsCommand,
} from '@aws-sdk/client-cognito-identity';
import {
  CognitoIdentityProviderClient,
  DescribeIdentityProviderCommand,
  DescribeUserPoolClientCommand,
  type DescribeUserPoolClientCommandOutput,
  DescribeUserPoolCommand,
  type DescribeUserPoolCommandOutput,
  ListIdentityProvidersCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { readTemplate } from '../../../local/template.ts';
import { parseDoctorArgs } from '../../../tools/doctor/args.ts';
import { findStackIds, wiringFromDeployed } from '../../../tools/doctor/deployed-source.ts';
import { type DoctorDeps, runDoctor } from '../../../tools/doctor/run.ts';
import { wiringFromTemplate } from '../../../tools/doctor/template-source.ts';
import { checkWiring } from '../../../tools/doctor/wiring.ts';
import { assertNoErrors, assertSeverity, errorsOf, fakeFetch } from './support.ts';

const region = 'eu-west-1';
const ids = {
  userPoolId: 'eu-west-1_AbC123',
  clientId: '1example23456789',
  identityPoolId: 'eu-west-1:0f4c5e6a-1111-2222-3333-444455556666',
};
const publicBaseUrl = 'https://api.example.com';
const userPoolsMock = mockClient(CognitoIdentityProviderClient);
const identityPoolsMock = mockClient(CognitoIdentityClient);
const clients = {
  userPools: new CognitoIdentityProviderClient({ region }),
  identityPools: new CognitoIdentityClient({ region }),
};

// The healthy describes are what deploying template.yaml gives (the same model, in the API's shapes).
const template = wiringFromTemplate(readTemplate(), {
  parameters: {
    PublicBaseUrl: publicBaseUrl,
    HostedUiDomainPrefix: 'my-broker',
    IdmeClientId: 'idme-client',
    IduraDomain: 'acme-corp.idura.broker',
    IduraClientId: 'urn:my:application',
  },
  region,
  stackName: 'federation-broker',
  ids: { userPool: ids.userPoolId, client: ids.clientId, identityPool: ids.identityPoolId },
}).wiring;

type UserPool = NonNullable<DescribeUserPoolCommandOutput['UserPool']>;
type Client = NonNullable<DescribeUserPoolClientCommandOutput['UserPoolClient']>;
type IdentityPool = Omit<DescribeIdentityPoolCommandOutput, '$metadata'>;

function healthyPool(): UserPool {
  return {
    Id: ids.userPoolId,
    Name: 'federation-broker-users',
    UserPoolTier: 'ESSENTIALS',
    SchemaAttributes: template.userPool.schema.map((a) => ({
      Name: a.name,
      AttributeDataType: 'String',
      Required: a.required,
      Mutable: a.mutable,
      StringAttributeConstraints: { MaxLength: String(a.maxLength ?? 2048) },
    })),
    LambdaConfig: {
      PreTokenGenerationConfig: {
        LambdaArn: 'arn:aws:lambda:eu-west-1:123456789012:function:pre-token',
        LambdaVersion: 'V2_0',
      },
    },
  };
}

function healthyClient(): Client {
  const c = template.client;
  assert.ok(c);
  return {
    UserPoolId: ids.userPoolId,
    ClientId: ids.clientId,
    ClientName: 'federation-broker-broker',
    ClientSecret: 'secret',
    CallbackURLs: [...c.callbackUrls],
    SupportedIdentityProviders: [...c.supportedProviders],
    AllowedOAuthFlows: ['code'],
    AllowedOAuthScopes: [...c.allowedScopes],
    AllowedOAuthFlowsUserPoolClient: true,
    WriteAttributes: [...(c.writeAttributes ?? [])],
  };
}

function healthyIdentityPool(): IdentityPool {
  return {
    IdentityPoolId: ids.identityPoolId,
    IdentityPoolName: 'federation-broker_identities',
    AllowUnauthenticatedIdentities: false,
    CognitoIdentityProviders: [
      {
        ProviderName: `cognito-idp.${region}.amazonaws.com/${ids.userPoolId}`,
        ClientId: ids.clientId,
        ServerSideTokenCheck: true,
      },
    ],
  };
}

interface Changes {
  pool?: (pool: UserPool) => void;
  client?: (client: Client) => void;
  identityPool?: (pool: IdentityPool) => void;
  providerDetails?: (name: string, details: Record<string, string>, mapping: Record<string, string>) => void;
}

function deploy(changes: Changes = {}): void {
  const pool = healthyPool();
  changes.pool?.(pool);
  const client = healthyClient();
  changes.client?.(client);
  const identityPool = healthyIdentityPool();
  changes.identityPool?.(identityPool);
  userPoolsMock.on(DescribeUserPoolCommand, { UserPoolId: ids.userPoolId }).resolves({ UserPool: pool });
  userPoolsMock
    .on(DescribeUserPoolClientCommand, { UserPoolId: ids.userPoolId, ClientId: ids.clientId })
    .resolves({ UserPoolClient: client });
  userPoolsMock.on(ListIdentityProvidersCommand).resolves({
    Providers: template.providers.map((p) => ({ ProviderName: p.name, ProviderType: 'OIDC' })),
  });
  userPoolsMock
    .on(DescribeIdentityProviderCommand)
    .rejects(Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' }));
  for (const p of template.providers) {
    const details = { ...p.details, attributes_url_add_attributes: 'false' };
    const mapping = { ...p.attributeMapping };
    changes.providerDetails?.(p.name, details, mapping);
    userPoolsMock
      .on(DescribeIdentityProviderCommand, { UserPoolId: ids.userPoolId, ProviderName: p.name })
      .resolves({
        IdentityProvider: {
          UserPoolId: ids.userPoolId,
          ProviderName: p.name,
          ProviderType: 'OIDC',
          ProviderDetails: details,
          AttributeMapping: mapping,
        },
      });
  }
  identityPoolsMock
    .on(DescribeIdentityPoolCommand, { IdentityPoolId: ids.identityPoolId })
    .resolves(identityPool);
}

async function deployedFindings(changes: Changes = {}, expect: { trustedClientIds?: string[] } = {}) {
  deploy(changes);
  const { wiring, findings } = await wiringFromDeployed(clients, ids, region);
  assert.ok(wiring, JSON.stringify(findings));
  return [...findings, ...checkWiring(wiring, { publicBaseUrl, ...expect })];
}

beforeEach(() => {
  userPoolsMock.reset();
  identityPoolsMock.reset();
});

describe('doctor: a deployed stack set up correctly', () => {
  it('has no errors', async () => {
    const findings = await deployedFindings();
    assertNoErrors(findings);
    assertSeverity(findings, 'identity-pool.provider-name', 'ok');
    assertSeverity(findings, 'client.callback', 'ok');
  });

  it('reads every provider of the pool with one DescribeIdentityProvider each', async () => {
    await deployedFindings();
    const described = userPoolsMock
      .commandCalls(DescribeIdentityProviderCommand)
      .map((c) => c.args[0].input.ProviderName);
    assert.deepEqual(described.sort(), ['IDmeSandbox', 'IduraTest']);
  });
});

describe('doctor: a deployed stack broken on purpose', () => {
  it('reports a required attribute an IdP does not always send', async () => {
    const findings = await deployedFindings({
      pool: (p) => {
        const email = p.SchemaAttributes?.find((a) => a.Name === 'email');
        assert.ok(email);
        email.Required = true;
      },
    });
    const finding = assertSeverity(findings, 'pool.required-attributes', 'error');
    assert.match(
      finding.message,
      /email is required, and IDmeSandbox \(email\) and IduraTest \(email\) do not always send it/,
    );
  });

  it('reports a mapped custom attribute that is immutable or missing from the schema', async () => {
    const findings = await deployedFindings({
      pool: (p) => {
        p.SchemaAttributes = p.SchemaAttributes?.filter((a) => a.Name !== 'custom:eid_scheme');
        const zip = p.SchemaAttributes?.find((a) => a.Name === 'custom:idp_zip');
        assert.ok(zip);
        zip.Mutable = false;
      },
    });
    assertSeverity(findings, 'pool.mapped-mutable', 'error');
    assert.match(
      assertSeverity(findings, 'provider.mapping-schema', 'error', 'IduraTest').message,
      /custom:eid_scheme/,
    );
  });

  it('reports a V2_0 trigger on a Lite pool', async () => {
    const findings = await deployedFindings({
      pool: (p) => {
        p.UserPoolTier = 'LITE';
      },
    });
    assertSeverity(findings, 'pool.trigger-tier', 'error');
  });

  it('reports an oidc_issuer with a trailing slash and a missing attributes_request_method', async () => {
    const findings = await deployedFindings({
      providerDetails: (name, details) => {
        if (name === 'IduraTest') {
          details.oidc_issuer = 'https://acme-corp.idura.broker/';
          delete details.attributes_request_method;
        }
      },
    });
    assertSeverity(findings, 'provider.oidc-issuer', 'error', 'IduraTest');
    assertSeverity(findings, 'provider.attributes-request-method', 'error', 'IduraTest');
  });

  it('reports auto-filled endpoints on a port Cognito will not use', async () => {
    const findings = await deployedFindings({
      providerDetails: (name, details) => {
        if (name === 'IDmeSandbox') details.token_url = 'https://api.idmelabs.com:8443/oauth/token';
      },
    });
    assertSeverity(findings, 'provider.endpoints.port', 'error', 'IDmeSandbox');
  });

  it('reports the callback URL not registered on the app client', async () => {
    const findings = await deployedFindings({
      client: (c) => {
        c.CallbackURLs = ['https://old.example.com/auth/callback'];
      },
    });
    assertSeverity(findings, 'client.callback', 'error');
  });

  it('reports an IdP enabled on the client that the pool does not have', async () => {
    const findings = await deployedFindings({
      client: (c) => {
        c.SupportedIdentityProviders = ['IDme', 'IduraTest'];
      },
    });
    assert.match(assertSeverity(findings, 'client.providers', 'error').message, /enables IDme,/);
  });

  it('reports an identity pool provider name with ":" instead of "."', async () => {
    const findings = await deployedFindings({
      identityPool: (p) => {
        const [provider] = p.CognitoIdentityProviders ?? [];
        assert.ok(provider);
        provider.ProviderName = `cognito-idp.${region}.amazonaws.com:${ids.userPoolId}`;
      },
    });
    assertSeverity(findings, 'identity-pool.provider-name', 'error');
  });

  it('reports the app client missing from the identity pool', async () => {
    const findings = await deployedFindings({
      identityPool: (p) => {
        const [provider] = p.CognitoIdentityProviders ?? [];
        assert.ok(provider);
        provider.ClientId = 'another-client';
      },
    });
    assert.match(
      assertSeverity(findings, 'identity-pool.client', 'error').message,
      /1example23456789 is not listed/,
    );
  });

  it('reports a denied DescribeUserPool with the permissions it needs', async () => {
    userPoolsMock
      .on(DescribeUserPoolCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const { wiring, findings } = await wiringFromDeployed(clients, ids, region);
    assert.equal(wiring, undefined);
    const finding = assertSeverity(findings, 'deployed.describe', 'error');
    assert.match(finding.fix ?? '', /cognito-idp:DescribeUserPool/);
  });

  it('reports a user pool that does not exist in the region', async () => {
    userPoolsMock
      .on(DescribeUserPoolCommand)
      .rejects(Object.assign(new Error('User pool does not exist'), { name: 'ResourceNotFoundException' }));
    const { findings } = await wiringFromDeployed(clients, ids, region);
    assert.match(
      assertSeverity(findings, 'deployed.describe', 'error').fix ?? '',
      /--user-pool-id and the region/,
    );
  });
});

describe('doctor: finding a stack without CloudFormation', () => {
  it('finds the pools and client by the names template.yaml gives them, across pages', async () => {
    userPoolsMock
      .on(ListUserPoolsCommand, { NextToken: undefined })
      .resolves({ UserPools: [{ Id: 'eu-west-1_other', Name: 'other-users' }], NextToken: 'p2' })
      .on(ListUserPoolsCommand, { NextToken: 'p2' })
      .resolves({ UserPools: [{ Id: ids.userPoolId, Name: 'federation-broker-users' }] });
    userPoolsMock
      .on(ListUserPoolClientsCommand)
      .resolves({ UserPoolClients: [{ ClientId: ids.clientId, ClientName: 'federation-broker-broker' }] });
    identityPoolsMock.on(ListIdentityPoolsCommand).resolves({
      IdentityPools: [
        { IdentityPoolId: ids.identityPoolId, IdentityPoolName: 'federation-broker_identities' },
      ],
    });
    const { ids: found, findings } = await findStackIds(
      clients,
      {
        userPool: 'federation-broker-users',
        client: 'federation-broker-broker',
        identityPool: 'federation-broker_identities',
      },
      {},
    );
    assert.deepEqual(found, ids);
    assertSeverity(findings, 'deployed.lookup', 'ok');
  });

  it('says which id to pass when a name is not found', async () => {
    userPoolsMock.on(ListUserPoolsCommand).resolves({ UserPools: [] });
    const { ids: found, findings } = await findStackIds(clients, { userPool: 'nope-users' }, {});
    assert.equal(found, undefined);
    assert.match(assertSeverity(findings, 'deployed.lookup', 'error').fix ?? '', /--user-pool-id/);
  });
});

describe('doctor: runDoctor against a deployed stack', () => {
  const idmeDoc = {
    issuer: 'https://api.idmelabs.com/oidc',
    authorization_endpoint: 'https://api.idmelabs.com/oauth/authorize',
    token_endpoint: 'https://api.idmelabs.com/oauth/token',
    userinfo_endpoint: 'https://api.idmelabs.com/api/public/v3/userinfo',
    jwks_uri: 'https://api.idmelabs.com/oidc/.well-known/jwks',
    id_token_signing_alg_values_supported: ['RS256', 'ES256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
  };
  const iduraDoc = {
    issuer: 'https://acme-corp.idura.broker',
    authorization_endpoint: 'https://acme-corp.idura.broker/oauth2/authorize',
    token_endpoint: 'https://acme-corp.idura.broker/oauth2/token',
    userinfo_endpoint: 'https://acme-corp.idura.broker/oauth2/userinfo',
    jwks_uri: 'https://acme-corp.idura.broker/.well-known/jwks',
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
  };
  const jwks = { keys: [{ kty: 'RSA', kid: 'k1', alg: 'RS256', use: 'sig', n: 'x', e: 'AQAB' }] };
  const fetchFn = fakeFetch({
    'https://api.idmelabs.com/oidc/.well-known/openid-configuration': idmeDoc,
    'https://api.idmelabs.com/oidc/.well-known/jwks': jwks,
    'https://acme-corp.idura.broker/.well-known/openid-configuration': iduraDoc,
    'https://acme-corp.idura.broker/.well-known/jwks': jwks,
  });
  const files: Record<string, string> = {};
  const deps: DoctorDeps = {
    fetch: fetchFn,
    readFile: (path) => {
      const text = files[path];
      if (text === undefined) throw new Error(`ENOENT ${path}`);
      return text;
    },
    exists: (path) => path.endsWith('template.yaml') || path in files,
    processEnv: {},
    deployedClients: () => clients,
    startOfflineStack: () => Promise.reject(new Error('not in this test')),
    checkFunctions: async () => [],
  };
  const run = (...argv: string[]) => {
    const parsed = parseDoctorArgs(argv);
    assert.equal(parsed.help, false);
    return runDoctor((parsed as { options: Parameters<typeof runDoctor>[0] }).options, deps);
  };

  /** The deployed stack's ids, as a user copies them from the stack's outputs. */
  const deployedArgs = [
    '--user-pool-id',
    ids.userPoolId,
    '--client-id',
    ids.clientId,
    '--identity-pool-id',
    ids.identityPoolId,
    '--region',
    region,
    '--public-base-url',
    publicBaseUrl,
  ];

  it('reads the ids, the pools and the IdPs, with no errors', async () => {
    deploy();
    const report = await run(...deployedArgs);
    assertNoErrors(report.findings);
    assertSeverity(report.findings, 'idp.token-auth', 'ok', 'IDmeSandbox');
    assertSeverity(report.findings, 'idp.jwks.kid', 'ok', 'IduraTest');
    // Idura's user info strategy cannot be seen from outside: the doctor says to check it.
    assertSeverity(report.findings, 'idp.userinfo.plain-json', 'warning', 'IduraTest');
    assertSeverity(report.findings, 'provider.names', 'ok');
  });

  it('compares an env file with the deployed ids', async () => {
    deploy();
    files['deployed-env.json'] = JSON.stringify({
      USER_POOL_ID: ids.userPoolId,
      USER_POOL_CLIENT_ID: 'stale-client',
      IDENTITY_POOL_ID: ids.identityPoolId,
      ALLOWED_ORIGINS: 'https://app.example.com',
    });
    const report = await run(...deployedArgs, '--env', 'deployed-env.json');
    assert.deepEqual(
      errorsOf(report.findings).map((f) => f.id),
      ['config.ids'],
    );
  });

  it('finds the stack by name and skips the identity pool it cannot find', async () => {
    deploy();
    userPoolsMock
      .on(ListUserPoolsCommand)
      .resolves({ UserPools: [{ Id: ids.userPoolId, Name: 'federation-broker-users' }] })
      .on(ListUserPoolClientsCommand)
      .resolves({ UserPoolClients: [{ ClientId: ids.clientId, ClientName: 'federation-broker-broker' }] });
    identityPoolsMock.on(ListIdentityPoolsCommand).resolves({ IdentityPools: [] });
    const report = await run(
      '--stack',
      'federation-broker',
      '--region',
      region,
      '--public-base-url',
      publicBaseUrl,
    );
    assert.deepEqual(
      errorsOf(report.findings).map((f) => f.id),
      ['deployed.lookup'],
    );
    assert.ok(report.notes.some((n) => /--identity-pool-id/.test(n)));
  });
});
