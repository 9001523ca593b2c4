/**
 * The smoke test's checks: everything a deployed broker must answer before a person ever signs in.
 * Each check sends real HTTP requests to the target and reports what it saw and, on failure, what to
 * fix. Nothing here signs anyone in: no check needs a person at ID.me or Idura.
 */
import { generateKeyPair, SignJWT } from 'jose';
import type { SmokeProvider, SmokeTarget } from './target.ts';

export interface SmokeResult {
  /** Stable name, e.g. `credentials.unauthenticated`. */
  readonly check: string;
  readonly ok: boolean;
  /** What was seen (on success: what passed). */
  readonly detail: string;
  /** What to change; present on every failure. */
  readonly fix?: string;
}

export interface SmokeDeps {
  readonly fetch?: typeof fetch;
  /** Per request. */
  readonly timeoutMs?: number;
}

/** An origin no deployment allows (RFC 2606 reserves .invalid). */
const foreignOrigin = 'https://smoke-test.invalid';

type Fetch = typeof fetch;

class Check {
  private readonly problems: Array<{ problem: string; fix: string }> = [];
  readonly name: string;
  readonly what: string;

  constructor(name: string, what: string) {
    this.name = name;
    this.what = what;
  }

  expect(condition: boolean, problem: string, fix: string): boolean {
    if (!condition) this.problems.push({ problem, fix });
    return condition;
  }

  get failed(): boolean {
    return this.problems.length > 0;
  }

  result(): SmokeResult {
    if (this.problems.length === 0) return { check: this.name, ok: true, detail: this.what };
    return {
      check: this.name,
      ok: false,
      detail: `${this.what}: ${this.problems.map((p) => p.problem).join('; ')}`,
      fix: [...new Set(this.problems.map((p) => p.fix))].join(' '),
    };
  }
}

const deployFix =
  'Deploy the current template.yaml (npm run sam:build, then sam deploy) and run the smoke test again.';
const corsFix = (origin: string) =>
  `List ${origin} exactly (scheme, host, port; no trailing slash) in the FrontendOrigins parameter: it sets both the HTTP API's CORS and the functions' ALLOWED_ORIGINS.`;

