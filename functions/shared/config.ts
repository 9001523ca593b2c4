import { ConfigError } from './errors.ts';

/**
 * Configuration is parsed, not read. Each function has its own parser (functions/<name>/config.ts)
 * composed from the readers here and in auth/config.ts: pure, it checks every variable it needs at
 * once, reports all problems in one ConfigError and returns a frozen, typed object. Only a function's
 * handler.ts passes `process.env` in; tests pass the parsed object to createHandler. Endpoints are
 * configuration, so the offline stack needs no code branch.
 */

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

  /** An http(s) URL without trailing slash. Plain http only where `plainHttpAllowed` says (local runs). */
  url(name: string, value = this.optional(name)): string | undefined {
    if (value === undefined) return undefined;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.problems.push(`${name} "${value}" is not a URL`);
      return undefined;
    }
    if (
      parsed.protocol !== 'https:' &&
      !(parsed.protocol === 'http:' && this.plainHttpAllowed(parsed.hostname))
    ) {
      this.problems.push(
        `${name} must use https:// (plain http only for localhost and 127.0.0.1, or *.localhost under sam local): "${value}"`,
      );
      return undefined;
    }
    return value.replace(/\/+$/, '');
  }

  /**
   * Plain http is for the machine itself: `localhost`, `[::1]` and 127.0.0.0/8 wherever the function
   * runs. Other `*.localhost` names only under sam local (it sets AWS_SAM_LOCAL=true): there
   * `--add-host cognito.localhost:host-gateway` maps such a name to the Docker host, reached over the
   * bridge network; a deployed function has no such mapping, so it refuses them.
   */
  plainHttpAllowed(hostname: string): boolean {
    if (hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname))
      return true;
    return this.optional('AWS_SAM_LOCAL') === 'true' && isLoopback(hostname);
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
    if (this.problems.length > 0) {
      throw new ConfigError(`Invalid configuration:\n  - ${this.problems.join('\n  - ')}`, {
        problems: this.problems,
      });
    }
    return Object.freeze(config);
  }
}

/**
 * Names reserved for loopback: `localhost` and its subdomains (RFC 6761 section 6.3, never a public
 * name), `[::1]` and 127.0.0.0/8. Reserved is not routed: browsers resolve `*.localhost` to loopback,
 * but under sam local `--add-host` maps one to the Docker host, so the functions' own rule is
 * `EnvReader.plainHttpAllowed`. The doctor and the offline stack use this one.
 */
export function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    /^[a-z0-9-]+(\.[a-z0-9-]+)*\.localhost$/.test(hostname) ||
    hostname === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  );
}

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d$/;
const userPoolIdPattern = /^[\w-]+_[0-9a-zA-Z]+$/;
const identityPoolIdPattern = /^[\w-]+:[0-9a-f-]+$/;
/** Cognito signs every user-pool token with RS256. */
type SigningAlgorithm = 'RS256';

/**
 * The issuer whose ID tokens the broker accepts: the user pool, and only it. Identity pools accept
 * other OIDC providers only through an IAM OIDC provider with RSA-verifiable tokens, which the template
 * does not create, so bearer tokens are user-pool ID tokens.
 */
export interface TrustedIssuer {
  /** Exact `iss` value. */
  issuer: string;
  /** Accepted `aud` (or `azp`, when present) values. */
  clientIds: readonly string[];
  /** Where the signing keys are. */
  jwksUri: string;
  algorithms: readonly SigningAlgorithm[];
}

/**
 * Longest allowed UPSTREAM_TIMEOUT_MS: one call must fit in the functions' 10 s Timeout (template.yaml)
 * with room to answer. Several calls in a row can still exceed it; middy's early timeout then answers
 * 504 upstream_timeout (http.ts) before Lambda kills the invocation.
 */
export const maxUpstreamTimeoutMs = 9_000;

/** UPSTREAM_TIMEOUT_MS: the timeout of every outbound call of a function. */
export function readUpstreamTimeout(r: EnvReader): number {
  return r.integer('UPSTREAM_TIMEOUT_MS', 3000, 100, maxUpstreamTimeoutMs);
}

/** CLOCK_SKEW_SECONDS: tolerated skew for exp/nbf/iat. */
export function readClockSkew(r: EnvReader): number {
  return r.integer('CLOCK_SKEW_SECONDS', 60, 0, 300);
}

/** AWS_REGION, which Lambda sets. */
function readRegion(r: EnvReader): string {
  return (
    r.matching(
      'AWS_REGION',
      regionPattern,
      'us-east-1',
      r.required('AWS_REGION', 'the AWS region of the user pool and identity pool'),
    ) ?? ''
  );
}

