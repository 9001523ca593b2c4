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
    if (value !== undefined && !pattern.test(value)) {
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
    upstreamTimeoutMs: r.integer('UPSTREAM_TIMEOUT_MS', 3000, 100, 25_000),
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