async function readJson(response: Response): Promise<Record<string, unknown> | undefined> {
  try {
    const body: unknown = await response.json();
    return typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The broker's error format and the headers on every one of its answers. */
function expectBrokerAnswer(
  check: Check,
  response: Response,
  body: Record<string, unknown> | undefined,
  want: { status: number; error?: string },
): void {
  const got = body?.error === undefined ? '' : ` (${String(body.error)}: ${String(body.message ?? '')})`;
  if (response.status === 404 || (response.status === 403 && body?.message === 'Forbidden')) {
    check.expect(
      false,
      `${response.status}: API Gateway has no such route`,
      `${deployFix} Check that PublicOrigin points at this stack's API (a custom domain needs its API mapping).`,
    );
    return;
  }
  check.expect(
    response.status === want.status,
    `status ${response.status}${got}, expected ${want.status}${want.error ? ` ${want.error}` : ''}`,
    response.status >= 500
      ? "Read the function's log (CloudWatch, the line with this request's requestId): it names the setting to fix."
      : deployFix,
  );
  if (want.error !== undefined) {
    check.expect(
      body?.error === want.error && typeof body.message === 'string' && typeof body.requestId === 'string',
      `body is not the broker's error {error: "${want.error}", message, requestId}${got}`,
      deployFix,
    );
  }
  check.expect(
    response.headers.get('cache-control') === 'no-store',
    `Cache-Control is ${response.headers.get('cache-control') ?? 'missing'}, expected no-store`,
    `${deployFix} Nothing between the API and the client (a CDN in front of the custom domain) may rewrite Cache-Control.`,
  );
  check.expect(
    response.headers.get('x-content-type-options') === 'nosniff',
    'X-Content-Type-Options nosniff is missing',
    deployFix,
  );
}

function expectCors(check: Check, response: Response, origin: string, allowed: boolean): void {
  const allowOrigin = response.headers.get('access-control-allow-origin');
  if (allowed) {
    check.expect(
      allowOrigin === origin,
      `Access-Control-Allow-Origin is ${allowOrigin ?? 'missing'} for the allowed origin ${origin}`,
      corsFix(origin),
    );
    check.expect(
      response.headers.get('access-control-allow-credentials') === 'true',
      'Access-Control-Allow-Credentials is not true (browsers drop the answer to a credentials request)',
      "Keep AllowCredentials: true in the template's Globals HttpApi CorsConfiguration.",
    );
  } else {
    check.expect(
      allowOrigin === null,
      `Access-Control-Allow-Origin is ${allowOrigin} for ${origin}, which no deployment allows`,
      'Never allow * or a pattern in FrontendOrigins: list exact origins only.',
    );
  }
}

/** What a browser renders or follows must carry these (functions/shared/http.ts documentHeaders). */
function expectDocumentHeaders(check: Check, response: Response, https: boolean): void {
  const csp = response.headers.get('content-security-policy') ?? '';
  check.expect(
    /default-src 'none'/.test(csp) && /frame-ancestors 'none'/.test(csp),
    `Content-Security-Policy is "${csp}"`,
    deployFix,
  );
  check.expect(
    response.headers.get('x-frame-options') === 'DENY',
    'X-Frame-Options DENY is missing',
    deployFix,
  );
  check.expect(
    response.headers.get('referrer-policy') === 'no-referrer',
    'Referrer-Policy no-referrer is missing',
    deployFix,
  );
  check.expect(
    response.headers.get('cache-control') === 'no-store',
    'Cache-Control no-store is missing',
    deployFix,
  );
  if (https) {
    check.expect(
      /^max-age=\d+/.test(response.headers.get('strict-transport-security') ?? ''),
      'Strict-Transport-Security is missing over https',
      'PublicOrigin (PUBLIC_BASE_URL) must be the https origin the API is served at.',
    );
  }
}

/** A JWT any verifier can parse, signed by a key nobody trusts, from an issuer no deployment has. */
async function foreignToken(): Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ token_use: 'id', email: 'smoke@smoke-test.invalid' })
    .setProtectedHeader({ alg: 'RS256', kid: 'smoke-test', typ: 'JWT' })
    .setIssuer(`${foreignOrigin}/us-east-1_SmokeTest`)
    .setSubject('smoke-test')
    .setAudience('smoke-test')
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(privateKey);
}

interface Ctx {
  readonly target: SmokeTarget;
  readonly fetch: Fetch;
  readonly timeoutMs: number;
  readonly https: boolean;
}

function request(ctx: Ctx, url: string, init: RequestInit = {}): Promise<Response> {
  return ctx.fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(ctx.timeoutMs), ...init });
}

