// What the user pool stand-in reads from template.yaml: the pool's attribute schema, its OIDC
// identity providers (scopes, user-info method, attribute mapping), the app client settings and
// the pre-token-generation trigger. Everything here is pure: a resolved template in, plain data out.

import type { Json, TemplateResolver } from '../template.ts';

/** Standard attributes every user pool has (Cognito developer guide, "User pool attributes"). */
export const STANDARD_ATTRIBUTES: readonly string[] = [
  'address',
  'birthdate',
  'email',
  'email_verified',
  'family_name',
  'gender',
  'given_name',
  'locale',
  'middle_name',
  'name',
  'nickname',
  'phone_number',
  'phone_number_verified',
  'picture',
  'preferred_username',
  'profile',
  'updated_at',
  'website',
  'zoneinfo',
];

export interface SchemaAttribute {
  /** Full name: `email`, `custom:idp_zip`. */
  readonly name: string;
  readonly required: boolean;
  readonly mutable: boolean;
  readonly maxLength: number;
}

export interface ProviderConfig {
  readonly logicalId: string;
  /** Cognito provider name: the `identity_provider` value and the username prefix. */
  readonly name: string;
  readonly type: string;
  readonly authorizeScopes: string;
  readonly attributesRequestMethod: 'GET' | 'POST';
  /** Pool attribute → IdP claim. */
  readonly attributeMapping: Readonly<Record<string, string>>;
  readonly idpIdentifiers: readonly string[];
}

export interface AppClientTemplate {
  readonly logicalId: string;
  readonly allowedFlows: readonly string[];
  readonly allowedScopes: readonly string[];
  /** Provider names (Refs to provider resources are translated to their names). */
  readonly supportedProviders: readonly string[];
  readonly idTokenSeconds: number;
  readonly accessTokenSeconds: number;
  readonly refreshTokenSeconds: number;
  readonly allowRefresh: boolean;
  readonly tokenRevocation: boolean;
  /** Undefined: every attribute (Cognito's default). */
  readonly readAttributes: ReadonlySet<string> | undefined;
  readonly writeAttributes: ReadonlySet<string> | undefined;
}

export type TriggerVersion = 'V1_0' | 'V2_0' | 'V3_0';

export interface TriggerConfig {
  readonly version: TriggerVersion;
  readonly functionLogicalId: string;
}

export interface PoolConfig {
  readonly userPoolLogicalId: string;
  readonly schema: ReadonlyMap<string, SchemaAttribute>;
  readonly providers: ReadonlyMap<string, ProviderConfig>;
  readonly clients: ReadonlyMap<string, AppClientTemplate>;
  readonly trigger: TriggerConfig | undefined;
}

type Props = Record<string, Json>;

const asProps = (value: Json | undefined): Props =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? value : {};
const asList = (value: Json | undefined): Json[] => (Array.isArray(value) ? value : []);
const asStrings = (value: Json | undefined): string[] => asList(value).map(String);
const asBool = (value: Json | undefined, fallback: boolean): boolean =>
  value === undefined || value === '' ? fallback : value === true || String(value).toLowerCase() === 'true';

/**
 * Reads the pool configuration from a resolved template.
 *
 * @throws Error when the template has no (or several) user pools, or a trigger cannot be located.
 */
export function readPoolConfig(template: TemplateResolver): PoolConfig {
  const pools = template.resourcesOfType('AWS::Cognito::UserPool');
  const userPoolLogicalId = pools[0];
  if (userPoolLogicalId === undefined || pools.length > 1) {
    throw new Error(`template: expected exactly one AWS::Cognito::UserPool, found ${pools.length}`);
  }
  const pool = template.resource(userPoolLogicalId).Properties;
  const providers = readProviders(template);
  return {
    userPoolLogicalId,
    schema: readSchema(pool),
    providers,
    clients: readClients(template, providers),
    trigger: readTrigger(template, userPoolLogicalId),
  };
}

function readSchema(pool: Props): Map<string, SchemaAttribute> {
  const schema = new Map<string, SchemaAttribute>();
  for (const name of STANDARD_ATTRIBUTES)
    schema.set(name, { name, required: false, mutable: true, maxLength: 2048 });
  for (const entry of asList(pool.Schema)) {
    const e = asProps(entry);
    const bare = String(e.Name ?? '');
    if (bare === '') continue;
    const name = STANDARD_ATTRIBUTES.includes(bare) ? bare : `custom:${bare}`;
    const maxLength = Number(asProps(e.StringAttributeConstraints).MaxLength ?? 2048);
    schema.set(name, {
      name,
      required: asBool(e.Required, false),
      mutable: asBool(e.Mutable, true),
      maxLength: Number.isFinite(maxLength) ? maxLength : 2048,
    });
  }
  return schema;
}

function readProviders(template: TemplateResolver): Map<string, ProviderConfig> {
  const providers = new Map<string, ProviderConfig>();
  for (const logicalId of template.resourcesOfType('AWS::Cognito::UserPoolIdentityProvider')) {
    const props = template.resource(logicalId).Properties;
    const details = asProps(props.ProviderDetails);
    const mapping: Record<string, string> = {};
    for (const [attribute, claim] of Object.entries(asProps(props.AttributeMapping)))
      mapping[attribute] = String(claim);
    const name = String(props.ProviderName ?? logicalId);
    providers.set(name, {
      logicalId,
      name,
      type: String(props.ProviderType ?? 'OIDC'),
      authorizeScopes: String(details.authorize_scopes ?? 'openid'),
      attributesRequestMethod:
        String(details.attributes_request_method ?? 'GET').toUpperCase() === 'POST' ? 'POST' : 'GET',
      attributeMapping: mapping,
      idpIdentifiers: asStrings(props.IdpIdentifiers),
    });
  }
  return providers;
}

