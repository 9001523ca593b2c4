import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { apiEvent } from '../../helpers/events.ts';
import { authEnv, canonicalIdmeClaims, createFakeUserPool } from '../../helpers/user-pool.ts';
import { healthyIdentityPool, identityClient, identityId } from './identity-pool-mock.ts';
import { configured, cookieValueOf, fromFrontend, invoker, signIn } from './support.ts';

async function setup() {
  const pool = await createFakeUserPool();
  const now = () => pool.clock.now * 1000;
  const env = authEnv();
  const login = invoker(configured('login', env).createHandler({ now }));
  const callback = invoker(
    configured('callback', env).createHandler({ fetch: pool.fetch, identityClient, now }),
  );
  const session = invoker(configured('session', env).createHandler({ now, fetch: pool.fetch }));
  const { sessionCookie } = await signIn(login, callback, pool);
  return { pool, session, sessionCookie };
}

const sessionEvent = (cookies: string[], headers: Record<string, string> = fromFrontend) =>
  apiEvent({ path: '/auth/session', cookies, headers });

describe('GET /auth/session', () => {
  beforeEach(healthyIdentityPool);

  it('says who is signed in: provider, identity id, canonical claims and when the session ends', async () => {
    const { pool, session, sessionCookie } = await setup();
    const result = await session(sessionEvent([sessionCookie]));
    assert.equal(result.statusCode, 200);
    const body = JSON.parse(result.body as string);
    assert.equal(body.signedIn, true);
    assert.equal(body.provider, 'IDmeSandbox');
    assert.equal(body.identityId, identityId);
    assert.deepEqual(body.claims, canonicalIdmeClaims);
    assert.equal(body.expiresAt, new Date((pool.clock.now + 43_200) * 1000).toISOString());
    assert.equal(body.signedInAt, new Date(pool.clock.now * 1000).toISOString());
  });

  it('never returns tokens', async () => {
    const { pool, session, sessionCookie } = await setup();
    const result = await session(sessionEvent([sessionCookie]));
    assert.doesNotMatch(result.body as string, /eyJ|refresh|token/i);
    assert.ok(!(result.body as string).includes((pool.refreshTokens[0] as string).slice(0, 40)));
  });

  it('answers signedIn: false without a cookie', async () => {
    const { session } = await setup();
    const result = await session(sessionEvent([]));
    assert.equal(result.statusCode, 200);
    assert.deepEqual(JSON.parse(result.body as string), { signedIn: false });
    assert.equal(result.cookies, undefined);
  });

  it('answers signedIn: false and removes a cookie that cannot be opened', async () => {
    const { session, sessionCookie } = await setup();
    const value = cookieValueOf(sessionCookie);
    const broken = `__Host-broker-session=${value.slice(0, 120)}${value[120] === 'x' ? 'y' : 'x'}${value.slice(121)}`;
    const result = await session(sessionEvent([broken]));
    assert.deepEqual(JSON.parse(result.body as string), { signedIn: false });
    assert.match((result.cookies ?? [])[0] as string, /^__Host-broker-session=; Path=\/; Max-Age=0/);
  });

  it('answers signedIn: false once the session has ended', async () => {
    const { pool, session, sessionCookie } = await setup();
    pool.clock.now += 43_200;
    const result = await session(sessionEvent([sessionCookie]));
    assert.equal(JSON.parse(result.body as string).signedIn, false);
  });

  it('answers signedIn: false, without claims, for a copy of the cookie once sign-out revoked it', async () => {
    const { pool, session, sessionCookie } = await setup();
    pool.revoked.add(pool.refreshTokens[0] as string);
    const result = await session(sessionEvent([sessionCookie]));
    assert.equal(result.statusCode, 200);
    assert.deepEqual(JSON.parse(result.body as string), { signedIn: false });
    assert.match((result.cookies ?? [])[0] as string, /^__Host-broker-session=; Path=\/; Max-Age=0/);
  });

  it('shows no claims when the session cannot be confirmed (token endpoint down): an error, not the claims', async () => {
    const { pool, session, sessionCookie } = await setup();
    pool.setFault({ status: 503 });
    const result = await session(sessionEvent([sessionCookie]));
    assert.ok(result.statusCode >= 500, `status ${result.statusCode}`);
    assert.doesNotMatch(result.body as string, /signedIn|claims/);
  });

  it('writes the rotated refresh token back when the app client rotates them', async () => {
    const { pool, session, sessionCookie } = await setup();
    pool.rotateRefreshTokens = true;
    const result = await session(sessionEvent([sessionCookie]));
    assert.equal(JSON.parse(result.body as string).signedIn, true);
    const rewritten = (result.cookies ?? [])[0] as string;
    assert.match(rewritten, /^__Host-broker-session=/);
    pool.revoked.add(pool.refreshTokens[0] as string);
    const again = await session(sessionEvent([rewritten.split(';')[0] as string]));
    assert.equal(JSON.parse(again.body as string).signedIn, true, 'the new refresh token stands');
  });

  it('tolerates a refreshed ID token dated slightly ahead (nbf) within CLOCK_SKEW_SECONDS, not beyond', async () => {
    const { pool, session, sessionCookie } = await setup();
    // oauth4webapi compares with the real clock; 30 s ahead is within the default 60 s skew.
    pool.refreshClaims = { nbf: Math.floor(Date.now() / 1000) + 30 };
    const ahead = await session(sessionEvent([sessionCookie]));
    assert.equal(JSON.parse(ahead.body as string).signedIn, true, 'a clock 30 s ahead ends no session');
    pool.refreshClaims = { nbf: Math.floor(Date.now() / 1000) + 600 };
    const farAhead = await session(sessionEvent([sessionCookie]));
    assert.equal(JSON.parse(farAhead.body as string).signedIn, false, '10 minutes ahead is refused');
  });

  it('refuses another origin', async () => {
    const { session, sessionCookie } = await setup();
    const result = await session(sessionEvent([sessionCookie], { origin: 'https://evil.example' }));
    assert.equal(result.statusCode, 403);
  });
});
