/**
 * The broker's Cognito wiring, read either from template.yaml or from the deployed pools, and the
 * checks on it: required attributes, attribute mapping, the app client (callback URL, IdPs, flows,
 * write permissions) and the identity pool (provider name = logins key, app client listed).
 */
import type { Finding } from './findings.ts';
import { FindingList } from './findings.ts';
import { checkEndpointUrls, type IdpKind, idpKindOf } from './idp.ts';
import { inspectUrl } from './net.ts';

export interface SchemaAttribute {
  /** Full name: `email`, `custom:idp_zip`. */
  readonly name: string;
  readonly required: boolean;
  readonly mutable: boolean;
  /** StringAttributeConstraints.MaxLength; undefined when not a string or not set. */
  readonly maxLength?: number | undefined;
}

export interface ProviderModel {
  /** Cognito provider name (the `identity_provider` value). */
  readonly name: string;
  readonly type: string;
  /** ProviderDetails: client_id, authorize_scopes, attributes_request_method, oidc_issuer, … */
  readonly details: Readonly<Record<string, string>>;
  /** Pool attribute → IdP claim. */
  readonly attributeMapping: Readonly<Record<string, string>>;
}

export interface AppClientModel {
  readonly clientId: string;
  readonly callbackUrls: readonly string[];
  readonly supportedProviders: readonly string[];
  readonly allowedFlows: readonly string[];
  readonly allowedScopes: readonly string[];
  readonly allowedFlowsUserPoolClient: boolean;
  /** Undefined: Cognito's default (every attribute writable). */
  readonly writeAttributes: readonly string[] | undefined;
  readonly hasSecret: boolean;
}

interface IdentityPoolProviderModel {
  readonly providerName: string;
  readonly clientId: string;
  readonly serverSideTokenCheck: boolean;
}

export interface IdentityPoolModel {
  readonly id: string;
  readonly providers: readonly IdentityPoolProviderModel[];
  readonly allowUnauthenticated: boolean;
}

export interface WiringModel {
  /** Where it was read: "template.yaml" or "deployed". */
  readonly source: 'template' | 'deployed';
  readonly region: string;
  readonly userPool: {
    readonly id: string;
    /** LITE, ESSENTIALS, PLUS; undefined when not set. */
    readonly tier: string | undefined;
    readonly schema: readonly SchemaAttribute[];
    /** The pre-token-generation trigger's event version, undefined when there is none. */
    readonly triggerVersion: string | undefined;
  };
  readonly providers: readonly ProviderModel[];
  readonly client: AppClientModel | undefined;
  readonly identityPool: IdentityPoolModel | undefined;
}

export interface WiringExpectations {
  /** The broker's public origin; the callback is `<publicBaseUrl>/auth/callback`. */
  readonly publicBaseUrl?: string | undefined;
  /** The logins key the broker derives from the token issuer; default `cognito-idp.<region>.amazonaws.com/<poolId>`. */
  readonly loginsKey?: string | undefined;
  /** More app clients whose tokens the broker trades (TRUSTED_CLIENT_IDS). */
  readonly trustedClientIds?: readonly string[];
  /** Provider names the template declares (compared with a deployed pool). */
  readonly templateProviderNames?: readonly string[];
  readonly offline?: boolean;
  /** False when no identity pool was given to examine (deployed mode without its id). */
  readonly checkIdentityPool?: boolean;
}

/** The identity pool provider name (logins key) of a user pool. */
export function userPoolProviderName(region: string, userPoolId: string): string {
  return `cognito-idp.${region}.amazonaws.com/${userPoolId}`;
}

/**
 * Claims each IdP sends for every user: ID.me's defaults for every policy
 * (https://docs.id.me/integrations/configurations/policies/user-properties), the claims common to every
 * Idura e-ID (https://docs.idura.app/verify/reference/token-contents/). Everything else depends on the
 * policy or the e-ID.
 */
const alwaysSentClaims: Record<IdpKind, readonly string[] | undefined> = {
  idme: ['sub', 'uuid', 'fname', 'lname', 'zip'],
  idura: ['sub', 'identityscheme', 'nameidentifier'],
  other: undefined,
};

const tiersForVersion: Record<string, readonly string[] | undefined> = {
  V1_0: undefined,
  V2_0: ['ESSENTIALS', 'PLUS'],
  V3_0: ['ESSENTIALS', 'PLUS'],
};

/** Every wiring check. */
export function checkWiring(model: WiringModel, expect: WiringExpectations = {}): Finding[] {
  return [
    ...checkUserPool(model),
    ...model.providers.flatMap((p) => checkProvider(model, p, expect)),
    ...checkProviderNames(model, expect),
    ...checkClient(model, expect),
    ...checkIdentityPool(model, expect),
  ];
}

