import { type CookieKeySet, cookieKeysExample, parseCookieKeySet } from './auth/keyring.ts';

/**
 * Configuration is parsed, not read: each `parse*Config(env)` is pure, checks every variable at once,
 * reports all problems in one ConfigError, and returns a frozen, typed object. Only the handlers pass
 * `process.env` in. Endpoints are configuration, so the offline stack needs no code branch.
 */

export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/** Collects problems while fields are read, so that one run reports them all. */
export class EnvReader {
  readonly problems: string[] = [];
  private readonly env: Env;
  constructor(env: Env) {
    this.env = env;
  }

  optional(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === '' ? undefined : value;
  }

  required(name: string, what: string): string {
    const value = this.optional(name);
    if (value === undefined) {
      this.problems.push(`${name} is not set: ${what}`);
      return '';
    }
    return value;
  }

  matching(name: string, pattern: RegExp, example: string, value = this.optional(name)): string | undefined {
    if (value !== undefined && value !== '' && !pattern.test(value)) {
      this.problems.push(`${name} "${value}" is not valid: expected something like ${example}`);
      return undefined;
    }
    return value;
  }

  /** An http(s) URL without trailing slash. Plain http only for loopback hosts (the offline stack). */
  url(name: string, value = this.optional(name)): string | undefined {
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.problems.push(`${name} "${value}" is not a URL`);
      return undefined;
    }
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && isLoopback(parsed.hostname))) {
      this.problems.push(`${name} must use https:// (plain http is only allowed for localhost): "${value}"`);
      return undefined;
    }
    return value.replace(/\/+$/, '');
  }

  list(name: string): string[] {
    const value = this.optional(name);
    return value === undefined
      ? []
      : value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '');
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const value = this.optional(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name} "${value}" must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  json(name: string, what: string): unknown {
    const value = this.optional(name);
    if (value === undefined) return undefined;
    try {
      return JSON.parse(value);
    } catch {
      this.problems.push(`${name} is not valid JSON: ${what}`);
      return undefined;
    }
  }

  done<T extends object>(config: T): Readonly<T> {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
    return Object.freeze(config);
  }
}

export function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d$/;
const userPoolIdPattern = /^[\w-]+_[0-9a-zA-Z]+$/;
const identityPoolIdPattern = /^[\w-]+:[0-9a-f-]+$/;
const signingAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384'] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

/** An issuer whose ID tokens the broker accepts. */
export interface TrustedIssuer {
  /** Exact `iss` value. */
  issuer: string;
  kind: 'user-pool' | 'oidc';
  /** Accepted `aud` (or `azp`, when present) values. */
  clientIds: readonly string[];
  /** Where the signing keys are; undefined means "read jwks_uri from the issuer's discovery document". */
  jwksUri: string | undefined;
  algorithms: readonly SigningAlgorithm[];
}

/**
 * Longest allowed UPSTREAM_TIMEOUT_MS: one call must fit in the functions' 10 s Timeout (template.yaml)
 * with room to answer. Several calls in a row can still exceed it; middy's early timeout then answers
 * 504 upstream_timeout (http.ts) before Lambda kills the invocation.
 */
export const maxUpstreamTimeoutMs = 9_000;

export interface TokenConfig {
  region: string;
  userPoolId: string;
  /** The broker's own app client. */
  userPoolClientId: string;
  userPool: TrustedIssuer;
  issuers: readonly TrustedIssuer[];
  clockSkewSeconds: number;
  upstreamTimeoutMs: number;
}

function readTokenConfig(r: EnvReader): TokenConfig {
  const region =
    r.matching(
      'AWS_REGION',
      regionPattern,
      'us-east-1',
      r.required('AWS_REGION', 'the AWS region of the user pool and identity pool'),
    ) ?? '';
  const userPoolId =
    r.matching(
      'USER_POOL_ID',
      userPoolIdPattern,
      'us-east-1_AbC123',
      r.required('USER_POOL_ID', 'the Cognito user pool id (stack output UserPoolId)'),
    ) ?? '';
  const userPoolClientId = r.required(
    'USER_POOL_CLIENT_ID',
    "the broker's app client id (stack output UserPoolClientId)",
  );
  const extraClientIds = r.list('TRUSTED_CLIENT_IDS');
  const issuer = r.url('USER_POOL_ISSUER') ?? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  const userPool: TrustedIssuer = {
    issuer,
    kind: 'user-pool',
    clientIds: [userPoolClientId, ...extraClientIds],
    jwksUri: `${issuer}/.well-known/jwks.json`,
    // Cognito signs every user-pool token with RS256.
    algorithms: ['RS256'],
  };
  const direct = readDirectProviders(r);
  return {
    region,
    userPoolId,
    userPoolClientId,
    userPool,
    issuers: [userPool, ...direct],
    clockSkewSeconds: r.integer('CLOCK_SKEW_SECONDS', 60, 0, 300),
    upstreamTimeoutMs: r.integer('UPSTREAM_TIMEOUT_MS', 3000, 100, maxUpstreamTimeoutMs),
  };
}

