import { readSessionClient } from '../shared/auth/config.ts';
import { type Env, EnvReader, readUserPool } from '../shared/config.ts';

/** LogoutFunction's configuration (revocation and Cognito's /logout). @throws ConfigError. */
export function parseLogoutConfig(env: Env) {
  const r = new EnvReader(env);
  return r.done({ ...readUserPool(r), ...readSessionClient(r) });
}

export type LogoutFunctionConfig = ReturnType<typeof parseLogoutConfig>;