const unitSeconds: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86_400 };

function validity(
  value: Json | undefined,
  unit: Json | undefined,
  defaultUnit: string,
  fallback: number,
): number {
  const amount = Number(value);
  if (value === undefined || value === '' || !Number.isFinite(amount)) return fallback;
  return amount * (unitSeconds[String(unit ?? defaultUnit)] ?? unitSeconds[defaultUnit] ?? 1);
}

function readClients(
  template: TemplateResolver,
  providers: ReadonlyMap<string, ProviderConfig>,
): Map<string, AppClientTemplate> {
  const byLogicalId = new Map([...providers.values()].map((p) => [p.logicalId, p.name]));
  const clients = new Map<string, AppClientTemplate>();
  for (const logicalId of template.resourcesOfType('AWS::Cognito::UserPoolClient')) {
    const props = template.resource(logicalId).Properties;
    const units = asProps(props.TokenValidityUnits);
    const flows = asStrings(props.ExplicitAuthFlows);
    const read = props.ReadAttributes === undefined ? undefined : new Set(asStrings(props.ReadAttributes));
    const write = props.WriteAttributes === undefined ? undefined : new Set(asStrings(props.WriteAttributes));
    clients.set(logicalId, {
      logicalId,
      allowedFlows: asStrings(props.AllowedOAuthFlows),
      allowedScopes: asStrings(props.AllowedOAuthScopes),
      // Ref of a provider resource is its provider name in CloudFormation; sam local (and the
      // template reader) resolve it to the logical id instead.
      supportedProviders: asStrings(props.SupportedIdentityProviders).map(
        (name) => byLogicalId.get(name) ?? name,
      ),
      idTokenSeconds: validity(props.IdTokenValidity, units.IdToken, 'hours', 3600),
      accessTokenSeconds: validity(props.AccessTokenValidity, units.AccessToken, 'hours', 3600),
      refreshTokenSeconds: validity(props.RefreshTokenValidity, units.RefreshToken, 'days', 30 * 86_400),
      // Federated users can always refresh at the token endpoint (https://docs.aws.amazon.com/cognito/latest/developerguide/token-endpoint.html);
      // an explicit list without ALLOW_REFRESH_TOKEN_AUTH is the one way to switch it off.
      allowRefresh: flows.length === 0 || flows.includes('ALLOW_REFRESH_TOKEN_AUTH'),
      tokenRevocation: asBool(props.EnableTokenRevocation, true),
      readAttributes: read,
      writeAttributes: write,
    });
  }
  return clients;
}

/** The logical id a Lambda ARN in the template points at. */
function functionLogicalId(
  template: TemplateResolver,
  raw: Json | undefined,
  resolved: string,
): string | undefined {
  const getAtt = asProps(raw)['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string') return getAtt.split('.')[0];
  // A resolved ARN: arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
  const name = /:function:([^:]+)/.exec(resolved)?.[1] ?? resolved.split(':').at(-1) ?? '';
  if (template.template.Resources[name] !== undefined) return name;
  for (const type of ['AWS::Serverless::Function', 'AWS::Lambda::Function']) {
    for (const id of template.resourcesOfType(type)) {
      if (template.resource(id).Properties.FunctionName === name) return id;
    }
  }
  return undefined;
}

function readTrigger(template: TemplateResolver, userPoolLogicalId: string): TriggerConfig | undefined {
  const rawPool = template.template.Resources[userPoolLogicalId]?.Properties ?? {};
  const rawLambda = asProps(asProps(rawPool.LambdaConfig as Json).PreTokenGenerationConfig);
  const lambdaConfig = asProps(template.resource(userPoolLogicalId).Properties.LambdaConfig);
  const config = asProps(lambdaConfig.PreTokenGenerationConfig);
  let version: TriggerVersion;
  let rawArn: Json | undefined;
  let arn: string;
  if (config.LambdaArn !== undefined) {
    version = String(config.LambdaVersion ?? 'V1_0') as TriggerVersion;
    rawArn = rawLambda.LambdaArn;
    arn = String(config.LambdaArn);
  } else if (lambdaConfig.PreTokenGeneration !== undefined) {
    // The legacy field is always a V1_0 trigger.
    version = 'V1_0';
    rawArn = asProps(asProps(rawPool.LambdaConfig as Json)).PreTokenGeneration;
    arn = String(lambdaConfig.PreTokenGeneration);
  } else {
    return undefined;
  }
  if (!['V1_0', 'V2_0', 'V3_0'].includes(version)) {
    throw new Error(`template: unknown pre-token-generation LambdaVersion ${version}`);
  }
  const logicalId = functionLogicalId(template, rawArn, arn);
  if (logicalId === undefined) {
    throw new Error(`template: the pre-token-generation function ${arn} is not a resource of this template`);
  }
  return { version, functionLogicalId: logicalId };
}