function readDirectProviders(r: EnvReader): TrustedIssuer[] {
  const raw = r.json(
    'DIRECT_OIDC_PROVIDERS',
    'a JSON array like [{"issuer":"https://api.id.me/oidc","clientIds":["…"]}]',
  );
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    r.problems.push(
      'DIRECT_OIDC_PROVIDERS must be a JSON array of {issuer, clientIds, jwksUri?, algorithms?}',
    );
    return [];
  }
  const out: TrustedIssuer[] = [];
  raw.forEach((entry: unknown, i) => {
    const where = `DIRECT_OIDC_PROVIDERS[${i}]`;
    if (typeof entry !== 'object' || entry === null) {
      r.problems.push(`${where} must be an object`);
      return;
    }
    const e = entry as Record<string, unknown>;
    const issuer = typeof e.issuer === 'string' ? r.url(`${where}.issuer`, e.issuer) : undefined;
    if (issuer === undefined && typeof e.issuer !== 'string') r.problems.push(`${where}.issuer is missing`);
    const clientIds = Array.isArray(e.clientIds)
      ? e.clientIds.filter((c): c is string => typeof c === 'string')
      : [];
    if (clientIds.length === 0)
      r.problems.push(`${where}.clientIds must list the client ids its tokens are issued to`);
    const jwksUri = typeof e.jwksUri === 'string' ? r.url(`${where}.jwksUri`, e.jwksUri) : undefined;
    const algorithms = Array.isArray(e.algorithms) ? e.algorithms : ['RS256'];
    const bad = algorithms.filter((a) => !(signingAlgorithms as readonly unknown[]).includes(a));
    if (bad.length > 0) {
      r.problems.push(
        `${where}.algorithms may only name asymmetric algorithms (${signingAlgorithms.join(', ')})`,
      );
    }
    if (issuer !== undefined) {
      out.push({ issuer, kind: 'oidc', clientIds, jwksUri, algorithms: algorithms as SigningAlgorithm[] });
    }
  });
  return out;
}

export interface CredentialsConfig extends TokenConfig {
  identityPoolId: string;
  /** Endpoint override for Cognito Identity (the offline stack); undefined in AWS. */
  cognitoIdentityEndpoint: string | undefined;
  /** Origins allowed to call the broker from a browser. */
  allowedOrigins: readonly string[];
}

/** Configuration of the `/credentials` function. @throws ConfigError listing every problem. */
export function parseCredentialsConfig(env: Env): Readonly<CredentialsConfig> {
  const r = new EnvReader(env);
  const token = readTokenConfig(r);
  const identityPoolId =
    r.matching(
      'IDENTITY_POOL_ID',
      identityPoolIdPattern,
      'us-east-1:0f4c5e6a-1111-2222-3333-444455556666',
      r.required('IDENTITY_POOL_ID', 'the Cognito identity pool id (stack output IdentityPoolId)'),
    ) ?? '';
  const allowedOrigins = readOrigins(r);
  return r.done({
    ...token,
    identityPoolId,
    cognitoIdentityEndpoint: r.url('COGNITO_IDENTITY_ENDPOINT'),
    allowedOrigins,
  });
}

/** ALLOWED_ORIGINS: exact origins (scheme://host[:port]) of the frontends. */
export function readOrigins(r: EnvReader): string[] {
  const origins: string[] = [];
  for (const value of r.list('ALLOWED_ORIGINS')) {
    try {
      const u = new URL(value);
      if (u.origin !== value.replace(/\/$/, '') || u.origin === 'null') throw new Error('not an origin');
      if (u.protocol !== 'https:' && !isLoopback(u.hostname)) throw new Error('not https');
      origins.push(u.origin);
    } catch {
      r.problems.push(
        `ALLOWED_ORIGINS entry "${value}" must be an https origin like https://app.example.com (no path)`,
      );
    }
  }
  return origins;
}

// ---------------------------------------------------------------- sign-in (issue 5)

/**
 * Where a secret comes from. A plain environment value is for local runs only (parseAuthConfig refuses
 * it in a deployed Lambda); in AWS the value is a Secrets Manager secret id, read by auth/secrets.ts.
 */
