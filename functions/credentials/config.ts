import { readSessionClient } from '../shared/auth/config.ts';
import {
  type Env,
  EnvReader,
  readClockSkew,
  readIdentityPool,
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
  const withSession = sessionVariables.some((name) => r.optional(name) !== undefined);
  // The session settings include UPSTREAM_TIMEOUT_MS; read once, so a bad value is one problem.
  const sessionClient = withSession ? readSessionClient(r) : undefined;
  const token = {
    ...pool,
    clockSkewSeconds: readClockSkew(r),
    upstreamTimeoutMs: sessionClient?.upstreamTimeoutMs ?? readUpstreamTimeout(r),
  };
  return r.done({
    ...token,
    ...readIdentityPool(r),
    session: sessionClient && Object.freeze({ ...token, ...sessionClient }),
  });
}

export type CredentialsFunctionConfig = ReturnType<typeof parseCredentialsConfig>;
