/**
 * Readers of the sign-in settings, composed by each sign-in function's own parser
 * (functions/<name>/config.ts). Secrets are never quoted in problems.
 */
import {
  type EnvReader,
  type IdentityPoolSettings,
  readOrigins,
  readSecretSetting,
  readUpstreamTimeout,
  type SecretSetting,
  type UserPoolSettings,
} from '../config.ts';
import { type CookieKeySet, cookieKeysExample, parseCookieKeySet } from './keyring.ts';

/** The user pool's OAuth endpoints, all on the hosted-UI domain. */
interface OAuthEndpoints {
  authorize: string;
  token: string;
  revoke: string;
  logout: string;
}

export interface HostedUiSettings {
  /** Hosted-UI base URL, e.g. https://<prefix>.auth.<region>.amazoncognito.com (no trailing slash). */
  cognitoDomainUrl: string;
  endpoints: OAuthEndpoints;
}

/** COGNITO_DOMAIN_URL and the endpoints derived from it. */
export function readHostedUi(r: EnvReader): HostedUiSettings {
  const cognitoDomainUrl =
    r.url(
      'COGNITO_DOMAIN_URL',
      r.required(
        'COGNITO_DOMAIN_URL',
        'the hosted-UI base URL, e.g. https://<prefix>.auth.<region>.amazoncognito.com (locally http://localhost:<port>)',
      ),
    ) ?? '';
  return {
    cognitoDomainUrl,
    endpoints: {
      authorize: `${cognitoDomainUrl}/oauth2/authorize`,
      token: `${cognitoDomainUrl}/oauth2/token`,
      revoke: `${cognitoDomainUrl}/oauth2/revoke`,
      logout: `${cognitoDomainUrl}/logout`,
    },
  };
}

/** What every function that reads or writes the broker's cookies needs. */
export interface CookieSettings {
  cookieKeys: SecretSetting<CookieKeySet>;
  /** Where the broker's API is reached, e.g. https://api.example.com (no trailing slash). */
  publicBaseUrl: string;
  /** Origin of publicBaseUrl: relative return_to paths land here. */
  selfOrigin: string;
  /** publicBaseUrl + /auth/callback, exactly as registered on the app client. */
  callbackUrl: string;
  /** Served over https: cookies get `Secure` and the `__Host-`/`__Secure-` prefixes. */
  secureCookies: boolean;
  /** Frontend origins; the first is the default return_to and the Cognito logout_uri fallback. */
  allowedOrigins: readonly string[];
  upstreamTimeoutMs: number;
}

/** COOKIE_KEYS(_SECRET_ID), PUBLIC_BASE_URL, ALLOWED_ORIGINS and UPSTREAM_TIMEOUT_MS. */
export function readCookieSettings(r: EnvReader): CookieSettings {
  const publicBaseUrl =
    r.url(
      'PUBLIC_BASE_URL',
      r.required('PUBLIC_BASE_URL', "the broker API's public origin, e.g. https://api.example.com"),
    ) ?? '';
  const base = publicBaseUrl === '' ? undefined : new URL(publicBaseUrl);
  const cookieKeys = readSecretSetting(r, {
    plain: 'COOKIE_KEYS',
    secretId: 'COOKIE_KEYS_SECRET_ID',
    what: `the cookie keys (Secrets Manager secret id holding ${cookieKeysExample})`,
    required: true,
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
  return {
    // Undefined only with a problem recorded, and then done() throws.
    cookieKeys: cookieKeys as SecretSetting<CookieKeySet>,
    publicBaseUrl,
    selfOrigin: base?.origin ?? '',
    callbackUrl: `${publicBaseUrl}/auth/callback`,
    secureCookies: base?.protocol === 'https:',
    allowedOrigins: readOrigins(r, { required: true }),
    upstreamTimeoutMs: readUpstreamTimeout(r),
  };
}

/** CLIENT_SECRET_ID, or USER_POOL_CLIENT_SECRET for local runs: for /oauth2/token and /oauth2/revoke. */
function readClientSecret(r: EnvReader): SecretSetting<string> {
  const setting = readSecretSetting(r, {
    plain: 'USER_POOL_CLIENT_SECRET',
    secretId: 'CLIENT_SECRET_ID',
    what: 'the app client secret (Secrets Manager secret id holding {"client_secret":"…"})',
    required: true,
    parse: (value) => value,
  });
  // Undefined only with a problem recorded, and then done() throws.
  return setting as SecretSetting<string>;
}

/**
 * What every function that holds a session reads: Cognito's endpoints, the cookies and the app client
 * secret (the refresh and revocation grants of /oauth2/token and /oauth2/revoke).
 */
export function readSessionClient(r: EnvReader) {
  return { ...readHostedUi(r), ...readCookieSettings(r), clientSecret: readClientSecret(r) };
}

const providerNamePattern = /^[^\s,_][^\s,]{0,30}[^\s,_]$|^[^\s,_]$/;

/** IDENTITY_PROVIDERS: the Cognito provider names a user may pick (`identity_provider`). */
export function readIdentityProviders(r: EnvReader): string[] {
  const names = r.list('IDENTITY_PROVIDERS');
  for (const name of names) {
    if (!providerNamePattern.test(name)) {
      r.problems.push(`IDENTITY_PROVIDERS entry "${name}" is not a Cognito provider name (1-32 characters)`);
    }
  }
  if (names.length === 0) {
    r.problems.push(
      'IDENTITY_PROVIDERS is not set: the Cognito provider names users may pick, e.g. IDmeSandbox,IduraTest',
    );
  }
  return names;
}

const defaultScopes = 'openid email profile';
const scopePattern = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** OAUTH_SCOPES: space-separated scopes for /oauth2/authorize; must include openid. */
export function readScopes(r: EnvReader): string {
  const scopes = (r.optional('OAUTH_SCOPES') ?? defaultScopes).split(/\s+/).filter(Boolean);
  if (!scopes.includes('openid')) {
    r.problems.push('OAUTH_SCOPES must include openid (without it Cognito issues no ID token)');
  }
  for (const scope of scopes) {
    if (!scopePattern.test(scope)) r.problems.push(`OAUTH_SCOPES entry "${scope}" is not a valid scope`);
  }
  return scopes.join(' ');
}

/** SESSION_MAX_AGE_SECONDS: the session's lifetime (keep it at most the refresh token's validity). */
export function readSessionMaxAge(r: EnvReader): number {
  return r.integer('SESSION_MAX_AGE_SECONDS', 43_200, 300, 30 * 86_400);
}

/**
 * Every sign-in setting, for the domain modules' `Pick<AuthConfig, …>`: each function's config has
 * exactly the fields its domain calls pick.
 */
export interface AuthConfig
  extends UserPoolSettings,
    HostedUiSettings,
    CookieSettings,
    // The callback resolves the identity id at sign-in (GetId).
    IdentityPoolSettings {
  clientSecret: SecretSetting<string>;
  identityProviders: readonly string[];
  scopes: string;
  sessionMaxAgeSeconds: number;
  clockSkewSeconds: number;
}
