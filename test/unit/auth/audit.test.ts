import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { parseCallbackConfig } from '../../../functions/callback/config.ts';
import { parseLoginConfig } from '../../../functions/login/config.ts';
import { audit } from '../../../functions/shared/auth/audit.ts';
import { completeLogin } from '../../../functions/shared/auth/callback.ts';
import { startLogin } from '../../../functions/shared/auth/login.ts';
import { readSession } from '../../../functions/shared/auth/session.ts';
import { credentialsForSession } from '../../../functions/shared/auth/session-credentials.ts';
import { createTokenEndpoint } from '../../../functions/shared/auth/token-endpoint.ts';
import { BoundedCache } from '../../../functions/shared/bounded-cache.ts';
import { createLogger } from '../../../functions/shared/log.ts';
import { createIdTokenVerifier, type IdTokenClaims } from '../../../functions/shared/oidc/verify.ts';
import { authEnv, createFakeUserPool, testClientSecret } from '../../helpers/user-pool.ts';
import { healthyIdentityPool, identityClient, identityId } from './identity-pool-mock.ts';
import { callbackEvent, keyring, pairOf } from './support.ts';

const config = parseCallbackConfig(authEnv());
const loginConfig = parseLoginConfig(authEnv());
const forbidden = /eyJ|GARY|TWINKLE|1970-10-10|Gary\.Twinkle|refresh_token|code_verifier/;

/** completeLogin's dependencies as the callback handler wires them, against the fake user pool. */
function callbackDeps(
  pool: Awaited<ReturnType<typeof createFakeUserPool>>,
  log: ReturnType<typeof createLogger>,
) {
  return {
    config,
    keyring,
    tokenEndpoint: createTokenEndpoint(config, {
      clientSecret: async () => testClientSecret,
      fetch: pool.fetch,
    }),
    verifier: createIdTokenVerifier(config, pool.fetch),
    usedStates: new BoundedCache<string, true>(10),
    identityClient,
    nowSeconds: pool.clock.now,
    log,
  };
}

async function signInWithLog(tamperState = false) {
  const pool = await createFakeUserPool();
  const lines: string[] = [];
  const log = createLogger({ write: (line) => lines.push(line) });
  const started = await startLogin(
    { provider: 'IDmeSandbox', returnTo: '/' },
    { config: loginConfig, keyring, nowSeconds: pool.clock.now },
  );
  const query = pool.authorize(started.location);
  if (tamperState) query.set('state', 'x');
  const deps = callbackDeps(pool, log);
  const outcome = await completeLogin(callbackEvent(query, [pairOf(started.setCookie)]), deps).catch(
    (e: unknown) => e,
  );
  return { pool, lines, log, outcome, deps };
}

describe('audit lines', () => {
  beforeEach(healthyIdentityPool);

  it('one per sign-in: provider, identity id, outcome; no names, tokens or codes', async () => {
    const { lines } = await signInWithLog();
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] as string);
    assert.deepEqual(
      {
        audit: line.audit,
        outcome: line.outcome,
        provider: line.provider,
        identityId: line.identityId,
        reason: line.reason,
      },
      { audit: 'sign-in', outcome: 'success', provider: 'IDmeSandbox', identityId, reason: null },
    );
    assert.doesNotMatch(lines[0] as string, forbidden);
  });

  it('one per failed sign-in, with the reason code', async () => {
    const { lines } = await signInWithLog(true);
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] as string);
    assert.equal(line.audit, 'sign-in');
    assert.equal(line.outcome, 'failure');
    assert.equal(line.reason, 'state_mismatch');
    assert.equal(line.provider, 'IDmeSandbox');
  });

  it("a provider error logs Cognito's words and what to check (the page shows neither)", async () => {
    const pool = await createFakeUserPool();
    const lines: string[] = [];
    const started = await startLogin(
      { provider: 'IduraTest', returnTo: '/' },
      { config: loginConfig, keyring, nowSeconds: pool.clock.now },
    );
    const state = pool.authorize(started.location).get('state') as string;
    const query = new URLSearchParams({
      error: 'invalid_request',
      error_description: 'invalid token_type in idp oauth response',
      state,
    });
    await completeLogin(
      callbackEvent(query, [pairOf(started.setCookie)]),
      callbackDeps(pool, createLogger({ write: (line) => lines.push(line) })),
    );
    const detail = lines.map((l) => JSON.parse(l)).find((l) => l.checks !== undefined);
    assert.ok(detail, lines.join('\n'));
    assert.equal(detail.error, 'idp_userinfo_not_json');
    assert.equal(detail.cognitoDescription, 'invalid token_type in idp oauth response');
    assert.equal(detail.vouched, true);
    assert.match(detail.checks.join(' '), /plainJson/);
  });

  it('one per refresh', async () => {
    const { pool, outcome, deps } = await signInWithLog();
    assert.ok(typeof outcome === 'object' && outcome !== null && 'cookies' in outcome);
    const sessionCookie = (outcome as { cookies: string[] }).cookies
      .map(pairOf)
      .find((c) => c.includes('session='));
    const { session } = await readSession(
      { cookies: [sessionCookie as string], headers: {} },
      keyring,
      { name: '__Host-broker-session', path: '/', secure: true },
      pool.clock.now,
    );
    assert.ok(session);
    const lines: string[] = [];
    await credentialsForSession(session, {
      tokenEndpoint: deps.tokenEndpoint,
      issue: async (idToken) => {
        const { claims } = await deps.verifier.verify(idToken);
        return {
          identityId,
          claims: claims as IdTokenClaims,
          cached: false,
          credentials: { accessKeyId: 'a', secretAccessKey: 's', sessionToken: 't', expiration: new Date() },
        };
      },
      log: createLogger({ write: (line) => lines.push(line) }),
    });
    assert.equal(lines.length, 1);
    const line = JSON.parse(lines[0] as string);
    assert.equal(line.audit, 'refresh');
    assert.equal(line.outcome, 'success');
    assert.equal(line.identityId, identityId);
    assert.doesNotMatch(lines[0] as string, forbidden);
  });

  it('writes only the allow-listed fields', () => {
    const lines: string[] = [];
    audit(createLogger({ write: (l) => lines.push(l) }), 'credentials', 'success', {
      provider: 'IduraTest',
      identityId,
      via: 'session',
      ...({ name: 'GARY', idToken: 'eyJabc.def.ghi' } as object),
    });
    const line = JSON.parse(lines[0] as string);
    assert.deepEqual(Object.keys(line).sort(), [
      'audit',
      'identityId',
      'level',
      'message',
      'outcome',
      'provider',
      'reason',
      'timestamp',
      'via',
    ]);
  });
});
