import { readSessionClient, readSessionMaxAge } from '../shared/auth/config.ts';
import { type Env, EnvReader, readClockSkew, readIdentityPool, readUserPool } from '../shared/config.ts';

/** CallbackFunction's configuration (code exchange, ID-token check, session, GetId). @throws ConfigError. */
export function parseCallbackConfig(env: Env) {
  const r = new EnvReader(env);
  const pool = readUserPool(r);
  return r.done({
    ...pool,
    clockSkewSeconds: readClockSkew(r),
    ...readSessionClient(r),
    sessionMaxAgeSeconds: readSessionMaxAge(r),
    ...readIdentityPool(r),
  });
}

export type CallbackFunctionConfig = ReturnType<typeof parseCallbackConfig>;
