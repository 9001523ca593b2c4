/**
 * What the smoke test checks a stack against: the broker's public origin, an allowed frontend, the
 * hosted UI, the user pool, and each identity provider as Cognito should call it. Built from a
 * deployed stack's outputs and parameters, or from a running offline stack.
 */
import type { OfflineStack } from '../../local/stack.ts';
import { readTemplate, TemplateResolver } from '../../local/template.ts';

export interface SmokeProvider {
  /** Cognito provider name, e.g. IDmeSandbox. */
  readonly name: string;
  /** The IdP's OIDC issuer (its discovery names the authorize endpoint Cognito must redirect to). */
  readonly issuer: string;
  /** The client id Cognito must send to the IdP. */
  readonly clientId: string;
  /** Scopes Cognito must ask the IdP for (the provider's authorize_scopes). */
  readonly scopes: readonly string[];
}

export interface SmokeTarget {
  /** What was checked, for the report's first line. */
  readonly label: string;
  /** The broker API's public origin (callback = <publicOrigin>/auth/callback). */
  readonly publicOrigin: string;
  /** A frontend origin the API must allow (CORS, cookie requests, sign-out landing page). */
  readonly frontendOrigin: string;
  /** The hosted UI's base URL, https://<prefix>.auth.<region>.amazoncognito.com offline or deployed. */
  readonly hostedUiUrl: string;
  readonly userPoolIssuer: string;
  readonly appClientId: string;
  /** The redirect URI Cognito gives the IdPs (<hosted UI>/oauth2/idpresponse). */
  readonly idpResponseUrl: string;
  readonly providers: readonly SmokeProvider[];
}

export class TargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetError';
  }
}

/** The template's two identity providers, resolved with the stack's parameter values. */
function templateProviders(resolver: TemplateResolver): Array<{
  logicalId: string;
  issuer: string;
  clientId: string;
  scopes: string[];
}> {
  return resolver.resourcesOfType('AWS::Cognito::UserPoolIdentityProvider').map((logicalId) => {
    const details = (resolver.resource(logicalId).Properties.ProviderDetails ?? {}) as Record<string, string>;
    return {
      logicalId,
      issuer: String(details.oidc_issuer ?? ''),
      clientId: String(details.client_id ?? ''),
      scopes: String(details.authorize_scopes ?? 'openid')
        .split(/\s+/)
        .filter(Boolean),
    };
  });
}

const providerOutputs: Record<string, string> = {
  IdmeProvider: 'IdmeProviderName',
  IduraProvider: 'IduraProviderName',
};

/**
 * The target of a deployed stack: its outputs, and its parameter values applied to template.yaml for
 * what Cognito sends each IdP.
 *
 * @throws TargetError naming the outputs or parameters the stack lacks.
 */
export function targetFromStack(input: {
  stackName: string;
  region: string;
  outputs: Readonly<Record<string, string>>;
  parameters: Readonly<Record<string, string>>;
  frontendOrigin?: string | undefined;
}): SmokeTarget {
  const { outputs, parameters } = input;
  const required = [
    'PublicOrigin',
    'HostedUiDomain',
    'UserPoolIssuer',
    'UserPoolClientId',
    'IdpResponseUrl',
    'IdmeProviderName',
    'IduraProviderName',
  ];
  const missing = required.filter((name) => !outputs[name]);
  if (missing.length > 0) {
    throw new TargetError(
      `stack ${input.stackName} has no output ${missing.join(', ')}: deploy the current template.yaml (npm run sam:build, then sam deploy), or check --stack and --region`,
    );
  }
  const frontendOrigin =
    input.frontendOrigin ??
    (outputs.AllowedOrigins ?? parameters.FrontendOrigins ?? '').split(',')[0]?.trim();
  if (!frontendOrigin) {
    throw new TargetError('the stack lists no FrontendOrigins: pass --frontend-origin <an allowed origin>');
  }
  const resolver = new TemplateResolver(readTemplate(), {
    region: input.region,
    stackName: input.stackName,
    parameters: { ...parameters },
  });
  const providers = templateProviders(resolver).map((p) => ({
    name: String(outputs[providerOutputs[p.logicalId] ?? ''] ?? p.logicalId),
    issuer: p.issuer,
    clientId: p.clientId,
    scopes: p.scopes,
  }));
  return {
    label: `stack ${input.stackName} in ${input.region}`,
    publicOrigin: String(outputs.PublicOrigin).replace(/\/+$/, ''),
    frontendOrigin,
    hostedUiUrl: `https://${outputs.HostedUiDomain}`,
    userPoolIssuer: String(outputs.UserPoolIssuer),
    appClientId: String(outputs.UserPoolClientId),
    idpResponseUrl: String(outputs.IdpResponseUrl),
    providers,
  };
}

/** The target of a running offline stack: the stand-ins replace Cognito's domain and the IdPs. */
export function targetFromOfflineStack(stack: OfflineStack, label = 'the offline stack'): SmokeTarget {
  const upstream: Record<string, { issuer: string }> = {
    IdmeProvider: stack.idme,
    IduraProvider: stack.idura,
  };
  const providers = templateProviders(stack.template).map((p) => ({
    name: String(stack.template.resource(p.logicalId).Properties.ProviderName),
    issuer: upstream[p.logicalId]?.issuer ?? p.issuer,
    // What the template has Cognito send (its client id parameter): the stand-in must send the same.
    clientId: p.clientId,
    scopes: p.scopes,
  }));
  return {
    label: `${label} (API ${stack.api.url})`,
    publicOrigin: stack.config.publicBaseUrl,
    frontendOrigin: stack.config.frontendOrigins[0] ?? stack.config.publicBaseUrl,
    hostedUiUrl: stack.userPool.url,
    userPoolIssuer: stack.userPool.issuer,
    appClientId: stack.config.appClient.clientId,
    idpResponseUrl: `${stack.userPool.url}/oauth2/idpresponse`,
    providers,
  };
}