function mappedAttributes(provider: ProviderModel): string[] {
  return Object.keys(provider.attributeMapping).filter((a) => a !== 'username');
}

function checkUserPool(model: WiringModel): Finding[] {
  const list = new FindingList('wiring', 'user pool');
  const required = model.userPool.schema.filter((a) => a.required && a.name !== 'sub');
  const problems: string[] = [];
  const doubts: string[] = [];
  for (const attribute of required) {
    const notMapping = model.providers.filter((p) => !(attribute.name in p.attributeMapping));
    const notAlwaysSent = model.providers.filter((p) => {
      const claim = p.attributeMapping[attribute.name];
      const always = alwaysSentClaims[idpKindOf(p.name, p.details.oidc_issuer)];
      return claim !== undefined && always !== undefined && !always.includes(claim);
    });
    if (notMapping.length > 0) {
      problems.push(
        `${attribute.name} is required but ${notMapping.map((p) => p.name).join(', ')} does not map it`,
      );
    } else if (notAlwaysSent.length > 0) {
      problems.push(
        `${attribute.name} is required, and ${notAlwaysSent.map((p) => `${p.name} (${p.attributeMapping[attribute.name]})`).join(' and ')} do${notAlwaysSent.length === 1 ? 'es' : ''} not always send it`,
      );
    } else {
      doubts.push(attribute.name);
    }
  }
  if (problems.length > 0) {
    list.error(
      'pool.required-attributes',
      problems.join('; '),
      'Federated sign-in fails with "Invalid user attributes: <attr>. The attribute is required." Required attributes cannot be changed on an existing pool: create the pool with no required attribute (Schema Required: false), or map a claim every IdP always sends.',
    );
  } else if (doubts.length > 0) {
    list.warning(
      'pool.required-attributes',
      `${doubts.join(', ')} is required; every IdP maps it, but a user whose IdP omits the claim cannot sign in`,
      'Prefer a pool without required attributes (they cannot be changed later).',
    );
  } else {
    list.ok('pool.required-attributes', 'no required attributes');
  }

  const schema = new Map(model.userPool.schema.map((a) => [a.name, a]));
  const immutable = new Set<string>();
  const short = new Set<string>();
  for (const provider of model.providers) {
    for (const attribute of mappedAttributes(provider)) {
      const entry = schema.get(attribute);
      if (entry === undefined) continue;
      if (!entry.mutable) immutable.add(attribute);
      if (entry.maxLength !== undefined && entry.maxLength < 2048)
        short.add(`${attribute} (${entry.maxLength})`);
    }
  }
  if (immutable.size > 0) {
    list.error(
      'pool.mapped-mutable',
      `mapped attributes are immutable: ${[...immutable].join(', ')}`,
      'Cognito rewrites mapped attributes at every federated sign-in, so they must be Mutable: true. Mutability cannot be changed later: add a new mutable custom attribute and map the claim to it.',
    );
  } else {
    list.ok('pool.mapped-mutable', 'every mapped attribute is mutable');
  }
  if (short.size > 0) {
    list.warning(
      'pool.mapped-length',
      `mapped attributes shorter than 2048 characters: ${[...short].join(', ')}`,
      'Give mapped custom attributes MaxLength 2048: a longer IdP value fails the sign-in.',
    );
  }

  const version = model.userPool.triggerVersion;
  const tier = model.userPool.tier;
  if (version === undefined) {
    list.warning(
      'pool.trigger',
      'no pre-token-generation trigger: tokens carry no canonical claims (idp, assurance, …)',
      "Attach PreTokenGenerationFunction as the pool's PreTokenGenerationConfig (LambdaVersion V2_0 on Essentials, V1_0 on Lite).",
    );
  } else {
    const tiers = tiersForVersion[version];
    if (tiers === undefined) {
      list.ok('pool.trigger-tier', `pre-token-generation trigger ${version} works on every tier`);
    } else if (tier === undefined) {
      list.warning(
        'pool.trigger-tier',
        `pre-token-generation trigger ${version} needs the Essentials or Plus tier, and UserPoolTier is not set`,
        'Set UserPoolTier: ESSENTIALS explicitly (older pools default to Lite, where only V1_0 triggers run).',
      );
    } else if (!tiers.includes(tier)) {
      list.error(
        'pool.trigger-tier',
        `pre-token-generation trigger ${version} on the ${tier} tier`,
        `${version} events need the Essentials or Plus tier: set UserPoolTier: ESSENTIALS, or use LambdaVersion V1_0 (claims become strings; see docs/claims.md).`,
      );
    } else {
      list.ok('pool.trigger-tier', `pre-token-generation trigger ${version} on the ${tier} tier`);
    }
  }
  return list.findings;
}

