import { readSessionClient } from '../shared/auth/config.ts';
import { type Env, EnvReader, readUserPool } from '../shared/config.ts';

/**
 * SessionFunction's configuration: the session cookie, and the refresh_token grant that confirms a
 * session still stands before its claims are shown. @throws ConfigError.
 */
export function parseSessionFunctionConfig(env: Env) {
  const r = new EnvReader(env);
  return r.done({ ...readUserPool(r), ...readSessionClient(r) });
}

export type SessionFunctionConfig = ReturnType<typeof parseSessionFunctionConfig>;
