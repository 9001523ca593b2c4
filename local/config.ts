/**
 * The offline stack's one configuration: safe defaults, optionally overridden by
 * `local.config.json` at the repository root (see local.config.example.json). Local only: the
 * secrets below protect nothing but loopback test identities.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalConfig {
  region: string;
  host: string;
  publicHost: string;
  /**
   * Host name of the Cognito user pool and identity pool stand-ins in every URL (issuer, hosted UI,
   * Cognito Identity endpoint); default publicHost. `npm run start:stand-ins` uses cognito.localhost,
   * a name the browser and the sam local containers (--add-host) both resolve (README, sam local).
   */
  cognitoHost?: string;
  ports: { api: number; userPool: number; identityPool: number; idme: number; idura: number };
  userPoolId: string;
  identityPoolId: string;
  appClient: { clientId: string; clientSecret: string };
  /** Secret the user pool stand-in uses toward the ID.me and Idura stand-ins. */
  upstreamSecret: string;
  /** Shape of COOKIE_KEYS: {"current": kid, <kid>: secret, …} (docs/sign-in.md). */
  cookieKeys: Record<string, string>;
  /** ID.me and Idura environments chosen in the template (provider names IDmeSandbox/IDme, IduraTest/Idura). */
  idmeEnvironment: 'sandbox' | 'production';
  iduraEnvironment: 'test' | 'production';
  tokenLifetimes?: { idTokenSeconds?: number; accessTokenSeconds?: number; refreshTokenSeconds?: number };
  logLevel: string;
  /** Derived: http://<publicHost>:<api port>. */
  publicBaseUrl: string;
  frontendOrigins: string[];
}

const defaultPorts = {
  api: 3000,
  userPool: 9229,
  identityPool: 9230,
  idme: 9301,
  idura: 9302,
} as const;

function defaultConfig(): Omit<LocalConfig, 'publicBaseUrl' | 'frontendOrigins'> {
  return {
    region: 'us-east-1',
    host: '127.0.0.1',
    publicHost: 'localhost',
    ports: { ...defaultPorts },
    userPoolId: 'us-east-1_OfflinePool',
    identityPoolId: 'us-east-1:0ff11e00-0000-4000-8000-000000000001',
    appClient: { clientId: 'offline-broker-client', clientSecret: 'offline-broker-secret-local-only' },
    upstreamSecret: 'offline-upstream-secret-local-only',
    // 32 bytes, base64url: local only, never deployed.
    cookieKeys: { current: 'local1', local1: 'local-only-cookie-key-never-deployed-0001' },
    idmeEnvironment: 'sandbox',
    iduraEnvironment: 'test',
    logLevel: 'info',
  };
}

/** Builds the configuration: defaults, then `overrides` (from local.config.json or a test). */
export function localConfig(
  overrides: Partial<Omit<LocalConfig, 'publicBaseUrl' | 'frontendOrigins'>> = {},
): LocalConfig {
  const base = defaultConfig();
  const merged = { ...base, ...overrides, ports: { ...base.ports, ...overrides.ports } };
  const publicBaseUrl = `http://${merged.publicHost}:${merged.ports.api}`;
  return { ...merged, publicBaseUrl, frontendOrigins: [publicBaseUrl] };
}

/** Ports 0 everywhere except the API, which must be known before start (callback URL): tests. */
export function ephemeralConfig(apiPort: number, overrides: Partial<LocalConfig> = {}): LocalConfig {
  return localConfig({
    ...overrides,
    ports: { api: apiPort, userPool: 0, identityPool: 0, idme: 0, idura: 0 },
  });
}

export function readLocalConfigFile(
  path = join(import.meta.dirname, '..', 'local.config.json'),
  base: Partial<Omit<LocalConfig, 'publicBaseUrl' | 'frontendOrigins'>> = {},
): LocalConfig {
  if (!existsSync(path)) return localConfig(base);
  try {
    return localConfig({ ...base, ...JSON.parse(readFileSync(path, 'utf8')) });
  } catch (error) {
    throw new Error(`${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/** template.yaml parameter values for the offline stack (what samconfig.toml gives `sam local`). */
export function localParameters(config: LocalConfig): Record<string, string> {
  return {
    PublicBaseUrl: config.publicBaseUrl,
    FrontendOrigins: config.frontendOrigins.join(','),
    HostedUiDomainPrefix: 'offline',
    IdmeEnvironment: config.idmeEnvironment,
    IdmeClientId: 'cognito-offline',
    IduraDomain: config.publicHost,
    IduraEnvironment: config.iduraEnvironment,
    IduraClientId: 'cognito-offline',
    LogLevel: config.logLevel.toUpperCase(),
  };
}

/**
 * The values the offline stack gives the functions (what env.json holds for `sam local`): endpoints of
 * the stand-ins and local-only plain secrets. A function receives only those its template declares.
 */
export function offlineFunctionValues(
  config: LocalConfig,
  endpoints: {
    userPoolUrl: string;
    userPoolIssuer: string;
    identityPoolUrl: string;
    identityProviders: readonly string[];
    overrides?: Record<string, string>;
  },
): Record<string, string> {
  return {
    USER_POOL_ID: config.userPoolId,
    USER_POOL_CLIENT_ID: config.appClient.clientId,
    USER_POOL_CLIENT_SECRET: config.appClient.clientSecret,
    USER_POOL_ISSUER: endpoints.userPoolIssuer,
    IDENTITY_POOL_ID: config.identityPoolId,
    COGNITO_IDENTITY_ENDPOINT: endpoints.identityPoolUrl,
    COGNITO_DOMAIN_URL: endpoints.userPoolUrl,
    PUBLIC_BASE_URL: config.publicBaseUrl,
    ALLOWED_ORIGINS: config.frontendOrigins.join(','),
    IDENTITY_PROVIDERS: endpoints.identityProviders.join(','),
    COOKIE_KEYS: JSON.stringify(config.cookieKeys),
    // Secrets come from the plain values above, never from Secrets Manager, offline.
    CLIENT_SECRET_ID: '',
    COOKIE_KEYS_SECRET_ID: '',
    ...endpoints.overrides,
  };
}