function checkProvider(model: WiringModel, provider: ProviderModel, expect: WiringExpectations): Finding[] {
  const list = new FindingList('wiring', provider.name);
  const offline = expect.offline ?? false;
  if (provider.type !== 'OIDC') {
    list.warning(
      'provider.type',
      `provider type ${provider.type}; the broker's IdPs are OIDC providers`,
      'Use ProviderType: OIDC for ID.me and Idura.',
    );
  }
  const d = provider.details;
  const issuer = d.oidc_issuer;
  if (issuer === undefined || issuer === '') {
    list.error(
      'provider.oidc-issuer',
      'oidc_issuer is not set',
      'Set ProviderDetails.oidc_issuer to the IdP issuer (https://api.id.me/oidc, https://<tenant>.idura.broker).',
    );
  } else {
    const url = inspectUrl(issuer);
    if (issuer.endsWith('/')) {
      list.error(
        'provider.oidc-issuer',
        `oidc_issuer "${issuer}" ends with "/"`,
        `Cognito requires the issuer without a trailing slash: set oidc_issuer to "${issuer.replace(/\/+$/, '')}".`,
      );
    } else if (!url.https && !(offline && url.loopback)) {
      list.error(
        'provider.oidc-issuer',
        `oidc_issuer "${issuer}" is not an https URL`,
        'The issuer URL must start with https:// (Cognito federates only to HTTPS IdPs).',
      );
    } else {
      list.ok('provider.oidc-issuer', `oidc_issuer ${issuer}`);
    }
  }
  const manual: Array<readonly [string, string]> = [];
  for (const key of ['authorize_url', 'token_url', 'attributes_url', 'jwks_uri']) {
    const url = d[key];
    if (url !== undefined && url !== '') manual.push([key, url]);
  }
  if (manual.length > 0) checkEndpointUrls(list, manual, { offline, idPrefix: 'provider.endpoints' });

  const scopes = (d.authorize_scopes ?? '').split(/\s+/).filter(Boolean);
  if (!scopes.includes('openid')) {
    list.error(
      'provider.scopes',
      `authorize_scopes "${d.authorize_scopes ?? ''}" lacks openid`,
      'Add openid to authorize_scopes: without it the IdP issues no ID token and Cognito cannot federate.',
    );
  } else {
    list.ok('provider.scopes', `authorize_scopes "${scopes.join(' ')}"`);
  }
  if (idpKindOf(provider.name, issuer) === 'idme') {
    const policies = scopes.filter((s) => s !== 'openid');
    if (policies.length === 0) {
      list.error(
        'provider.idme-scopes',
        'ID.me is asked for "openid" alone, without a policy handle',
        'Set authorize_scopes to "openid <policy>" (the handle ID.me assigned, e.g. military); ID.me answers invalid_scope otherwise.',
      );
    } else if (policies.length > 1) {
      list.warning(
        'provider.idme-scopes',
        `ID.me is asked for several policies (${policies.join(', ')})`,
        'Send exactly one ID.me policy handle: "openid <policy>".',
      );
    } else {
      list.ok('provider.idme-scopes', `ID.me policy ${policies[0]}`);
    }
  }

  const method = d.attributes_request_method;
  if (method !== 'GET' && method !== 'POST') {
    list.error(
      'provider.attributes-request-method',
      `attributes_request_method is ${method === undefined ? 'not set' : `"${method}"`}`,
      'Set ProviderDetails.attributes_request_method to GET (what ID.me and Idura document).',
    );
  } else if (method === 'POST' && idpKindOf(provider.name, issuer) !== 'other') {
    list.warning(
      'provider.attributes-request-method',
      'user info is read with POST',
      'ID.me and Idura document GET for their userinfo endpoint: set attributes_request_method to GET.',
    );
  } else {
    list.ok('provider.attributes-request-method', `user info is read with ${method}`);
  }

  const schema = new Set(model.userPool.schema.map((a) => a.name));
  const unknown = mappedAttributes(provider).filter((a) => !schema.has(a));
  if (unknown.length > 0) {
    list.error(
      'provider.mapping-schema',
      `attribute mapping writes ${unknown.join(', ')}, which the pool schema does not have`,
      'Add the attribute to the user pool Schema (custom attributes: String, Mutable, MaxLength 2048, referenced as custom:<name>) or fix the mapping; sign-in otherwise fails with "Type for attribute … could not be determined".',
    );
  } else {
    list.ok(
      'provider.mapping-schema',
      `${mappedAttributes(provider).length} mapped attributes exist in the schema`,
    );
  }
  return list.findings;
}

