/**
 * The broker's wiring as deployed, read with the Cognito SDK clients (injected, so tests use
 * aws-sdk-client-mock): DescribeUserPool, ListIdentityProviders + DescribeIdentityProvider,
 * DescribeUserPoolClient and DescribeIdentityPool.
 *
 * The stack's physical ids would come from CloudFormation, but the doctor calls Cognito only (its
 * runtime dependencies, and no CloudFormation permission): they are given as flags, or found by the
 * names template.yaml gives the resources (`<stack>-users`, `<stack>-broker`, `<stack>_identities`)
 * with the List* calls.
 */
import {
  type CognitoIdentityClient,
  DescribeIdentityPoolCommand,
  ListIdentityPoolsCommand,
} from '@aws-sdk/client-cognito-identity';
import {
  type CognitoIdentityProviderClient,
  DescribeIdentityProviderCommand,
  DescribeUserPoolClientCommand,
  DescribeUserPoolCommand,
  ListIdentityProvidersCommand,
  ListUserPoolClientsCommand,
  ListUserPoolsCommand,
  type UserPoolClientType,
  type UserPoolType,
} from '@aws-sdk/client-cognito-identity-provider';
import type { Finding } from './findings.ts';
import { FindingList } from './findings.ts';
import type { IdentityPoolModel, ProviderModel, SchemaAttribute, WiringModel } from './wiring.ts';

export interface DeployedClients {
  readonly userPools: CognitoIdentityProviderClient;
  readonly identityPools: CognitoIdentityClient;
}

export interface DeployedIds {
  readonly userPoolId: string;
  readonly clientId: string;
  readonly identityPoolId?: string | undefined;
}

const permissions =
  'cognito-idp:ListUserPools, cognito-idp:ListUserPoolClients, cognito-identity:ListIdentityPools (for --stack), cognito-idp:DescribeUserPool, cognito-idp:DescribeUserPoolClient, cognito-idp:ListIdentityProviders, cognito-idp:DescribeIdentityProvider and cognito-identity:DescribeIdentityPool';

function failure(list: FindingList, call: string, error: unknown, what: string): void {
  const e = error as { name?: string; message?: string };
  const name = e?.name ?? 'Error';
  const fix =
    name === 'ResourceNotFoundException'
      ? `Check ${what} and the region (--region): ${call} found nothing.`
      : /AccessDenied|NotAuthorized|UnrecognizedClient|InvalidSignature|ExpiredToken|CredentialsProviderError/.test(
            name,
          )
        ? `Run the doctor with AWS credentials for the stack's account that allow ${permissions}.`
        : `Check network access to Cognito in this region and retry (${permissions} are needed).`;
  list.error('deployed.describe', `${call} failed: ${name}: ${e?.message ?? String(error)}`, fix);
}

const flag = (value: boolean | undefined): boolean => value === true;

/**
 * Reads the deployed wiring. Returns no model when the user pool or the app client cannot be read
 * (the findings say why); the identity pool is optional.
 */
export async function wiringFromDeployed(
  clients: DeployedClients,
  ids: DeployedIds,
  region: string,
): Promise<{ wiring: WiringModel | undefined; findings: Finding[] }> {
  const list = new FindingList('wiring', 'deployed stack');
  let pool: UserPoolType | undefined;
  let client: UserPoolClientType | undefined;
  try {
    pool = (await clients.userPools.send(new DescribeUserPoolCommand({ UserPoolId: ids.userPoolId })))
      .UserPool;
  } catch (error) {
    failure(list, `DescribeUserPool ${ids.userPoolId}`, error, '--user-pool-id');
    return { wiring: undefined, findings: list.findings };
  }
  try {
    client = (
      await clients.userPools.send(
        new DescribeUserPoolClientCommand({ UserPoolId: ids.userPoolId, ClientId: ids.clientId }),
      )
    ).UserPoolClient;
  } catch (error) {
    failure(list, `DescribeUserPoolClient ${ids.clientId}`, error, '--client-id');
    return { wiring: undefined, findings: list.findings };
  }
  if (pool === undefined || client === undefined) {
    list.error(
      'deployed.describe',
      `Cognito described no ${pool === undefined ? 'user pool' : 'app client'}`,
      'Check --user-pool-id, --client-id and --region.',
    );
    return { wiring: undefined, findings: list.findings };
  }

  const names = new Set((client.SupportedIdentityProviders ?? []).filter((n) => n !== 'COGNITO'));
  try {
    let next: string | undefined;
    do {
      const page = await clients.userPools.send(
        new ListIdentityProvidersCommand({ UserPoolId: ids.userPoolId, MaxResults: 60, NextToken: next }),
      );
      for (const p of page.Providers ?? []) if (p.ProviderName) names.add(p.ProviderName);
      next = page.NextToken;
    } while (next);
  } catch (error) {
    const skipped = new FindingList('wiring', 'deployed stack');
    failure(skipped, `ListIdentityProviders ${ids.userPoolId}`, error, '--user-pool-id');
    // Not fatal: the providers enabled on the client are still described.
    list.findings.push(...skipped.findings.map((f) => ({ ...f, severity: 'warning' as const })));
  }
  const providers: ProviderModel[] = [];
  for (const name of names) {
    try {
      const out = await clients.userPools.send(
        new DescribeIdentityProviderCommand({ UserPoolId: ids.userPoolId, ProviderName: name }),
      );
      const p = out.IdentityProvider;
      if (p === undefined) continue;
      providers.push({
        name: p.ProviderName ?? name,
        type: p.ProviderType ?? 'OIDC',
        details: { ...p.ProviderDetails },
        attributeMapping: { ...p.AttributeMapping },
      });
    } catch (error) {
      // An enabled provider that does not exist is reported by client.providers.
      if ((error as { name?: string })?.name !== 'ResourceNotFoundException') {
        failure(list, `DescribeIdentityProvider ${name}`, error, 'the provider name');
      }
    }
  }

  let identityPool: IdentityPoolModel | undefined;
  if (ids.identityPoolId !== undefined) {
    try {
      const out = await clients.identityPools.send(
        new DescribeIdentityPoolCommand({ IdentityPoolId: ids.identityPoolId }),
      );
      identityPool = {
        id: out.IdentityPoolId ?? ids.identityPoolId,
        providers: (out.CognitoIdentityProviders ?? []).map((p) => ({
          providerName: p.ProviderName ?? '',
          clientId: p.ClientId ?? '',
          serverSideTokenCheck: flag(p.ServerSideTokenCheck),
        })),
        allowUnauthenticated: flag(out.AllowUnauthenticatedIdentities),
      };
    } catch (error) {
      failure(list, `DescribeIdentityPool ${ids.identityPoolId}`, error, '--identity-pool-id');
    }
  }

  const lambda = pool.LambdaConfig;
  const schema: SchemaAttribute[] = (pool.SchemaAttributes ?? []).map((a) => {
    const max = a.StringAttributeConstraints?.MaxLength;
    return {
      name: a.Name ?? '',
      required: flag(a.Required),
      mutable: a.Mutable !== false,
      maxLength: max === undefined ? undefined : Number(max),
    };
  });
  const write = client.WriteAttributes;
  return {
    wiring: {
      source: 'deployed',
      region,
      userPool: {
        id: ids.userPoolId,
        tier: pool.UserPoolTier,
        schema,
        triggerVersion:
          lambda?.PreTokenGenerationConfig?.LambdaArn !== undefined
            ? (lambda.PreTokenGenerationConfig.LambdaVersion ?? 'V1_0')
            : lambda?.PreTokenGeneration !== undefined
              ? 'V1_0'
              : undefined,
      },
      providers,
      client: {
        clientId: ids.clientId,
        callbackUrls: client.CallbackURLs ?? [],
        supportedProviders: client.SupportedIdentityProviders ?? [],
        allowedFlows: client.AllowedOAuthFlows ?? [],
        allowedScopes: client.AllowedOAuthScopes ?? [],
        allowedFlowsUserPoolClient: flag(client.AllowedOAuthFlowsUserPoolClient),
        writeAttributes: write === undefined || write.length === 0 ? undefined : write,
        hasSecret: client.ClientSecret !== undefined && client.ClientSecret !== '',
      },
      identityPool,
    },
    findings: list.findings,
  };
}

