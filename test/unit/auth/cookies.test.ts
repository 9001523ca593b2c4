import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import {
  CookieRejectedError,
  clearCookie,
  cookieSpecs,
  cookieValues,
  deriveKeyring,
  openCookie,
  packCompactToken,
  sealCookie,
  setCookie,
  unpackCompactToken,
} from '../../../functions/shared/auth/cookies.ts';
import {
  readSession,
  sealSession,
  sessionCookieBudget,
  startSession,
} from '../../../functions/shared/auth/session.ts';
import type { IdTokenClaims } from '../../../functions/shared/oidc/verify.ts';
import { cognitoIdClaims } from '../../helpers/tokens.ts';
import { canonicalIdmeClaims, realisticRefreshToken, testCookieKeys } from '../../helpers/user-pool.ts';
import { keyring } from './support.ts';

const now = 1_800_000_000;
const secrets = { k1: testCookieKeys.k1, k2: testCookieKeys.k2 };
const rejects = (promise: Promise<unknown>, reason: string) =>
  assert.rejects(promise, (e: unknown) => e instanceof CookieRejectedError && e.reason === reason);

describe('sealed cookies', () => {
  it('round-trip their fields and token, with the current key id and purpose in the protected header', async () => {
    const token = await realisticRefreshToken();
    const value = await sealCookie('session', { meta: { exp: now + 60, a: 'b' }, token }, keyring);
    assert.deepEqual(decodeProtectedHeader(value), {
      alg: 'dir',
      enc: 'A256GCM',
      kid: 'k2',
      typ: 'broker-session',
    });
    const opened = await openCookie(value, 'session', keyring, now);
    assert.deepEqual(opened.meta, { exp: now + 60, a: 'b' });
    assert.equal(opened.token, token);
  });

  it('open when sealed with an older key that is still in the set (rotation)', async () => {
    const old = deriveKeyring({ current: 'k1', secrets: { k1: testCookieKeys.k1 } });
    const value = await sealCookie('session', { meta: { exp: now + 60 } }, old);
    const opened = await openCookie(value, 'session', keyring, now);
    assert.equal(opened.kid, 'k1');
  });

  it('are refused once their key is retired from the set', async () => {
    const value = await sealCookie('session', { meta: { exp: now + 60 } }, keyring);
    const retired = deriveKeyring({
      current: 'k3',
      secrets: { k3: 'a-brand-new-cookie-key-0123456789abcdef' },
    });
    await rejects(openCookie(value, 'session', retired, now), 'unknown_key');
  });

  it('are refused when sealed by another deployment with the same key id (foreign key)', async () => {
    const foreign = deriveKeyring({
      current: 'k2',
      secrets: { k2: 'another-deployment-key-0123456789abcdef' },
    });
    const value = await sealCookie('session', { meta: { exp: now + 60 } }, foreign);
    await rejects(openCookie(value, 'session', keyring, now), 'tampered');
  });

  it('are refused when any part was altered', async () => {
    const value = await sealCookie('session', { meta: { exp: now + 60 } }, keyring);
    const parts = value.split('.');
    for (const index of [2, 3, 4]) {
      const altered = [...parts];
      const part = altered[index] as string;
      altered[index] = `${part[0] === 'A' ? 'B' : 'A'}${part.slice(1)}`;
      await rejects(openCookie(altered.join('.'), 'session', keyring, now), 'tampered');
    }
  });

  it('are refused when the protected header was swapped (kid is authenticated too)', async () => {
    const value = await sealCookie('session', { meta: { exp: now + 60 } }, keyring);
    const header = Buffer.from(
      JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 'k1', typ: 'broker-session' }),
    ).toString('base64url');
    await rejects(
      openCookie([header, ...value.split('.').slice(1)].join('.'), 'session', keyring, now),
      'tampered',
    );
  });

  it('are refused for another purpose (a login-state cookie is not a session)', async () => {
    const value = await sealCookie('login-state', { meta: { exp: now + 60 } }, keyring);
    await rejects(openCookie(value, 'session', keyring, now), 'wrong_purpose');
  });

  it('are refused after exp', async () => {
    const value = await sealCookie('session', { meta: { exp: now } }, keyring);
    await rejects(openCookie(value, 'session', keyring, now), 'expired');
  });

  it('are refused when malformed or oversized', async () => {
    await rejects(openCookie('not-a-jwe', 'session', keyring, now), 'malformed');
    await rejects(openCookie('a'.repeat(5000), 'session', keyring, now), 'too_large');
  });

  it('derive different keys for different key ids, even from the same secret', () => {
    const ring = deriveKeyring({ current: 'a', secrets: { a: testCookieKeys.k1, b: testCookieKeys.k1 } });
    assert.notDeepEqual(ring.keys.get('a'), ring.keys.get('b'));
    assert.equal(deriveKeyring({ current: 'k1', secrets }).keys.get('k1')?.length, 32);
  });
});

