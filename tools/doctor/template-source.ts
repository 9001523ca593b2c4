/**
 * The broker's wiring as template.yaml declares it, resolved with parameter values (samconfig.toml's
 * parameter_overrides, then --parameter), the way CloudFormation would: `Ref` of an identity
 * provider is its provider name, `!GetAtt UserPool.ProviderName` is the logins key.
 */
import { STANDARD_ATTRIBUTES } from '../../local/cognito/pool-config.ts';
import type { Json, RawTemplate } from '../../local/template.ts';
import { TemplateResolver } from '../../local/template.ts';
import type { Finding } from './findings.ts';
import { FindingList } from './findings.ts';
import type {
  AppClientModel,
  IdentityPoolModel,
  ProviderModel,
  SchemaAttribute,
  WiringModel,
} from './wiring.ts';
import { userPoolProviderName } from './wiring.ts';

export interface SamconfigValues {
  readonly parameters: Record<string, string>;
  readonly region: string | undefined;
  readonly stackName: string | undefined;
}

/**
 * Reads `parameter_overrides`, `region` and `stack_name` of one environment of samconfig.toml
 * (`[<env>.deploy.parameters]`, then `[<env>.global.parameters]`). Only the TOML that samconfig
 * files use: tables and `key = "string"` lines.
 */
export function readSamconfig(text: string, env = 'default', command = 'deploy'): SamconfigValues {
  const tables = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const table = /^\[([^\]]+)\]$/.exec(line);
    if (table) {
      current = new Map();
      tables.set((table[1] ?? '').trim(), current);
      continue;
    }
    const pair = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line);
    if (!pair || current === undefined) continue;
    const value = tomlString(pair[2] ?? '');
    if (value !== undefined) current.set(pair[1] ?? '', value);
  }
  const get = (key: string): string | undefined =>
    tables.get(`${env}.${command}.parameters`)?.get(key) ?? tables.get(`${env}.global.parameters`)?.get(key);
  const overrides = get('parameter_overrides');
  return {
    parameters: overrides === undefined ? {} : parseParameterOverrides(overrides),
    region: get('region'),
    stackName: get('stack_name'),
  };
}

function tomlString(value: string): string | undefined {
  const v = value.trim();
  const basic = /^"((?:[^"\\]|\\.)*)"/.exec(v);
  if (basic)
    return (basic[1] ?? '').replace(/\\(["\\nt])/g, (_, c: string) => ({ n: '\n', t: '\t' })[c] ?? c);
  const literal = /^'([^']*)'/.exec(v);
  if (literal) return literal[1];
  return undefined;
}

/**
 * `Key="value" Key2=value2` (what `sam deploy --parameter-overrides` and samconfig take), also
 * `ParameterKey=K,ParameterValue=V`.
 */
export function parseParameterOverrides(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const pattern = /([A-Za-z0-9]+)=(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g;
  const cfn = /ParameterKey=([A-Za-z0-9]+),ParameterValue=(?:"((?:[^"\\]|\\.)*)"|(\S*))/g;
  if (/ParameterKey=/.test(text)) {
    for (const m of text.matchAll(cfn)) out[m[1] ?? ''] = (m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1');
    return out;
  }
  for (const m of text.matchAll(pattern))
    out[m[1] ?? ''] = (m[2] ?? m[3] ?? m[4] ?? '').replace(/\\(.)/g, '$1');
  return out;
}

/** `K=V` from --parameter. @throws TypeError when there is no `=`. */
export function parseParameterFlag(value: string): [string, string] {
  const at = value.indexOf('=');
  if (at <= 0) throw new TypeError(`--parameter expects Key=Value, got "${value}"`);
  return [value.slice(0, at), value.slice(at + 1)];
}

export interface TemplateWiringOptions {
  readonly parameters: Readonly<Record<string, string>>;
  readonly region: string;
  readonly stackName?: string;
  /** Physical ids to use for the pools and the client (the offline stack's); default `<LogicalId>` placeholders. */
  readonly ids?: { readonly userPool?: string; readonly client?: string; readonly identityPool?: string };
}