function checkProviderNames(model: WiringModel, expect: WiringExpectations): Finding[] {
  const list = new FindingList('wiring', 'identity providers');
  if (expect.templateProviderNames === undefined) return [];
  const names = new Set(model.providers.map((p) => p.name));
  const missing = expect.templateProviderNames.filter((n) => !names.has(n));
  if (missing.length > 0) {
    list.warning(
      'provider.names',
      `the template declares ${missing.join(', ')}, which the deployed pool does not have (it has ${[...names].join(', ') || 'none'})`,
      'Deploy the template with the same parameters (IdmeEnvironment, IduraEnvironment), or pass the parameters the stack was deployed with (--parameter).',
    );
  } else {
    list.ok('provider.names', 'the deployed provider names match the template');
  }
  return list.findings;
}

function checkClient(model: WiringModel, expect: WiringExpectations): Finding[] {
  const list = new FindingList('wiring', 'app client');
  const client = model.client;
  if (client === undefined) {
    list.error(
      'client.missing',
      'no app client',
      'The broker needs an AWS::Cognito::UserPoolClient with a secret, the code flow and its callback URL.',
    );
    return list.findings;
  }
  if (expect.publicBaseUrl !== undefined && expect.publicBaseUrl !== '') {
    const callback = `${expect.publicBaseUrl.replace(/\/+$/, '')}/auth/callback`;
    const loopback = inspectUrl(callback).loopback;
    if (client.callbackUrls.includes(callback) && loopback && !(expect.offline ?? false)) {
      list.warning(
        'client.callback',
        `the registered callback ${callback} is on localhost`,
        "Fine for sam local; a deployed broker needs its public origin: ApiDomainName and CertificateArn (a custom domain on the frontend's site; browser sessions need it), or for bearer-only use PublicBaseUrl set to the ApiUrl output and a second deploy. Pass them with --parameter or set them in samconfig.toml.",
      );
    } else if (client.callbackUrls.includes(callback)) {
      list.ok('client.callback', `${callback} is registered`);
    } else {
      const near = client.callbackUrls.filter(
        (u) => u.replace(/\/+$/, '').toLowerCase() === callback.toLowerCase(),
      );
      list.error(
        'client.callback',
        `${callback} is not a callback URL of the app client (it has ${client.callbackUrls.join(', ') || 'none'})${near.length > 0 ? '; a near miss differs in case or a trailing slash' : ''}`,
        'Register exactly <PublicBaseUrl>/auth/callback in CallbackURLs (scheme, host, port and path must match; no trailing slash), or fix PublicBaseUrl / PUBLIC_BASE_URL. Cognito shows "redirect_mismatch" otherwise.',
      );
    }
  } else if (client.callbackUrls.some((u) => u.endsWith('/auth/callback'))) {
    list.warning(
      'client.callback',
      `the broker's public URL is unknown, so the registered callbacks (${client.callbackUrls.join(', ')}) cannot be compared`,
      'Pass --public-base-url <url> (or an --env file with PUBLIC_BASE_URL) to check the exact callback.',
    );
  } else {
    list.error(
      'client.callback',
      `no callback URL ends with /auth/callback (${client.callbackUrls.join(', ') || 'none'})`,
      'Register <PublicBaseUrl>/auth/callback in the app client CallbackURLs.',
    );
  }

  const defined = new Set(model.providers.map((p) => p.name));
  const unknown = client.supportedProviders.filter((n) => n !== 'COGNITO' && !defined.has(n));
  const disabled = [...defined].filter((n) => !client.supportedProviders.includes(n));
  if (unknown.length > 0) {
    list.error(
      'client.providers',
      `enables ${unknown.join(', ')}, which the pool does not define`,
      'SupportedIdentityProviders must name providers of this pool exactly (case-sensitive); Cognito answers "Login option is not available" otherwise.',
    );
  } else if (disabled.length > 0) {
    list.warning(
      'client.providers',
      `${disabled.join(', ')} is defined but not enabled here`,
      'Add it to SupportedIdentityProviders, or remove the provider.',
    );
  } else {
    list.ok('client.providers', `enabled IdPs: ${client.supportedProviders.join(', ') || 'none'}`);
  }

  if (client.writeAttributes !== undefined) {
    const writable = new Set(client.writeAttributes);
    const notWritable = [...new Set(model.providers.flatMap(mappedAttributes))].filter(
      (a) => !writable.has(a),
    );
    if (notWritable.length > 0) {
      list.error(
        'client.write-attributes',
        `mapped attributes the app client cannot write: ${notWritable.join(', ')}`,
        "Add every mapped attribute to the app client WriteAttributes: Cognito writes them with the client's permissions at each federated sign-in and fails otherwise.",
      );
    } else {
      list.ok('client.write-attributes', 'may write every mapped attribute');
    }
  } else {
    list.ok('client.write-attributes', 'may write every attribute (no WriteAttributes list)');
  }

  if (!client.allowedFlowsUserPoolClient || !client.allowedFlows.includes('code')) {
    list.error(
      'client.code-flow',
      `OAuth flows: ${client.allowedFlows.join(', ') || 'none'}${client.allowedFlowsUserPoolClient ? '' : ' (AllowedOAuthFlowsUserPoolClient is off)'}`,
      'Set AllowedOAuthFlowsUserPoolClient: true and AllowedOAuthFlows: [code]: the broker uses the authorization-code flow with PKCE.',
    );
  } else {
    list.ok('client.code-flow', 'authorization-code flow enabled');
  }
  if (!client.allowedScopes.includes('openid')) {
    list.error(
      'client.openid-scope',
      `allowed scopes: ${client.allowedScopes.join(' ') || 'none'}`,
      'Add openid to AllowedOAuthScopes: without it Cognito issues no ID token, and the broker trades ID tokens.',
    );
  } else {
    list.ok('client.openid-scope', `allowed scopes: ${client.allowedScopes.join(' ')}`);
  }
  if (!client.hasSecret) {
    list.error(
      'client.secret',
      'has no secret',
      'The broker is a confidential client (code exchange, refresh and revoke send the secret): create the client with GenerateSecret: true.',
    );
  } else {
    list.ok('client.secret', 'has a secret');
  }
  return list.findings;
}