describe('packCompactToken', () => {
  it('stores a JWE refresh token as bytes and restores it exactly (25% smaller)', async () => {
    const token = await realisticRefreshToken();
    const packed = packCompactToken(token);
    assert.equal(unpackCompactToken(packed), token);
    assert.ok(packed.length < token.length * 0.78, `${packed.length} vs ${token.length}`);
  });

  it('keeps tokens that would not survive the round trip as text', () => {
    for (const token of ['opaque token with spaces', 'abc.de=.f', 'AB.AC']) {
      assert.equal(unpackCompactToken(packCompactToken(token)), token);
    }
  });
});

describe('Set-Cookie lines', () => {
  const specs = cookieSpecs({ secureCookies: true, callbackUrl: 'https://api.example.com/auth/callback' });

  it('use __Host- for the session (Path=/) and __Secure- for the path-scoped login state', () => {
    assert.deepEqual(specs.session, { name: '__Host-broker-session', path: '/', secure: true });
    assert.deepEqual(specs.loginState, {
      name: '__Secure-broker-login',
      path: '/auth/callback',
      secure: true,
    });
    assert.equal(
      setCookie(specs.session, 'v', 100),
      '__Host-broker-session=v; Path=/; Max-Age=100; HttpOnly; Secure; SameSite=Lax',
    );
  });

  it('clear with the same name, path and attributes', () => {
    assert.equal(
      clearCookie(specs.loginState),
      '__Secure-broker-login=; Path=/auth/callback; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    );
  });

  it('are read from event.cookies or a Cookie header, every value of the name', () => {
    assert.deepEqual(cookieValues({ cookies: ['a=1', 'b=2', 'a=3'], headers: {} }, 'a'), ['1', '3']);
    assert.deepEqual(cookieValues({ headers: { Cookie: 'x=1; a=2=3' } }, 'a'), ['2=3']);
  });
});

describe('the session cookie', () => {
  const spec = { name: '__Host-broker-session', path: '/', secure: true };

  async function realisticSession(extra: Record<string, unknown> = {}) {
    const claims = { ...cognitoIdClaims(undefined, now), ...canonicalIdmeClaims, ...extra } as IdTokenClaims;
    return startSession({
      claims,
      refreshToken: await realisticRefreshToken(),
      provider: 'IDmeSandbox',
      identityId: 'us-east-1:0a1b2c3d-1111-2222-3333-444455556666',
      nowSeconds: now,
      maxAgeSeconds: 43_200,
    });
  }

  it('stays well under 4096 bytes with a Cognito-sized refresh token and ID.me claims (measured: ~2.8 KB)', async () => {
    const session = await realisticSession();
    const sealed = await sealSession(session, keyring, spec, now);
    assert.ok(session.refreshToken.length > 1700, 'refresh token is Cognito-sized');
    assert.ok(sealed.bytes < 3000, `session Set-Cookie is ${sealed.bytes} bytes`);
    assert.equal(sealed.session.claimsTrimmed, false);
  });

  it('trims the claims to the essentials rather than exceed the budget (long names)', async () => {
    const session = await realisticSession({ given_name: 'G'.repeat(1200), family_name: 'T'.repeat(1200) });
    const sealed = await sealSession(session, keyring, spec, now);
    assert.ok(sealed.bytes <= sessionCookieBudget);
    assert.equal(sealed.session.claimsTrimmed, true);
    assert.deepEqual(Object.keys(sealed.session.claims).sort(), [
      'assurance_level',
      'claims_schema',
      'idp',
      'idp_env',
    ]);
  });

  it('reads back exactly what was sealed', async () => {
    const session = await realisticSession();
    const sealed = await sealSession(session, keyring, spec, now);
    const read = await readSession(
      { cookies: [sealed.setCookie.split(';')[0] as string], headers: {} },
      keyring,
      spec,
      now + 10,
    );
    assert.deepEqual(read.session, session);
  });

  it('ignores a planted cookie of the same name and opens the real one', async () => {
    const session = await realisticSession();
    const sealed = await sealSession(session, keyring, spec, now);
    const read = await readSession(
      { cookies: ['__Host-broker-session=planted', sealed.setCookie.split(';')[0] as string], headers: {} },
      keyring,
      spec,
      now,
    );
    assert.equal(read.session?.sid, session.sid);
  });
});