export interface TemplateWiring {
  readonly wiring: WiringModel;
  readonly resolver: TemplateResolver;
  /** Parameters without a value (no default, no override). */
  readonly findings: readonly Finding[];
  /** The broker's public origin: https://<ApiDomainName> with a custom domain, else the PublicBaseUrl parameter. */
  readonly publicBaseUrl: string | undefined;
  /** The pre-token-generation function's environment (PROVIDER_TABLE), when the template has one. */
  readonly triggerEnvironment: Readonly<Record<string, string>> | undefined;
  /** Resolved names of the pools and client (for finding a deployed stack without CloudFormation). */
  readonly names: { userPool?: string; client?: string; identityPool?: string };
}

type Props = Record<string, Json>;
const asProps = (value: Json | undefined): Props =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
const asStrings = (value: Json | undefined): string[] =>
  Array.isArray(value) ? value.map((v) => String(v)).filter((v) => v !== '') : [];
const asBool = (value: Json | undefined, fallback: boolean): boolean =>
  value === undefined || value === '' ? fallback : value === true || String(value).toLowerCase() === 'true';
const asString = (value: Json | undefined): string | undefined =>
  value === undefined || value === null || value === '' ? undefined : String(value);

/** Reads the wiring model from a parsed template (a copy a test modified is fine). */
export function wiringFromTemplate(template: RawTemplate, options: TemplateWiringOptions): TemplateWiring {
  const findings = new FindingList('wiring', 'template parameters');
  const missing = Object.entries(template.Parameters ?? {})
    .filter(([name, p]) => p.Default === undefined && options.parameters[name] === undefined)
    .map(([name]) => name);
  if (missing.length > 0) {
    findings.warning(
      'template.parameters',
      `no value for ${missing.join(', ')}`,
      'Give them in samconfig.toml parameter_overrides or with --parameter Key=Value; checks that depend on them are incomplete.',
    );
  }
  const first = (type: string): string | undefined =>
    Object.entries(template.Resources).find(([, r]) => r.Type === type)?.[0];
  const poolId = first('AWS::Cognito::UserPool');
  const clientId = first('AWS::Cognito::UserPoolClient');
  const identityPoolId = first('AWS::Cognito::IdentityPool');
  const userPool = options.ids?.userPool ?? `<${poolId ?? 'UserPool'}>`;
  const refs: Record<string, string> = {};
  if (poolId) refs[poolId] = userPool;
  if (clientId) refs[clientId] = options.ids?.client ?? `<${clientId}>`;
  if (identityPoolId) refs[identityPoolId] = options.ids?.identityPool ?? `<${identityPoolId}>`;
  const base = {
    region: options.region,
    parameters: { ...options.parameters },
    ...(options.stackName ? { stackName: options.stackName } : {}),
  };
  // Ref of an AWS::Cognito::UserPoolIdentityProvider is its provider name: resolve the names first.
  const firstPass = new TemplateResolver(template, { ...base, refs });
  const providerIds = firstPass.resourcesOfType('AWS::Cognito::UserPoolIdentityProvider');
  for (const id of providerIds) {
    refs[id] = asString(firstPass.resource(id).Properties.ProviderName) ?? id;
  }
  const attributes: Record<string, string> = {};
  if (poolId) attributes[`${poolId}.ProviderName`] = userPoolProviderName(options.region, userPool);
  const resolver = new TemplateResolver(template, { ...base, refs, attributes });

  const pool = poolId === undefined ? {} : resolver.resource(poolId).Properties;
  const providers: ProviderModel[] = providerIds.map((id) => {
    const props = resolver.resource(id).Properties;
    const details: Record<string, string> = {};
    for (const [k, v] of Object.entries(asProps(props.ProviderDetails))) details[k] = String(v ?? '');
    const mapping: Record<string, string> = {};
    for (const [k, v] of Object.entries(asProps(props.AttributeMapping))) mapping[k] = String(v ?? '');
    return {
      name: refs[id] ?? id,
      type: asString(props.ProviderType) ?? 'OIDC',
      details,
      attributeMapping: mapping,
    };
  });

  let client: AppClientModel | undefined;
  if (clientId !== undefined) {
    const props = resolver.resource(clientId).Properties;
    client = {
      clientId: refs[clientId] ?? clientId,
      callbackUrls: asStrings(props.CallbackURLs),
      supportedProviders: asStrings(props.SupportedIdentityProviders),
      allowedFlows: asStrings(props.AllowedOAuthFlows),
      allowedScopes: asStrings(props.AllowedOAuthScopes),
      allowedFlowsUserPoolClient: asBool(props.AllowedOAuthFlowsUserPoolClient, false),
      writeAttributes: props.WriteAttributes === undefined ? undefined : asStrings(props.WriteAttributes),
      hasSecret: asBool(props.GenerateSecret, false),
    };
  }

  let identityPool: IdentityPoolModel | undefined;
  if (identityPoolId !== undefined) {
    const props = resolver.resource(identityPoolId).Properties;
    identityPool = {
      id: refs[identityPoolId] ?? identityPoolId,
      providers: (Array.isArray(props.CognitoIdentityProviders) ? props.CognitoIdentityProviders : []).map(
        (entry) => {
          const e = asProps(entry);
          return {
            providerName: String(e.ProviderName ?? ''),
            clientId: String(e.ClientId ?? ''),
            serverSideTokenCheck: asBool(e.ServerSideTokenCheck, false),
          };
        },
      ),
      allowUnauthenticated: asBool(props.AllowUnauthenticatedIdentities, false),
    };
  }

  const lambdaConfig = asProps(pool.LambdaConfig);
  const preToken = asProps(lambdaConfig.PreTokenGenerationConfig);
  const triggerVersion =
    preToken.LambdaArn !== undefined
      ? (asString(preToken.LambdaVersion) ?? 'V1_0')
      : lambdaConfig.PreTokenGeneration !== undefined
        ? 'V1_0'
        : undefined;
  const rawPool = poolId === undefined ? {} : (template.Resources[poolId]?.Properties ?? {});
  const rawArn = asProps(asProps(asProps(rawPool.LambdaConfig).PreTokenGenerationConfig).LambdaArn);
  const getAtt = rawArn['Fn::GetAtt'];
  const triggerFunction = Array.isArray(getAtt) ? String(getAtt[0]) : undefined;
  const triggerEnvironment =
    triggerFunction !== undefined && template.Resources[triggerFunction] !== undefined
      ? Object.fromEntries(
          Object.entries(
            asProps(asProps(resolver.resource(triggerFunction).Properties.Environment).Variables),
          ).map(([k, v]) => [k, String(v ?? '')]),
        )
      : undefined;

  const wiring: WiringModel = {
    source: 'template',
    region: options.region,
    userPool: {
      id: userPool,
      tier: asString(pool.UserPoolTier),
      schema: schemaOf(pool),
      triggerVersion,
    },
    providers,
    client,
    identityPool,
  };
  // The broker's public origin as the template derives it (https://<ApiDomainName>, else PublicBaseUrl).
  const publicBaseUrl = resolver.output('PublicOrigin') ?? resolver.parameter('PublicBaseUrl');
  return {
    wiring,
    resolver,
    findings: findings.findings,
    publicBaseUrl: typeof publicBaseUrl === 'string' ? publicBaseUrl : undefined,
    triggerEnvironment,
    names: {
      ...(poolId ? { userPool: asString(pool.UserPoolName) } : {}),
      ...(clientId ? { client: asString(resolver.resource(clientId).Properties.ClientName) } : {}),
      ...(identityPoolId
        ? { identityPool: asString(resolver.resource(identityPoolId).Properties.IdentityPoolName) }
        : {}),
    },
  };
}

function schemaOf(pool: Props): SchemaAttribute[] {
  const schema = new Map<string, SchemaAttribute>();
  // Cognito's own attributes: sub is required and immutable, the standard ones optional and mutable.
  schema.set('sub', { name: 'sub', required: true, mutable: false });
  for (const name of STANDARD_ATTRIBUTES) schema.set(name, { name, required: false, mutable: true });
  for (const entry of Array.isArray(pool.Schema) ? pool.Schema : []) {
    const e = asProps(entry);
    const bare = String(e.Name ?? '');
    if (bare === '') continue;
    const name = STANDARD_ATTRIBUTES.includes(bare) ? bare : `custom:${bare}`;
    const max = asProps(e.StringAttributeConstraints).MaxLength;
    const maxLength = max === undefined ? undefined : Number(max);
    schema.set(name, {
      name,
      required: asBool(e.Required, false),
      mutable: asBool(e.Mutable, true),
      maxLength: Number.isFinite(maxLength) ? maxLength : undefined,
    });
  }
  return [...schema.values()];
}
