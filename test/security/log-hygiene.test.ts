/**
 * Log hygiene: the full flows at log level DEBUG (sign-in with ID.me and Idura, credentials by bearer
 * token and by session, refresh, sign-out, and failures), every function log line captured (the
 * broker's functions and the pre-token-generation trigger, each in its own runtime whose output reaches this process; the stand-ins'
 * own output is not the broker's), then every line scanned for what must never be logged: tokens
 * (by shape and by the values seen in the flow), authorization codes, state and nonce, cookie values,
 * the client secret and cookie keys, AWS secret keys and session tokens, and the test identities'
 * national identifiers.
 *
 * The functions run in their own processes (local/lambda/runtime.ts); with quiet: false their output
 * lines reach this process's stdout, where they are captured.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IDME_IDENTITIES, IDURA_IDENTITIES } from '../../local/idps/identities.ts';
import type { OfflineStack } from '../../local/stack.ts';
import { startEphemeralStack } from '../../local/stack.ts';
import { captureLogs, type LogCapture } from '../helpers/log-capture.ts';
import { Browser } from '../helpers/web.ts';

let stack: OfflineStack;
let logs: LogCapture;
let api: string;

/** Every secret value seen in the flows, by what it is. */
const seen = new Map<string, string>();
const remember = (what: string, value: string | null | undefined) => {
  if (!value || value.length < 8) return;
  seen.set(value, what);
  // A token cut at its dots (a partial redaction, a split header) still leaks its parts.
  const parts = value.split('.');
  if (parts.length > 1) for (const part of parts) if (part.length >= 16) seen.set(part, `part of ${what}`);
};

function rememberBrowser(browser: Browser): void {
  for (const [name, cookie] of browser.cookies) remember(`cookie ${name}`, cookie.value);
  for (const url of browser.visited) {
    const params = new URL(url).searchParams;
    remember(`code in ${new URL(url).pathname}`, params.get('code'));
    remember('state', params.get('state'));
    remember('nonce', params.get('nonce'));
    remember('code_challenge', params.get('code_challenge'));
  }
}

/** A browser whose every Set-Cookie value is remembered, including cookies cleared later. */
class RecordingBrowser extends Browser {
  override store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      remember(`Set-Cookie ${pair.slice(0, pair.indexOf('='))}`, pair.slice(pair.indexOf('=') + 1));
    }
    super.store(response);
  }
}

async function signIn(provider: string, identity: string): Promise<Browser> {
  const browser = new RecordingBrowser();
  await browser.navigate(`${api}/auth/login?provider=${provider}&return_to=/`, { identity, stopAt: api });
  rememberBrowser(browser);
  assert.ok(browser.cookies.has('broker-session'), `${identity} signed in`);
  return browser;
}

async function credentialsBySession(browser: Browser): Promise<number> {
  const response = await browser.request(`${api}/credentials`, {
    method: 'POST',
    headers: { origin: api, accept: 'application/json' },
  });
  rememberBrowser(browser);
  const body = (await response.json()) as Record<string, string>;
  remember('AWS secret access key', body.SecretAccessKey);
  remember('AWS session token', body.Token);
  return response.status;
}

/**
 * The user pool's tokens as a non-browser client gets them: the hosted-UI flow up to the broker's
 * callback URL (which refuses it without a login-state cookie, so the code stays unused), then the
 * code exchange at the pool's token endpoint with the app client's credentials.
 */
async function poolTokens(identity: string) {
  const browser = new RecordingBrowser();
  const authorize = new URL(`${stack.userPool.url}/oauth2/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: stack.config.appClient.clientId,
    redirect_uri: `${api}/auth/callback`,
    scope: 'openid email profile',
    identity_provider: 'IDmeSandbox',
    state: 'log-hygiene-state-0001',
  }).toString();
  await browser.navigate(authorize, { identity });
  rememberBrowser(browser);
  const callback = browser.visited.map((u) => new URL(u)).find((u) => u.pathname === '/auth/callback');
  const code = callback?.searchParams.get('code');
  assert.ok(code, 'the pool redirected to the callback with a code');
  const basic = Buffer.from(`${stack.config.appClient.clientId}:${stack.config.appClient.clientSecret}`);
  const response = await fetch(`${stack.userPool.url}/oauth2/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${basic.toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: `${api}/auth/callback`,
    }),
  });
  assert.equal(response.status, 200);
  const tokens = (await response.json()) as { id_token: string; access_token: string; refresh_token: string };
  remember('ID token', tokens.id_token);
  remember('access token', tokens.access_token);
  remember('refresh token', tokens.refresh_token);
  return tokens;
}

/** Values whose appearance in any log line is a leak, whatever the flow. */
function configuredSecrets(): Map<string, string> {
  const out = new Map<string, string>([
    [stack.config.appClient.clientSecret, 'the app client secret'],
    [stack.config.upstreamSecret, 'the IdP client secret'],
  ]);
  for (const [kid, value] of Object.entries(stack.config.cookieKeys)) {
    if (kid !== 'current') out.set(value, `cookie key ${kid}`);
  }
  return out;
}

/** The national identifiers the test identities carry (SSN, CPR, personnummer, fødselsnummer). */
function nationalIdentifiers(): Map<string, string> {
  const out = new Map<string, string>();
  for (const identity of [...IDME_IDENTITIES, ...IDURA_IDENTITIES]) {
    for (const [claim, value] of Object.entries(identity.claims)) {
      if (/social|ssn|cpr|hetu|personnummer|nin$/i.test(claim) && typeof value === 'string') {
        out.set(value, `${identity.id}'s ${claim}`);
      }
    }
  }
  return out;
}

