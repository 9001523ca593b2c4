import { readCookieSettings } from '../shared/auth/config.ts';
import { type Env, EnvReader } from '../shared/config.ts';

/** SessionFunction's configuration: only what it needs to open the session cookie. @throws ConfigError. */
export function parseSessionFunctionConfig(env: Env) {
  const r = new EnvReader(env);
  return r.done(readCookieSettings(r));
}

export type SessionFunctionConfig = ReturnType<typeof parseSessionFunctionConfig>;