export interface StackNames {
  readonly userPool?: string | undefined;
  readonly client?: string | undefined;
  readonly identityPool?: string | undefined;
}

/**
 * Finds the stack's pools and client by the names the template gives them. Ids given as flags win.
 */
export async function findStackIds(
  clients: DeployedClients,
  names: StackNames,
  given: Partial<DeployedIds>,
): Promise<{ ids: DeployedIds | undefined; findings: Finding[] }> {
  const list = new FindingList('wiring', 'deployed stack');
  const notFound = (what: string, name: string | undefined, flagName: string, output: string): void =>
    list.error(
      'deployed.lookup',
      `no ${what} named ${name ?? '(the template gives no name)'}`,
      `Pass ${flagName} (the stack output ${output}), and check --stack and --region.`,
    );
  let userPoolId = given.userPoolId;
  try {
    if (userPoolId === undefined && names.userPool !== undefined) {
      let next: string | undefined;
      do {
        const page = await clients.userPools.send(
          new ListUserPoolsCommand({ MaxResults: 60, NextToken: next }),
        );
        userPoolId = page.UserPools?.find((p) => p.Name === names.userPool)?.Id;
        next = userPoolId === undefined ? page.NextToken : undefined;
      } while (next);
    }
    if (userPoolId === undefined) {
      notFound('user pool', names.userPool, '--user-pool-id', 'UserPoolId');
      return { ids: undefined, findings: list.findings };
    }
    let clientId = given.clientId;
    if (clientId === undefined && names.client !== undefined) {
      let next: string | undefined;
      do {
        const page = await clients.userPools.send(
          new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60, NextToken: next }),
        );
        clientId = page.UserPoolClients?.find((c) => c.ClientName === names.client)?.ClientId;
        next = clientId === undefined ? page.NextToken : undefined;
      } while (next);
    }
    if (clientId === undefined) {
      notFound('app client', names.client, '--client-id', 'UserPoolClientId');
      return { ids: undefined, findings: list.findings };
    }
    let identityPoolId = given.identityPoolId;
    if (identityPoolId === undefined && names.identityPool !== undefined) {
      let next: string | undefined;
      do {
        const page = await clients.identityPools.send(
          new ListIdentityPoolsCommand({ MaxResults: 60, NextToken: next }),
        );
        identityPoolId = page.IdentityPools?.find(
          (p) => p.IdentityPoolName === names.identityPool,
        )?.IdentityPoolId;
        next = identityPoolId === undefined ? page.NextToken : undefined;
      } while (next);
      if (identityPoolId === undefined) {
        notFound('identity pool', names.identityPool, '--identity-pool-id', 'IdentityPoolId');
        return { ids: { userPoolId, clientId }, findings: list.findings };
      }
    }
    list.ok(
      'deployed.lookup',
      `user pool ${userPoolId}, app client ${clientId}, identity pool ${identityPoolId ?? '(none)'}`,
    );
    return { ids: { userPoolId, clientId, identityPoolId }, findings: list.findings };
  } catch (error) {
    failure(list, 'ListUserPools/ListUserPoolClients/ListIdentityPools', error, '--stack');
    return { ids: undefined, findings: list.findings };
  }
}