function checkIdentityPool(model: WiringModel, expect: WiringExpectations): Finding[] {
  const list = new FindingList('wiring', 'identity pool');
  const pool = model.identityPool;
  if (expect.checkIdentityPool === false) return [];
  if (pool === undefined) {
    list.error(
      'identity-pool.missing',
      'no identity pool',
      'The broker trades ID tokens for credentials through an AWS::Cognito::IdentityPool listing the user pool and app client.',
    );
    return list.findings;
  }
  const expected = expect.loginsKey ?? userPoolProviderName(model.region, model.userPool.id);
  const entries = pool.providers.filter((p) => p.providerName === expected);
  if (entries.length === 0) {
    const near = pool.providers.map((p) => p.providerName);
    list.error(
      'identity-pool.provider-name',
      `no provider named ${expected} (the logins key the broker derives from the token issuer); the pool lists ${near.join(', ') || 'none'}`,
      `Set the identity pool's CognitoIdentityProviders ProviderName to exactly ${expected} (dots, not colons; the pool's own region and id; no https://), e.g. !GetAtt UserPool.ProviderName. GetId fails with "Invalid login token. Issuer doesn't match providerName" otherwise.`,
    );
  } else {
    list.ok('identity-pool.provider-name', `provider ${expected} matches the logins key`);
  }
  const clients = [model.client?.clientId, ...(expect.trustedClientIds ?? [])].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  const listed = new Set(entries.map((e) => e.clientId));
  const missing = clients.filter((c) => !listed.has(c));
  if (entries.length > 0 && missing.length > 0) {
    list.error(
      'identity-pool.client',
      `app client ${missing.join(', ')} is not listed under ${expected} (listed: ${[...listed].join(', ') || 'none'})`,
      'Add { ProviderName, ClientId } for each app client whose ID tokens are traded; the identity pool answers "Token is not from a supported provider of this identity pool" otherwise.',
    );
  } else if (entries.length > 0) {
    list.ok('identity-pool.client', `app client ${clients.join(', ')} is listed`);
  }
  const unchecked = entries.filter((e) => !e.serverSideTokenCheck);
  if (unchecked.length > 0) {
    list.warning(
      'identity-pool.server-side-token-check',
      'ServerSideTokenCheck is off: signed-out or deleted users keep getting credentials until their ID token expires',
      'Set ServerSideTokenCheck: true on the user pool provider.',
    );
  } else if (entries.length > 0) {
    list.ok('identity-pool.server-side-token-check', 'ServerSideTokenCheck is on');
  }
  if (pool.allowUnauthenticated) {
    list.warning(
      'identity-pool.unauthenticated',
      'the identity pool gives credentials to guests (AllowUnauthenticatedIdentities)',
      "Set AllowUnauthenticatedIdentities: false; the broker only trades signed-in users' tokens.",
    );
  }
  return list.findings;
}