export type SecretSetting<Plain> =
  | { source: 'environment'; value: Plain }
  | { source: 'secrets-manager'; secretId: string };

/** The user pool's OAuth endpoints, all on the hosted-UI domain. */
export interface OAuthEndpoints {
  authorize: string;
  token: string;
  revoke: string;
  logout: string;
}

export interface AuthConfig extends TokenConfig {
  /** Hosted-UI base URL, e.g. https://<prefix>.auth.<region>.amazoncognito.com (no trailing slash). */
  cognitoDomainUrl: string;
  endpoints: OAuthEndpoints;
  /** The app client's secret; undefined when this function does not call the token endpoint. */
  clientSecret: SecretSetting<string> | undefined;
  cookieKeys: SecretSetting<CookieKeySet>;
  /** Where the broker's API is reached, e.g. https://api.example.com (no trailing slash). */
  publicBaseUrl: string;
  /** Origin of publicBaseUrl: relative return_to paths land here. */
  selfOrigin: string;
  /** publicBaseUrl + /auth/callback, exactly as registered on the app client. */
  callbackUrl: string;
  /** Served over https: cookies get `Secure` and the `__Host-`/`__Secure-` prefixes. */
  secureCookies: boolean;
  /** Cognito provider names a user may pick (`identity_provider`), e.g. IDmeSandbox, IduraTest. */
  identityProviders: readonly string[];
  /** Space-separated scopes for /oauth2/authorize; always includes openid. */
  scopes: string;
  /** Frontend origins; the first is the default return_to and the Cognito logout_uri fallback. */
  allowedOrigins: readonly string[];
  sessionMaxAgeSeconds: number;
  /** When set, the callback resolves the identity id at sign-in (GetId). */
  identityPoolId: string | undefined;
  cognitoIdentityEndpoint: string | undefined;
}

/** What a particular function needs beyond the common sign-in settings. */
export interface AuthNeeds {
  /** The function calls /oauth2/token or /oauth2/revoke (callback, logout, credentials). */
  clientSecret?: boolean;
  /** The function starts sign-ins (login). */
  identityProviders?: boolean;
}

const defaultScopes = 'openid email profile';
const providerNamePattern = /^[^\s,_][^\s,]{0,30}[^\s,_]$|^[^\s,_]$/;
const scopePattern = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * Configuration of the sign-in functions (login, callback, session, logout) and of session support in
 * /credentials. Every variable is checked in one pass; secrets are never quoted in problems.
 *
 * @throws ConfigError listing every problem.
 * @example const config = parseAuthConfig(process.env, { clientSecret: true });
 */