/** USER_POOL_CLIENT_ID: the broker's own app client. */
export function readUserPoolClientId(r: EnvReader): string {
  return r.required('USER_POOL_CLIENT_ID', "the broker's app client id (stack output UserPoolClientId)");
}

export interface UserPoolSettings {
  region: string;
  userPoolId: string;
  /** The broker's own app client. */
  userPoolClientId: string;
  /** The user pool as a token issuer: its own app client plus `extraClientIds`. */
  userPool: TrustedIssuer;
}

/** AWS_REGION, USER_POOL_ID, USER_POOL_CLIENT_ID and USER_POOL_ISSUER (the offline stack's issuer). */
export function readUserPool(r: EnvReader, extraClientIds: readonly string[] = []): UserPoolSettings {
  const region = readRegion(r);
  const userPoolId =
    r.matching(
      'USER_POOL_ID',
      userPoolIdPattern,
      'us-east-1_AbC123',
      r.required('USER_POOL_ID', 'the Cognito user pool id (stack output UserPoolId)'),
    ) ?? '';
  const userPoolClientId = readUserPoolClientId(r);
  const issuer = r.url('USER_POOL_ISSUER') ?? `https://cognito-idp.${region}.amazonaws.com/${userPoolId}`;
  return {
    region,
    userPoolId,
    userPoolClientId,
    userPool: {
      issuer,
      clientIds: [userPoolClientId, ...extraClientIds],
      jwksUri: `${issuer}/.well-known/jwks.json`,
      algorithms: ['RS256'],
    },
  };
}

/** What the ID-token verifier needs. */
export interface TokenConfig extends UserPoolSettings {
  clockSkewSeconds: number;
  upstreamTimeoutMs: number;
}

export interface IdentityPoolSettings {
  identityPoolId: string;
  /** Endpoint override for Cognito Identity (the offline stack); undefined in AWS. */
  cognitoIdentityEndpoint: string | undefined;
}

/** IDENTITY_POOL_ID (required) and COGNITO_IDENTITY_ENDPOINT. */
export function readIdentityPool(r: EnvReader): IdentityPoolSettings {
  const identityPoolId =
    r.matching(
      'IDENTITY_POOL_ID',
      identityPoolIdPattern,
      'us-east-1:0f4c5e6a-1111-2222-3333-444455556666',
      r.required('IDENTITY_POOL_ID', 'the Cognito identity pool id (stack output IdentityPoolId)'),
    ) ?? '';
  return { identityPoolId, cognitoIdentityEndpoint: r.url('COGNITO_IDENTITY_ENDPOINT') };
}

/** ALLOWED_ORIGINS: exact origins (scheme://host[:port]) of the frontends. */
export function readOrigins(r: EnvReader, options: { required: boolean }): string[] {
  const listed = r.list('ALLOWED_ORIGINS');
  const origins: string[] = [];
  for (const value of listed) {
    try {
      const u = new URL(value);
      if (u.origin !== value.replace(/\/$/, '') || u.origin === 'null') throw new Error('not an origin');
      if (u.protocol !== 'https:' && !r.plainHttpAllowed(u.hostname)) throw new Error('not https');
      origins.push(u.origin);
    } catch {
      r.problems.push(
        `ALLOWED_ORIGINS entry "${value}" must be an https origin like https://app.example.com (no path)`,
      );
    }
  }
  if (options.required && listed.length === 0) {
    r.problems.push(
      'ALLOWED_ORIGINS is not set: the frontend origin(s); the first is where users land after sign-in and sign-out',
    );
  }
  return origins;
}

/**
 * Where a secret comes from. A plain environment value is for local runs only (refused in a deployed
 * Lambda); in AWS the value is a Secrets Manager secret id, read by auth/secrets.ts.
 */
export type SecretSetting<Plain> =
  | { source: 'environment'; value: Plain }
  | { source: 'secrets-manager'; secretId: string };

/**
 * A secret given either as a Secrets Manager id (`secretId`) or, for local runs only, as a plain value
 * (`plain`). Problems never quote the secret.
 */
export function readSecretSetting<Plain>(
  r: EnvReader,
  options: {
    plain: string;
    secretId: string;
    what: string;
    required: boolean;
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
    // Lambda sets AWS_LAMBDA_FUNCTION_NAME; sam local also sets AWS_SAM_LOCAL=true.
    const deployed =
      r.optional('AWS_LAMBDA_FUNCTION_NAME') !== undefined && r.optional('AWS_SAM_LOCAL') !== 'true';
    if (deployed) {
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