before(async () => {
  logs = captureLogs();
  // quiet: false lets the functions' runtimes write their log lines to this process's stdout (captured);
  // the stand-ins' own messages go to stderr and are not scanned.
  stack = await startEphemeralStack({ logLevel: 'debug' }, { quiet: false });
  api = stack.api.url;
});

after(async () => {
  await stack.close();
  logs.restore();
});

describe('log hygiene over the full flows at DEBUG', () => {
  it('logs at DEBUG: every function runs at the level of the template’s LoggingConfig', () => {
    for (const [id, runtime] of stack.api.functions) {
      assert.equal(runtime.environment.AWS_LAMBDA_LOG_LEVEL, 'DEBUG', id);
    }
  });

  it('runs sign-in, credentials, refresh, sign-out and failures, and no line carries a secret', async () => {
    // Sign-ins with both providers (national identifiers in every upstream answer).
    const veteran = await signIn('IDmeSandbox', 'veteran');
    const ial2 = await signIn('IDmeSandbox', 'ial2');
    const mitid = await signIn('IduraTest', 'mitid');
    const bankid = await signIn('IduraTest', 'se-bankid');
    const norway = await signIn('IduraTest', 'no-bankid');

    // Credentials by session: every call is a refresh first.
    for (const browser of [veteran, ial2, mitid, bankid, norway]) {
      assert.equal(await credentialsBySession(browser), 200);
      assert.equal(await credentialsBySession(browser), 200);
    }

    // Credentials by bearer token, then a tampered one and an access token.
    const tokens = await poolTokens('student');
    const bearer = await fetch(`${api}/credentials`, {
      headers: { authorization: `Bearer ${tokens.id_token}` },
    });
    assert.equal(bearer.status, 200);
    const body = (await bearer.json()) as Record<string, string>;
    remember('AWS secret access key', body.SecretAccessKey);
    remember('AWS session token', body.Token);
    const [h, p] = tokens.id_token.split('.');
    const tampered = `${h}.${p}.${'A'.repeat(342)}`;
    assert.equal(
      (await fetch(`${api}/credentials`, { headers: { authorization: `Bearer ${tampered}` } })).status,
      401,
    );
    assert.equal(
      (await fetch(`${api}/credentials`, { headers: { authorization: `Bearer ${tokens.access_token}` } }))
        .status,
      401,
    );

    // A replayed callback (state reused), a forged one, and a cross-site cookie request.
    const callbackUrl = veteran.visited.find((u) => new URL(u).pathname === '/auth/callback') ?? '';
    assert.equal((await fetch(callbackUrl, { redirect: 'manual' })).status, 400);
    assert.equal(
      (await fetch(`${api}/auth/callback?code=forged-code-0001&state=forged-state-0001`)).status,
      400,
    );
    const crossSite = await veteran.request(`${api}/credentials`, {
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(crossSite.status, 403);

    // Upstream failures: the token endpoint during a refresh, and a missing identity pool.
    stack.userPool.setFault({ tokenEndpoint: 'status500' });
    assert.equal(await credentialsBySession(mitid), 502);
    stack.userPool.setFault();
    // A user without cached credentials (the cache would answer without asking the pool).
    const fresh = await signIn('IduraTest', 'de-eid');
    stack.identityPool.setFault({ error: 'ResourceNotFoundException' });
    assert.equal(await credentialsBySession(fresh), 500);
    stack.identityPool.setFault();

    // Sign-out, then the old cookie refreshes no more (invalid_grant at the token endpoint).
    const stolen = new Map(veteran.cookies);
    const logout = await veteran.request(`${api}/auth/logout`, {
      method: 'POST',
      headers: { origin: api, accept: 'application/json' },
    });
    assert.equal(logout.status, 200);
    const replay = new Browser();
    for (const [name, cookie] of stolen) replay.cookies.set(name, cookie);
    assert.equal(await credentialsBySession(replay), 401);

    // Give the trigger's worker a moment to flush its last lines.
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Not vacuous: every kind of decision was logged, by the broker and by the trigger.
    const messages = new Set(logs.lines.map((l) => l.message));
    for (const expected of [
      'sign-in succeeded',
      'sign-in failed',
      'refresh succeeded',
      'refresh failed',
      'credentials succeeded',
      'credentials failed',
      'sign-out succeeded',
      'request refused',
      'claims normalized',
    ]) {
      assert.ok(messages.has(expected), `a "${expected}" line was captured`);
    }
    assert.ok(
      logs.lines.some((l) => l.level === 'ERROR'),
      'errors were logged with their causes',
    );
    assert.equal(logs.lines.filter((l) => l.level === 'UNPARSEABLE').length, 0, 'every line is JSON');

    const forbidden = new Map([...seen, ...configuredSecrets(), ...nationalIdentifiers()]);
    assert.ok(seen.size > 40, `${seen.size} secret values were seen in the flows`);
    const tokenShape = /eyJ[\w-]{10,}\.[\w-]*\./;
    const findings: string[] = [];
    for (const line of logs.raw) {
      if (tokenShape.test(line)) findings.push(`a JWT/JWE-shaped value: ${line.slice(0, 200)}`);
      for (const [value, what] of forbidden) {
        if (line.includes(value)) findings.push(`${what}: ${line.slice(0, 200)}`);
      }
    }
    assert.deepEqual(findings, [], `${logs.raw.length} lines scanned`);
    if (process.env.LOG_HYGIENE_REPORT) {
      console.error(`log hygiene: ${logs.raw.length} lines, ${forbidden.size} forbidden values`);
    }
  });
});
