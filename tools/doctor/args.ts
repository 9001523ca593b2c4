/** Command-line flags of `npm run doctor` and the help text that describes each of them. */
import { parseArgs } from 'node:util';
import { parseParameterFlag } from './template-source.ts';

type Mode = 'template' | 'deployed' | 'offline';

export interface DoctorOptions {
  readonly mode: Mode;
  readonly json: boolean;
  readonly quiet: boolean;
  readonly templatePath: string | undefined;
  readonly samconfigPath: string | undefined;
  readonly configEnv: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly region: string | undefined;
  readonly issuers: readonly string[];
  readonly discoveryFiles: readonly string[];
  readonly jwksFile: string | undefined;
  readonly fetchIdps: boolean;
  readonly timeoutMs: number;
  readonly envFile: string | undefined;
  readonly processEnv: boolean;
  readonly publicBaseUrl: string | undefined;
  readonly stack: string | undefined;
  readonly userPoolId: string | undefined;
  readonly clientId: string | undefined;
  readonly identityPoolId: string | undefined;
  readonly start: boolean;
  readonly localConfigPath: string | undefined;
  /** `--access`: the ABAC matrix of the offline identities instead of the checks. */
  readonly access: boolean;
}

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const helpText = `npm run doctor -- [flags]

Finds the Cognito federation misconfigurations that cause most support pain, before a user does:
what Cognito requires of each OIDC IdP (ID.me, Idura), the broker's wiring (user pool, identity
providers, app client, identity pool) and its own configuration. Every finding has a stable id,
a severity (error, warning, ok), what is wrong and the fix. Exit code 1 when any finding is an
error, 0 otherwise, 2 for a usage mistake.

Modes (one of):
  (default)                 template.yaml resolved with samconfig.toml's parameter_overrides
  --offline                 the offline stack: template.yaml, local.config.json and the running
                            stand-ins (discovery, JWKS, a real sign-in per IdP, GetId with the
                            logins key); loopback http is accepted there and flagged [offline only]
  --stack <name>            the deployed stack, read with the Cognito SDK (needs AWS credentials
                            allowed cognito-idp:Describe*/List*, cognito-identity:DescribeIdentityPool
                            and, without --identity-pool-id, cognito-identity:ListIdentityPools)

Template mode:
  --template <file>         the SAM template (default: template.yaml at the repository root)
  --samconfig <file>        where parameter_overrides and region come from (default: samconfig.toml beside the template)
  --config-env <name>       samconfig environment (default: default)
  --parameter <Key=Value>   a template parameter, over samconfig's (repeatable)
  --region <region>         the AWS region (default: samconfig's, then AWS_REGION, then us-east-1)
  --public-base-url <url>   the broker's public origin; the app client must register <url>/auth/callback
                            (default: PUBLIC_BASE_URL from --env, then the PublicBaseUrl parameter)
  --fetch-idps              also fetch the discovery document and JWKS of the template's IdPs
                            (offline and deployed modes always do)

Deployed mode:
  --stack <name>            the stack name; its pools and app client are found by the names the
                            template gives them (<stack>-users, <stack>-broker, <stack>_identities).
                            The doctor calls Cognito only, not CloudFormation's DescribeStackResources:
                            when the names differ, pass the ids below.
  --user-pool-id <id>       the user pool id (stack output UserPoolId), e.g. us-east-1_AbC123
  --client-id <id>          the app client id (stack output UserPoolClientId)
  --identity-pool-id <id>   the identity pool id (stack output IdentityPoolId), e.g. us-east-1:0f4c…
  --region <region>         required unless samconfig.toml or AWS_REGION names it

Offline mode:
  --offline                 check the offline stack (npm start) on the ports of local.config.json
  --start                   start an offline stack on free ports for the check, then stop it
  --local-config <file>     the offline configuration (default: local.config.json, else the defaults)

Identity providers (any mode):
  --issuer <url>            an IdP issuer to fetch and check live, e.g. https://api.idmelabs.com/oidc
                            (repeatable; a .well-known/openid-configuration URL is accepted too)
  --discovery <file>        a saved discovery document to check (repeatable); its JWKS is fetched
                            from jwks_uri unless --jwks is given
  --jwks <file>             a saved JWKS for the single --discovery document
  --timeout <ms>            timeout of every network call (default 5000)

Broker configuration (any mode):
  --env <file.json>         the functions' environment: a flat JSON object, or SAM's env.json
                            ({"Parameters": {…}}); checked with parseCredentialsConfig and
                            the sign-in parsers, USER_POOL_ISSUER against USER_POOL_ID and AWS_REGION,
                            ALLOWED_ORIGINS, and the ids and IdP names against the pools
  --process-env             the same checks on the current environment

Access (ABAC before deploy):
  --access                  sign every offline test identity in through the stand-ins (started on
                            free ports), print the principal tags its credentials carry and the
                            decision of AuthenticatedRole's policies (ExampleBucketName set) for
                            sample S3 actions, evaluated by an IAM policy simulator; with
                            --template and --json only

Output:
  --json                    machine-readable report: {ok, summary, sources, notes, findings[]}
  --quiet, -q               only errors and warnings
  --help, -h                this text

Examples:
  npm run doctor
  npm run doctor -- --parameter PublicBaseUrl=https://api.example.com --fetch-idps
  npm run doctor -- --issuer https://api.idmelabs.com/oidc --issuer https://acme-corp.idura.broker
  npm run doctor -- --discovery saved/openid-configuration.json --jwks saved/jwks.json
  npm run doctor -- --offline --start
  npm run doctor -- --access
  npm run doctor -- --offline --env env.json
  npm run doctor -- --stack federation-broker --region eu-west-1 --env deployed-env.json
  npm run doctor -- --user-pool-id eu-west-1_AbC123 --client-id 1example23 \\
      --identity-pool-id eu-west-1:0f4c5e6a-1111-2222-3333-444455556666 --region eu-west-1 --json
`;

