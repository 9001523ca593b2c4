import { readSessionClient } from '../shared/auth/config.ts';
import { type Env, EnvReader, readClockSkew, readUserPool } from '../shared/config.ts';

/**
 * SessionFunction's configuration: the session cookie, and the refresh_token grant that confirms a
 * session still stands before its claims are shown (the refreshed ID token's times are checked with
 * the clock skew, as at the callback and /credentials). @throws ConfigError.
 */
export function parseSessionFunctionConfig(env: Env) {
  const r = new EnvReader(env);
  return r.done({ ...readUserPool(r), clockSkewSeconds: readClockSkew(r), ...readSessionClient(r) });
}

export type SessionFunctionConfig = ReturnType<typeof parseSessionFunctionConfig>;
