import { readSessionClient } from '../shared/auth/config.ts';
import {
  type Env,
  EnvReader,
  readClockSkew,
  readIdentityPool,
  readOrigins,
  readUpstreamTimeout,
  readUserPool,
} from '../shared/config.ts';

/** Variables that turn on session support (the cookie instead of a bearer token). */
const sessionVariables = ['COGNITO_DOMAIN_URL', 'COOKIE_KEYS', 'COOKIE_KEYS_SECRET_ID'] as const;

/**
 * CredentialsFunction's configuration. `session` is undefined when none of COGNITO_DOMAIN_URL,
 * COOKIE_KEYS and COOKIE_KEYS_SECRET_ID is set (bearer tokens only); otherwise it holds what the
 * refresh_token grant and the cookie need.
 *
 * @throws ConfigError listing every problem.
 */
export function parseCredentialsConfig(env: Env) {
  const r = new EnvReader(env);
  const pool = readUserPool(r, r.list('TRUSTED_CLIENT_IDS'));
  const token = {
    ...pool,
    clockSkewSeconds: readClockSkew(r),
    upstreamTimeoutMs: readUpstreamTimeout(r),
  };
  const identityPool = readIdentityPool(r);
  const withSession = sessionVariables.some((name) => r.optional(name) !== undefined);
  const session = withSession ? { ...token, ...readSessionClient(r) } : undefined;
  return r.done({
    ...token,
    ...identityPool,
    allowedOrigins: session?.allowedOrigins ?? readOrigins(r, { required: false }),
    session: session && Object.freeze(session),
  });
}

export type CredentialsFunctionConfig = ReturnType<typeof parseCredentialsConfig>;
