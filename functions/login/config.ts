import {
  readCookieSettings,
  readHostedUi,
  readIdentityProviders,
  readScopes,
} from '../shared/auth/config.ts';
import { type Env, EnvReader, readUserPoolClientId } from '../shared/config.ts';

/** LoginFunction's configuration. @throws ConfigError listing every problem. */
export function parseLoginConfig(env: Env) {
  const r = new EnvReader(env);
  return r.done({
    userPoolClientId: readUserPoolClientId(r),
    ...readHostedUi(r),
    ...readCookieSettings(r),
    identityProviders: readIdentityProviders(r),
    scopes: readScopes(r),
  });
}

export type LoginFunctionConfig = ReturnType<typeof parseLoginConfig>;
