/**
 * The broker core as the offline stack (local/), the doctor (tools/) and the benchmarks (bench/) see
 * it, imported as `#broker` (package.json "imports"). The only other way in is `#broker/claim-rules`
 * (shared/claims/privacy.ts, dependency-free, which the offline stack loads before any logger); a test
 * enforces both. The functions never import this file, so their bundles hold only what they use.
 */
export { parseCallbackConfig } from './callback/config.ts';
export { createHandler as createCredentialsHandler } from './credentials/app.ts';
export { parseCredentialsConfig } from './credentials/config.ts';
export { parseLoginConfig } from './login/config.ts';
export { parseSessionFunctionConfig } from './session/config.ts';
export { cookieSpecs, deriveKeyring } from './shared/auth/cookies.ts';
export { startLogin } from './shared/auth/login.ts';
export { sealSession, sessionCookieBudget, startSession } from './shared/auth/session.ts';
export { parseProviderTable } from './shared/claims/providers.ts';
export type { CanonicalClaims } from './shared/claims/types.ts';
export { createIdentityClient } from './shared/clients.ts';
export { type Env, isLoopback } from './shared/config.ts';
export { ConfigError } from './shared/errors.ts';
export { getIdentityId, loginsKeyFor } from './shared/identity-pool.ts';
export { createIdTokenVerifier, type IdTokenClaims } from './shared/oidc/verify.ts';
export type { UpstreamTransport } from './shared/upstream-http.ts';