async function credentialsChecks(ctx: Ctx): Promise<SmokeResult[]> {
  const { target } = ctx;
  const url = `${target.publicOrigin}/credentials`;
  const out: SmokeResult[] = [];

  const anon = new Check(
    'credentials.unauthenticated',
    'GET /credentials without a token: 401 unauthenticated',
  );
  const response = await request(ctx, url, { headers: { origin: target.frontendOrigin } });
  expectBrokerAnswer(anon, response, await readJson(response), { status: 401, error: 'unauthenticated' });
  anon.expect(
    /^Bearer\b/.test(response.headers.get('www-authenticate') ?? ''),
    'WWW-Authenticate: Bearer is missing',
    deployFix,
  );
  expectCors(anon, response, target.frontendOrigin, true);
  out.push(anon.result());

  const post = new Check('credentials.post', 'POST /credentials without a token: 401 unauthenticated');
  const posted = await request(ctx, url, { method: 'POST', headers: { origin: target.frontendOrigin } });
  expectBrokerAnswer(post, posted, await readJson(posted), { status: 401, error: 'unauthenticated' });
  out.push(post.result());

  const cors = new Check(
    'credentials.cors-foreign-origin',
    `GET /credentials from ${foreignOrigin}: no CORS headers`,
  );
  const foreign = await request(ctx, url, { headers: { origin: foreignOrigin } });
  expectCors(cors, foreign, foreignOrigin, false);
  out.push(cors.result());

  const malformed = new Check(
    'credentials.invalid-request',
    'GET /credentials with "Authorization: Basic …": 400 invalid_request',
  );
  const basic = await request(ctx, url, { headers: { authorization: 'Basic c21va2U6dGVzdA==' } });
  expectBrokerAnswer(malformed, basic, await readJson(basic), { status: 400, error: 'invalid_request' });
  out.push(malformed.result());

  const untrusted = new Check(
    'credentials.untrusted-issuer',
    'GET /credentials with a well-formed token from a foreign issuer: 401 untrusted_issuer',
  );
  const forged = await request(ctx, url, { headers: { authorization: `Bearer ${await foreignToken()}` } });
  const forgedBody = await readJson(forged);
  expectBrokerAnswer(untrusted, forged, forgedBody, { status: 401, error: 'untrusted_issuer' });
  untrusted.expect(
    /error="invalid_token"/.test(forged.headers.get('www-authenticate') ?? ''),
    'WWW-Authenticate lacks error="invalid_token"',
    deployFix,
  );
  out.push(untrusted.result());

  const preflight = new Check(
    'credentials.preflight',
    `OPTIONS /credentials (CORS preflight) from ${target.frontendOrigin}`,
  );
  const options = await request(ctx, url, {
    method: 'OPTIONS',
    headers: {
      origin: target.frontendOrigin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type',
    },
  });
  preflight.expect(
    options.status >= 200 && options.status < 300,
    `status ${options.status}`,
    corsFix(target.frontendOrigin),
  );
  expectCors(preflight, options, target.frontendOrigin, true);
  out.push(preflight.result());
  return out;
}

async function sessionChecks(ctx: Ctx): Promise<SmokeResult[]> {
  const { target } = ctx;
  const out: SmokeResult[] = [];

  const session = new Check(
    'session.signed-out',
    'GET /auth/session without a cookie: 200 {signedIn: false}',
  );
  const response = await request(ctx, `${target.publicOrigin}/auth/session`, {
    headers: { origin: target.frontendOrigin },
  });
  const body = await readJson(response);
  expectBrokerAnswer(session, response, body, { status: 200 });
  session.expect(body?.signedIn === false, `body is ${JSON.stringify(body)}`, deployFix);
  expectCors(session, response, target.frontendOrigin, true);
  out.push(session.result());

  const logout = new Check(
    'logout.no-session',
    "POST /auth/logout without a session: 200 with Cognito's /logout URL",
  );
  const signedOut = await request(ctx, `${target.publicOrigin}/auth/logout`, {
    method: 'POST',
    headers: { origin: target.frontendOrigin, accept: 'application/json' },
  });
  const logoutBody = await readJson(signedOut);
  expectBrokerAnswer(logout, signedOut, logoutBody, { status: 200 });
  let logoutUrl: URL | undefined;
  try {
    logoutUrl = new URL(String(logoutBody?.logoutUrl));
  } catch {
    logoutUrl = undefined;
  }
  if (
    logout.expect(logoutUrl !== undefined, `no logoutUrl in ${JSON.stringify(logoutBody)}`, deployFix) &&
    logoutUrl !== undefined
  ) {
    logout.expect(
      `${logoutUrl.origin}${logoutUrl.pathname}` === `${target.hostedUiUrl}/logout`,
      `logoutUrl goes to ${logoutUrl.origin}${logoutUrl.pathname}, expected ${target.hostedUiUrl}/logout`,
      'COGNITO_DOMAIN_URL must be the hosted UI of this stack (HostedUiDomainPrefix and the region).',
    );
    logout.expect(
      logoutUrl.searchParams.get('client_id') === target.appClientId,
      `logoutUrl client_id is ${logoutUrl.searchParams.get('client_id')}, expected ${target.appClientId}`,
      "USER_POOL_CLIENT_ID must be the stack's app client (UserPoolClientId output).",
    );
    logout.expect(
      logoutUrl.searchParams.get('logout_uri') === target.frontendOrigin,
      `logoutUrl logout_uri is ${logoutUrl.searchParams.get('logout_uri')}, expected ${target.frontendOrigin}`,
      corsFix(target.frontendOrigin),
    );
  }
  expectCors(logout, signedOut, target.frontendOrigin, true);
  out.push(logout.result());

  const crossSite = new Check(
    'logout.cross-site',
    `POST /auth/logout from ${foreignOrigin}: 403 origin_not_allowed`,
  );
  const refused = await request(ctx, `${target.publicOrigin}/auth/logout`, {
    method: 'POST',
    headers: { origin: foreignOrigin, accept: 'application/json' },
  });
  expectBrokerAnswer(crossSite, refused, await readJson(refused), {
    status: 403,
    error: 'origin_not_allowed',
  });
  out.push(crossSite.result());

  const callback = new Check(
    'callback.no-login-state',
    'GET /auth/callback without the sign-in cookie: 400 login_state_missing',
  );
  const cb = await request(ctx, `${target.publicOrigin}/auth/callback?code=smoke&state=smoke`, {
    headers: { accept: 'application/json' },
  });
  expectBrokerAnswer(callback, cb, await readJson(cb), { status: 400, error: 'login_state_missing' });
  out.push(callback.result());

  const noProvider = new Check(
    'login.no-provider',
    'GET /auth/login without a provider: 400 unknown_provider',
  );
  const login = await request(ctx, `${target.publicOrigin}/auth/login`, {
    headers: { accept: 'application/json' },
  });
  expectBrokerAnswer(noProvider, login, await readJson(login), { status: 400, error: 'unknown_provider' });
  out.push(noProvider.result());
  return out;
}