/** Every flag, for the help test and the docs. */
export const flagNames = [
  '--template',
  '--samconfig',
  '--config-env',
  '--parameter',
  '--region',
  '--public-base-url',
  '--fetch-idps',
  '--stack',
  '--user-pool-id',
  '--client-id',
  '--identity-pool-id',
  '--offline',
  '--start',
  '--local-config',
  '--access',
  '--issuer',
  '--discovery',
  '--jwks',
  '--timeout',
  '--env',
  '--process-env',
  '--json',
  '--quiet',
  '--help',
] as const;

/**
 * Parses argv (without node and the script).
 *
 * @throws UsageError for unknown flags, missing values or contradictory flags.
 */
export function parseDoctorArgs(
  argv: readonly string[],
): { help: true } | { help: false; options: DoctorOptions } {
  let values: ReturnType<typeof parse>['values'];
  try {
    values = parse(argv).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return { help: true };
  const parameters: Record<string, string> = {};
  for (const p of values.parameter ?? []) {
    try {
      const [k, v] = parseParameterFlag(p);
      parameters[k] = v;
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  const timeoutMs = values.timeout === undefined ? 5000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 120_000) {
    throw new UsageError('--timeout is a number of milliseconds from 100 to 120000');
  }
  const deployed =
    values.stack !== undefined || values['user-pool-id'] !== undefined || values['client-id'] !== undefined;
  if (values.offline && deployed)
    throw new UsageError(
      '--offline checks the local stack; it cannot be combined with --stack or the pool ids',
    );
  if (values.start && !values.offline) throw new UsageError('--start needs --offline');
  if (values.access) {
    const others = Object.keys(values).filter((k) => !['access', 'json', 'template'].includes(k));
    if (others.length > 0) {
      throw new UsageError(
        `--access starts stand-ins of its own and takes only --template and --json (not --${others.join(', --')})`,
      );
    }
  }
  if (values.env !== undefined && values['process-env']) {
    throw new UsageError('give either --env <file.json> or --process-env, not both');
  }
  if (values.jwks !== undefined && (values.discovery ?? []).length !== 1) {
    throw new UsageError('--jwks goes with exactly one --discovery document');
  }
  if (
    deployed &&
    values.stack === undefined &&
    (values['user-pool-id'] === undefined || values['client-id'] === undefined)
  ) {
    throw new UsageError(
      'without --stack, give both --user-pool-id and --client-id (and --identity-pool-id to check the identity pool)',
    );
  }
  return {
    help: false,
    options: {
      mode: values.offline ? 'offline' : deployed ? 'deployed' : 'template',
      json: values.json ?? false,
      quiet: values.quiet ?? false,
      templatePath: values.template,
      samconfigPath: values.samconfig,
      configEnv: values['config-env'] ?? 'default',
      parameters,
      region: values.region,
      issuers: values.issuer ?? [],
      discoveryFiles: values.discovery ?? [],
      jwksFile: values.jwks,
      fetchIdps: values['fetch-idps'] ?? false,
      timeoutMs,
      envFile: values.env,
      processEnv: values['process-env'] ?? false,
      publicBaseUrl: values['public-base-url'],
      stack: values.stack,
      userPoolId: values['user-pool-id'],
      clientId: values['client-id'],
      identityPoolId: values['identity-pool-id'],
      start: values.start ?? false,
      localConfigPath: values['local-config'],
      access: values.access ?? false,
    },
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      template: { type: 'string' },
      samconfig: { type: 'string' },
      'config-env': { type: 'string' },
      parameter: { type: 'string', multiple: true },
      region: { type: 'string' },
      'public-base-url': { type: 'string' },
      'fetch-idps': { type: 'boolean' },
      stack: { type: 'string' },
      'user-pool-id': { type: 'string' },
      'client-id': { type: 'string' },
      'identity-pool-id': { type: 'string' },
      offline: { type: 'boolean' },
      start: { type: 'boolean' },
      'local-config': { type: 'string' },
      access: { type: 'boolean' },
      issuer: { type: 'string', multiple: true },
      discovery: { type: 'string', multiple: true },
      jwks: { type: 'string' },
      timeout: { type: 'string' },
      env: { type: 'string' },
      'process-env': { type: 'boolean' },
    },
  });
}