export function parseAuthConfig(env: Env, needs: AuthNeeds = {}): Readonly<AuthConfig> {
  const r = new EnvReader(env);
  const token = readTokenConfig(r);
  const cognitoDomainUrl =
    r.url(
      'COGNITO_DOMAIN_URL',
      r.required(
        'COGNITO_DOMAIN_URL',
        'the hosted-UI base URL, e.g. https://<prefix>.auth.<region>.amazoncognito.com (locally http://localhost:<port>)',
      ),
    ) ?? '';
  const publicBaseUrl =
    r.url(
      'PUBLIC_BASE_URL',
      r.required('PUBLIC_BASE_URL', "the broker API's public origin, e.g. https://api.example.com"),
    ) ?? '';
  const deployed = env.AWS_LAMBDA_FUNCTION_NAME !== undefined && env.AWS_SAM_LOCAL !== 'true';
  const clientSecret = readSecretSetting(r, {
    plain: 'USER_POOL_CLIENT_SECRET',
    secretId: 'CLIENT_SECRET_ID',
    what: 'the app client secret (Secrets Manager secret id holding {"client_secret":"…"})',
    required: needs.clientSecret === true,
    deployed,
    parse: (value) => value,
  });
  const cookieKeys = readSecretSetting(r, {
    plain: 'COOKIE_KEYS',
    secretId: 'COOKIE_KEYS_SECRET_ID',
    what: `the cookie keys (Secrets Manager secret id holding ${cookieKeysExample})`,
    required: true,
    deployed,
    parse: (value) => {
      let raw: unknown;
      try {
        raw = JSON.parse(value);
      } catch {
        r.problems.push(`COOKIE_KEYS is not valid JSON: expected ${cookieKeysExample}`);
        return undefined;
      }
      const parsed = parseCookieKeySet(raw, 'COOKIE_KEYS');
      r.problems.push(...parsed.problems);
      return parsed.keys;
    },
  });
  const identityProviders = r.list('IDENTITY_PROVIDERS');
  for (const name of identityProviders) {
    if (!providerNamePattern.test(name)) {
      r.problems.push(`IDENTITY_PROVIDERS entry "${name}" is not a Cognito provider name (1-32 characters)`);
    }
  }
  if (needs.identityProviders && identityProviders.length === 0) {
    r.problems.push(
      'IDENTITY_PROVIDERS is not set: the Cognito provider names users may pick, e.g. IDmeSandbox,IduraTest',
    );
  }
  const scopeList = (r.optional('OAUTH_SCOPES') ?? defaultScopes).split(/\s+/).filter(Boolean);
  if (!scopeList.includes('openid')) {
    r.problems.push('OAUTH_SCOPES must include openid (without it Cognito issues no ID token)');
  }
  for (const scope of scopeList) {
    if (!scopePattern.test(scope)) r.problems.push(`OAUTH_SCOPES entry "${scope}" is not a valid scope`);
  }
  const allowedOrigins = readOrigins(r);
  if (allowedOrigins.length === 0 && r.list('ALLOWED_ORIGINS').length === 0) {
    r.problems.push(
      'ALLOWED_ORIGINS is not set: the frontend origin(s); the first is where users land after sign-in and sign-out',
    );
  }
  const identityPoolId = r.matching('IDENTITY_POOL_ID', identityPoolIdPattern, 'us-east-1:0f4c5e6a-…');
  const base = publicBaseUrl === '' ? undefined : new URL(publicBaseUrl);
  return r.done({
    ...token,
    cognitoDomainUrl,
    endpoints: {
      authorize: `${cognitoDomainUrl}/oauth2/authorize`,
      token: `${cognitoDomainUrl}/oauth2/token`,
      revoke: `${cognitoDomainUrl}/oauth2/revoke`,
      logout: `${cognitoDomainUrl}/logout`,
    },
    clientSecret,
    cookieKeys: cookieKeys as SecretSetting<CookieKeySet>,
    publicBaseUrl,
    selfOrigin: base?.origin ?? '',
    callbackUrl: `${publicBaseUrl}/auth/callback`,
    secureCookies: base?.protocol === 'https:',
    identityProviders,
    scopes: scopeList.join(' '),
    allowedOrigins,
    sessionMaxAgeSeconds: r.integer('SESSION_MAX_AGE_SECONDS', 43_200, 300, 30 * 86_400),
    identityPoolId,
    cognitoIdentityEndpoint: r.url('COGNITO_IDENTITY_ENDPOINT'),
  });
}

/** Variables that turn on session support in /credentials. */
const sessionVariables = ['COGNITO_DOMAIN_URL', 'COOKIE_KEYS', 'COOKIE_KEYS_SECRET_ID'] as const;

/**
 * Session support for /credentials: undefined when none of COGNITO_DOMAIN_URL, COOKIE_KEYS and
 * COOKIE_KEYS_SECRET_ID is set (bearer tokens only), otherwise the full sign-in configuration with the
 * client secret (for the refresh_token grant).
 *
 * @throws ConfigError listing every problem.
 */
export function parseSessionConfig(env: Env): Readonly<AuthConfig> | undefined {
  if (sessionVariables.every((name) => (env[name]?.trim() ?? '') === '')) return undefined;
  return parseAuthConfig(env, { clientSecret: true });
}

function readSecretSetting<Plain>(
  r: EnvReader,
  options: {
    plain: string;
    secretId: string;
    what: string;
    required: boolean;
    deployed: boolean;
    parse: (value: string) => Plain | undefined;
  },
): SecretSetting<Plain> | undefined {
  const plain = r.optional(options.plain);
  const secretId = r.optional(options.secretId);
  if (plain !== undefined && secretId !== undefined) {
    r.problems.push(
      `${options.plain} and ${options.secretId} are both set: use ${options.secretId} in AWS, or ${options.plain} alone for local runs (blank ${options.secretId})`,
    );
    return undefined;
  }
  if (plain !== undefined) {
    if (options.deployed) {
      r.problems.push(
        `${options.plain} holds a plain secret, which is for local runs only: store it in Secrets Manager and set ${options.secretId}`,
      );
      return undefined;
    }
    const value = options.parse(plain);
    return value === undefined ? undefined : { source: 'environment', value };
  }
  if (secretId !== undefined) return { source: 'secrets-manager', secretId };
  if (options.required) {
    r.problems.push(`${options.secretId} is not set: ${options.what}; locally, ${options.plain} instead`);
  }
  return undefined;
}