async function providerChecks(ctx: Ctx, provider: SmokeProvider): Promise<SmokeResult[]> {
  const { target } = ctx;
  const out: SmokeResult[] = [];
  const login = new Check(
    `login.${provider.name}`,
    `GET /auth/login?provider=${provider.name}: 302 to the hosted UI with PKCE, state and nonce`,
  );
  const response = await request(
    ctx,
    `${target.publicOrigin}/auth/login?provider=${encodeURIComponent(provider.name)}&return_to=%2F`,
  );
  const body = response.status === 302 ? undefined : await readJson(response);
  if (response.status !== 302) {
    expectBrokerAnswer(login, response, body, { status: 302 });
    if (body?.error === 'unknown_provider') {
      login.expect(
        false,
        `the login function does not offer ${provider.name}`,
        `IDENTITY_PROVIDERS of LoginFunction must list ${provider.name} (template: !Join of the provider resources).`,
      );
    }
    out.push(login.result());
    return out;
  }
  expectDocumentHeaders(login, response, ctx.https);
  const location = new URL(response.headers.get('location') ?? 'about:blank');
  const q = location.searchParams;
  login.expect(
    `${location.origin}${location.pathname}` === `${target.hostedUiUrl}/oauth2/authorize`,
    `redirects to ${location.origin}${location.pathname}, expected ${target.hostedUiUrl}/oauth2/authorize`,
    "COGNITO_DOMAIN_URL must be this stack's hosted UI, https://<HostedUiDomainPrefix>.auth.<region>.amazoncognito.com.",
  );
  login.expect(
    q.get('client_id') === target.appClientId,
    `client_id ${q.get('client_id')}, expected ${target.appClientId}`,
    "USER_POOL_CLIENT_ID must be the stack's app client (UserPoolClientId output).",
  );
  login.expect(
    q.get('redirect_uri') === `${target.publicOrigin}/auth/callback`,
    `redirect_uri ${q.get('redirect_uri')}, expected ${target.publicOrigin}/auth/callback`,
    "PUBLIC_BASE_URL must be the API's public origin: deploy with ApiDomainName (or PublicBaseUrl for bearer-only use) set to it.",
  );
  login.expect(
    q.get('identity_provider') === provider.name,
    `identity_provider ${q.get('identity_provider')}`,
    deployFix,
  );
  login.expect(q.get('response_type') === 'code', `response_type ${q.get('response_type')}`, deployFix);
  login.expect(
    q.get('code_challenge_method') === 'S256' && /^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') ?? ''),
    'no PKCE S256 code_challenge',
    deployFix,
  );
  login.expect((q.get('state') ?? '').length >= 22, 'no state (or a short one)', deployFix);
  login.expect((q.get('nonce') ?? '').length >= 22, 'no nonce (or a short one)', deployFix);
  login.expect(
    (q.get('scope') ?? '').split(' ').includes('openid'),
    `scope "${q.get('scope')}" lacks openid`,
    'OAUTH_SCOPES must include openid.',
  );
  const cookie = response.headers.get('set-cookie') ?? '';
  login.expect(
    /HttpOnly/i.test(cookie) && /SameSite=Lax/i.test(cookie) && (!ctx.https || /;\s*Secure/i.test(cookie)),
    `the sign-in cookie is "${cookie.split(';').slice(1).join(';').trim()}", expected HttpOnly, SameSite=Lax${ctx.https ? ', Secure' : ''}`,
    deployFix,
  );
  out.push(login.result());
  if (login.failed) return out;

  // Cognito's /oauth2/authorize with identity_provider sends the browser straight to the IdP.
  const federation = new Check(
    `hosted-ui.${provider.name}`,
    `the hosted UI's /oauth2/authorize sends ${provider.name} sign-ins to ${provider.issuer} with the right client_id, scope and redirect_uri`,
  );
  let authorizeEndpoint: string | undefined;
  try {
    const discovery = await request(
      ctx,
      `${provider.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
    );
    const endpoint = (await readJson(discovery))?.authorization_endpoint;
    authorizeEndpoint = typeof endpoint === 'string' && endpoint !== '' ? endpoint : undefined;
  } catch {
    authorizeEndpoint = undefined;
  }
  federation.expect(
    authorizeEndpoint !== undefined,
    `${provider.issuer}/.well-known/openid-configuration names no authorization_endpoint`,
    `Check the provider's oidc_issuer (${provider.issuer}) and that the IdP is reachable.`,
  );
  const hop = await request(ctx, location.href);
  const next = new URL(hop.headers.get('location') ?? 'about:blank');
  const nq = next.searchParams;
  if (`${next.origin}${next.pathname}` === `${target.publicOrigin}/auth/callback`) {
    federation.expect(
      false,
      `Cognito answered with error ${nq.get('error')}: ${nq.get('error_description')}`,
      `Enable ${provider.name} on the app client (SupportedIdentityProviders) and register ${target.publicOrigin}/auth/callback in its CallbackURLs.`,
    );
    out.push(federation.result());
    return out;
  }
  federation.expect(
    hop.status === 302 || hop.status === 303,
    `the hosted UI answered ${hop.status}${hop.status === 400 ? ' (redirect_mismatch or an unknown client)' : ''}`,
    `Register exactly ${target.publicOrigin}/auth/callback in the app client's CallbackURLs, and enable ${provider.name} on it.`,
  );
  if (authorizeEndpoint !== undefined && !federation.failed) {
    federation.expect(
      `${next.origin}${next.pathname}` === authorizeEndpoint,
      `the hosted UI redirects to ${next.origin}${next.pathname}, expected ${authorizeEndpoint}`,
      `Set the Cognito provider's oidc_issuer to ${provider.issuer}.`,
    );
    federation.expect(
      nq.get('client_id') === provider.clientId,
      `client_id ${nq.get('client_id')}, expected ${provider.clientId}`,
      `Set the ${provider.name} client id parameter to the client id the IdP issued.`,
    );
    federation.expect(
      nq.get('redirect_uri') === target.idpResponseUrl,
      `redirect_uri ${nq.get('redirect_uri')}, expected ${target.idpResponseUrl} (the IdpResponseUrl output)`,
      `Register ${target.idpResponseUrl} at the IdP; check HostedUiDomainPrefix and the region.`,
    );
    const scopes = (nq.get('scope') ?? '').split(/\s+/);
    federation.expect(
      provider.scopes.every((s) => scopes.includes(s)),
      `scope "${nq.get('scope')}", expected ${provider.scopes.join(' ')}`,
      `Set the provider's authorize_scopes to "${provider.scopes.join(' ')}" (ID.me: "openid <your policy handle>").`,
    );
    federation.expect(
      nq.get('response_type') === 'code',
      `response_type ${nq.get('response_type')}`,
      deployFix,
    );
  }
  out.push(federation.result());
  return out;
}

async function userPoolChecks(ctx: Ctx): Promise<SmokeResult[]> {
  const { target } = ctx;
  const check = new Check('user-pool.discovery', `${target.userPoolIssuer}: discovery and JWKS answer`);
  const discovery = await request(ctx, `${target.userPoolIssuer}/.well-known/openid-configuration`);
  const doc = await readJson(discovery);
  check.expect(
    discovery.status === 200 && doc?.issuer === target.userPoolIssuer,
    `discovery answered ${discovery.status} with issuer ${String(doc?.issuer)}`,
    'The UserPoolIssuer output must be https://cognito-idp.<region>.amazonaws.com/<UserPoolId>; check --region.',
  );
  if (typeof doc?.jwks_uri === 'string') {
    const jwks = await request(ctx, doc.jwks_uri);
    const keys = (await readJson(jwks))?.keys;
    check.expect(
      jwks.status === 200 &&
        Array.isArray(keys) &&
        keys.length > 0 &&
        keys.every(
          (k) => (k as { kty?: string }).kty === 'RSA' && typeof (k as { kid?: string }).kid === 'string',
        ),
      `JWKS ${doc.jwks_uri} answered ${jwks.status} without RSA keys`,
      'The user pool must publish its signing keys; check the UserPoolId output and the region.',
    );
  } else {
    check.expect(false, 'discovery has no jwks_uri', 'Check the UserPoolIssuer output and --region.');
  }
  return [check.result()];
}

/** A failed request (refused, timed out, DNS) as a result instead of an exception. */
async function guarded(
  name: string,
  run: () => Promise<SmokeResult[]>,
  target: SmokeTarget,
): Promise<SmokeResult[]> {
  try {
    return await run();
  } catch (error) {
    const reason =
      error instanceof Error
        ? `${error.name}: ${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}`
        : String(error);
    return [
      {
        check: name,
        ok: false,
        detail: `request failed: ${reason}`,
        fix: `Check that ${target.publicOrigin} resolves and answers over ${target.publicOrigin.split(':')[0]} (DNS to the ApiDomainTarget output for a custom domain), and that the stack is deployed.`,
      },
    ];
  }
}

/**
 * Runs every check against the target.
 *
 * @example const results = await runSmoke(targetFromOfflineStack(stack));
 */
export async function runSmoke(target: SmokeTarget, deps: SmokeDeps = {}): Promise<SmokeResult[]> {
  const ctx: Ctx = {
    target,
    fetch: deps.fetch ?? fetch,
    timeoutMs: deps.timeoutMs ?? 10_000,
    https: target.publicOrigin.startsWith('https:'),
  };
  const results: SmokeResult[] = [];
  results.push(...(await guarded('credentials', () => credentialsChecks(ctx), target)));
  results.push(...(await guarded('session', () => sessionChecks(ctx), target)));
  for (const provider of target.providers) {
    results.push(...(await guarded(`login.${provider.name}`, () => providerChecks(ctx, provider), target)));
  }
  results.push(...(await guarded('user-pool', () => userPoolChecks(ctx), target)));
  return results;
}

/** The report: one line per check, the fix under each failure, and a last line with the counts. */
export function renderSmoke(target: SmokeTarget, results: readonly SmokeResult[]): string {
  const lines = [
    `Smoke test of ${target.label}`,
    `  broker ${target.publicOrigin}, frontend ${target.frontendOrigin}`,
    '',
  ];
  for (const r of results) {
    lines.push(`  ${r.ok ? 'ok  ' : 'FAIL'} ${r.check.padEnd(34)} ${r.detail}`);
    if (!r.ok && r.fix) lines.push(`       fix: ${r.fix}`);
  }
  const failed = results.filter((r) => !r.ok).length;
  lines.push('', `Result: ${failed} failed, ${results.length - failed} passed`, '');
  return lines.join('\n');
}
