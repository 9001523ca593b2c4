import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { parseCredentialsConfig } from '../../../functions/credentials/config.ts';
import { safeEqual } from '../../../functions/shared/compare.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';
import {
  createIdTokenVerifier,
  jwksMaxAgeMs,
  unknownKidCooldownMs,
} from '../../../functions/shared/oidc/verify.ts';
import {
  cognitoIdClaims,
  createTestIssuer,
  credentialsEnv,
  testClientId,
  testIssuer,
} from '../../helpers/tokens.ts';

const config = parseCredentialsConfig(credentialsEnv());
const now = () => Math.floor(Date.now() / 1000);
const jwksUri = `${testIssuer}/.well-known/jwks.json`;

/** A clock for the JWKS cache and the cool-down, moved by the test (never slept on). */
function manualClock(start = Date.now()) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

async function setup() {
  const idp = await createTestIssuer();
  const clock = manualClock();
  const verifier = createIdTokenVerifier(config, { fetch: idp.fetch, now: clock.now });
  return { idp, verifier, clock };
}

async function rejects(promise: Promise<unknown>, code: string, status = 401) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BrokerError, `expected BrokerError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.statusCode, status);
    return true;
  });
}

/** A fetch serving one JWKS document at the test issuer's JWKS URL. */
function serving(jwks: unknown): typeof fetch {
  return (async (input: string | URL | Request) =>
    String(input) === jwksUri
      ? Response.json(jwks)
      : new Response('not found', { status: 404 })) as typeof fetch;
}

/** An RSA key pair signing compact JWS by hand, for byte-level tokens jose would not produce. */
function rawSigner(modulusLength = 2048) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  const kid = randomUUID();
  return {
    kid,
    jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] },
    sign: (header: Buffer, payload: Buffer) => signBytes(header, payload, privateKey),
  };
}

function signBytes(header: Buffer, payload: Buffer, key: KeyObject): string {
  const input = `${header.toString('base64url')}.${payload.toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

describe('verifyIdToken', () => {
  it('accepts a Cognito ID token and returns its claims and issuer', async () => {
    const { idp, verifier } = await setup();
    const { claims, issuer } = await verifier.verify(await idp.sign());
    assert.equal(claims.iss, testIssuer);
    assert.equal(claims.aud, testClientId);
    assert.equal(issuer.issuer, testIssuer);
  });

  it('rejects a bad signature', async () => {
    const { idp, verifier } = await setup();
    const token = await idp.sign();
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = `${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await rejects(verifier.verify(`${h}.${p}.${flipped}`), 'bad_signature');
  });

  it('rejects a token signed by another key with the same kid', async () => {
    const { idp, verifier } = await setup();
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ ...(await claimsOf(idp)) })
      .setProtectedHeader({ alg: 'RS256', kid: idp.kid })
      .sign(privateKey);
    await rejects(verifier.verify(forged), 'bad_signature');
  });

  it('rejects alg none', async () => {
    const { idp, verifier } = await setup();
    const token = new UnsecuredJWT(await claimsOf(idp)).encode();
    await rejects(verifier.verify(token), 'algorithm_not_allowed');
    await assert.rejects(verifier.verify(token), /Tokens signed with "none" are not accepted/);
  });

  it('rejects HMAC tokens (e.g. signed with the public key as secret)', async () => {
    const { idp, verifier } = await setup();
    const secret = new TextEncoder().encode(JSON.stringify(idp.jwks.keys[0]));
    const token = await new SignJWT(await claimsOf(idp))
      .setProtectedHeader({ alg: 'HS256', kid: idp.kid })
      .sign(secret);
    await rejects(verifier.verify(token), 'algorithm_not_allowed');
    await assert.rejects(verifier.verify(token), /Tokens signed with "HS256" are not accepted/);
  });

  it('rejects an asymmetric algorithm not on the allow-list (ES256 for a user pool), before fetching keys', async () => {
    const es = await createTestIssuer({ alg: 'ES256' });
    const verifier = createIdTokenVerifier(config, es.fetch);
    await rejects(verifier.verify(await es.sign()), 'algorithm_not_allowed');
    assert.equal(es.requests.length, 0);
  });

  it('rejects an unknown issuer before fetching any key', async () => {
    const other = await createTestIssuer({
      issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other',
    });
    const verifier = createIdTokenVerifier(config, other.fetch);
    await rejects(verifier.verify(await other.sign()), 'untrusted_issuer');
    assert.equal(other.requests.length, 0);
  });

  it('rejects a token for another audience', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({ aud: 'someone-else' })), 'wrong_audience');
  });

  it('rejects an ID token without aud', async () => {
    const { idp, verifier } = await setup();
    const claims = await claimsOf(idp);
    delete claims.aud;
    await rejects(verifier.verify(await idp.sign(claims, { raw: true })), 'invalid_claim');
  });

  it('checks azp against the client list when present, as identity pools do', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({ azp: 'x' })), 'wrong_audience');
    const ok = await verifier.verify(await idp.sign({ azp: testClientId }));
    assert.equal(ok.claims.azp, testClientId);
  });

  it('refuses an aud array, as CognitoJwtVerifier does (Cognito ID tokens name one client)', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({ aud: [testClientId, 'x'] })), 'wrong_audience');
  });

  it('rejects an azp that is a trusted client but not among the audiences', async () => {
    const cfg = parseCredentialsConfig(credentialsEnv({ TRUSTED_CLIENT_IDS: 'second-client' }));
    const idp = await createTestIssuer();
    const verifier = createIdTokenVerifier(cfg, idp.fetch);
    await rejects(
      verifier.verify(await idp.sign({ aud: testClientId, azp: 'second-client' })),
      'wrong_audience',
    );
  });

  it('rejects an expired token with token_expired', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({ iat: now() - 7200, exp: now() - 120 })), 'token_expired');
  });

  it('accepts a token expired by less than the clock skew', async () => {
    const { idp, verifier } = await setup();
    await verifier.verify(await idp.sign({ iat: now() - 3600, exp: now() - 30 }));
  });

  it('rejects a token older than the 24 h maximum age even when its exp is still ahead', async () => {
    const { idp, verifier } = await setup();
    await rejects(
      verifier.verify(await idp.sign({ iat: now() - 86_400 - 120, exp: now() + 3600 })),
      'token_expired',
    );
  });

  it('rejects a token that is not valid yet (nbf)', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({ nbf: now() + 600 })), 'token_not_yet_valid');
  });

  it('rejects a token issued far in the future (iat)', async () => {
    const { idp, verifier } = await setup();
    await rejects(
      verifier.verify(await idp.sign({ iat: now() + 600, exp: now() + 4000 })),
      'token_not_yet_valid',
    );
  });

  for (const claim of ['exp', 'iat', 'sub'] as const) {
    it(`rejects a token with no ${claim}`, async () => {
      const { idp, verifier } = await setup();
      const claims = await claimsOf(idp);
      delete claims[claim];
      await rejects(verifier.verify(await idp.sign(claims, { raw: true })), 'invalid_claim');
    });
  }

  it('rejects an empty sub', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({ sub: '' })), 'invalid_claim');
  });

  it('rejects a Cognito access token with a message that says to send the ID token', async () => {
    const { idp, verifier } = await setup();
    await assert.rejects(verifier.verify(await idp.sign({ token_use: 'access' })), /send the ID token/);
    await rejects(verifier.verify(await idp.sign({ token_use: 'refresh' })), 'wrong_token_use');
  });

  it('rejects a token without token_use', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({ token_use: undefined })), 'wrong_token_use');
  });

  it("says to send the ID token for an access token in Cognito's own shape (client_id, no aud)", async () => {
    const { idp, verifier } = await setup();
    const claims: Record<string, unknown> = {
      ...(await claimsOf(idp)),
      token_use: 'access',
      client_id: testClientId,
    };
    delete claims.aud;
    const token = await idp.sign(claims, { raw: true });
    await assert.rejects(verifier.verify(token), /send the ID token/);
    await rejects(verifier.verify(token), 'wrong_token_use');
  });

  it('checks the nonce when one is expected', async () => {
    const { idp, verifier } = await setup();
    const token = await idp.sign({ nonce: 'n-123' });
    await verifier.verify(token, { nonce: 'n-123' });
    await rejects(verifier.verify(token, { nonce: 'n-456' }), 'nonce_mismatch');
    await rejects(verifier.verify(await idp.sign(), { nonce: 'n-123' }), 'nonce_mismatch');
  });

  it('rejects malformed and oversize tokens', async () => {
    const { verifier } = await setup();
    await rejects(verifier.verify('not-a-jwt'), 'malformed_token');
    await rejects(verifier.verify('a.b.c'), 'malformed_token');
    await rejects(verifier.verify(`eyJ${'a'.repeat(20_000)}`), 'token_too_large');
  });

  it('refuses a token naming a critical header parameter (crit)', async () => {
    const key = rawSigner();
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: key.kid, crit: ['exp'], exp: 1 }));
    const token = key.sign(header, Buffer.from(JSON.stringify(cognitoIdClaims())));
    await rejects(createIdTokenVerifier(config, serving(key.jwks)).verify(token), 'malformed_token');
  });

  it('refuses two tokens whose sub differs only in invalid UTF-8 bytes (they would decode alike)', async () => {
    const key = rawSigner();
    const verifier = createIdTokenVerifier(config, serving(key.jwks));
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: key.kid }));
    const body = JSON.stringify(cognitoIdClaims()).replace(/"sub":"[^"]*"/, '"sub":"user-@"');
    const withByte = (byte: number) =>
      Buffer.from(body.replace('@', '\u0000'), 'utf8').map((b) => (b === 0 ? byte : b));
    const [a, b] = [withByte(0xff), withByte(0xfe)];
    assert.equal(Buffer.from(a).toString('utf8'), Buffer.from(b).toString('utf8'));
    await rejects(verifier.verify(key.sign(header, Buffer.from(a))), 'malformed_token');
    await rejects(verifier.verify(key.sign(header, Buffer.from(b))), 'malformed_token');
    // The same token with valid UTF-8 verifies: only the bytes are refused.
    await verifier.verify(key.sign(header, Buffer.from(body)));
  });

  it('refuses invalid UTF-8 in the header', async () => {
    const key = rawSigner();
    const verifier = createIdTokenVerifier(config, serving(key.jwks));
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: key.kid, x: '@' }).replace('@', '\u0000'));
    const token = key.sign(
      header.map((b) => (b === 0 ? 0xc3 : b)) as Buffer,
      Buffer.from(JSON.stringify(cognitoIdClaims())),
    );
    await rejects(verifier.verify(token), 'malformed_token');
  });

  it('refuses a token signed with an RSA key shorter than 2048 bits', async () => {
    const key = rawSigner(1024);
    const verifier = createIdTokenVerifier(config, serving(key.jwks));
    const token = key.sign(
      Buffer.from(JSON.stringify({ alg: 'RS256', kid: key.kid })),
      Buffer.from(JSON.stringify(cognitoIdClaims())),
    );
    await rejects(verifier.verify(token), 'unknown_key');
  });

  it('refuses a key whose use or key_ops do not allow verifying signatures', async () => {
    for (const extra of [{ use: 'enc' }, { key_ops: ['encrypt'] }]) {
      const key = rawSigner();
      const jwks = { keys: key.jwks.keys.map((k) => ({ ...k, use: undefined, ...extra })) };
      const verifier = createIdTokenVerifier(config, serving(jwks));
      const token = key.sign(
        Buffer.from(JSON.stringify({ alg: 'RS256', kid: key.kid })),
        Buffer.from(JSON.stringify(cognitoIdClaims())),
      );
      await rejects(verifier.verify(token), 'unknown_key');
    }
  });

  it('rejects an unknown kid', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({}, { kid: 'unknown-kid' })), 'unknown_key');
  });

  it('refuses a token without kid', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({}, { kid: null })), 'unknown_key');
  });
});

describe('JWKS cache', () => {
  it('fetches the keys once and reuses them within the maximum age', async () => {
    const { idp, verifier, clock } = await setup();
    for (let i = 0; i < 5; i++) {
      await verifier.verify(await idp.sign());
      clock.advance(jwksMaxAgeMs / 10);
    }
    assert.equal(idp.requests.length, 1);
  });

  it('refetches on an unknown kid, so a rotated key verifies at once', async () => {
    const { idp, verifier } = await setup();
    await verifier.verify(await idp.sign());
    await idp.rotate();
    await verifier.verify(await idp.sign());
    assert.equal(idp.requests.length, 2);
  });

  it('after a refetch that lacks the kid, fetches again for an unknown kid only after the cool-down', async () => {
    const { idp, verifier, clock } = await setup();
    await verifier.verify(await idp.sign());
    await rejects(verifier.verify(await idp.sign({}, { kid: 'bogus' })), 'unknown_key');
    assert.equal(idp.requests.length, 2);
    await rejects(verifier.verify(await idp.sign({}, { kid: 'bogus-2' })), 'unknown_key');
    assert.equal(idp.requests.length, 2, 'no fetch within the cool-down');
    clock.advance(unknownKidCooldownMs);
    await idp.rotate();
    await verifier.verify(await idp.sign());
    assert.equal(idp.requests.length, 3);
  });

  it('fetches the keys again once they are older than the maximum age, so a withdrawn key stops verifying', async () => {
    const { idp, verifier, clock } = await setup();
    const old = await idp.sign();
    await verifier.verify(old);
    await idp.rotate({ replace: true });
    clock.advance(jwksMaxAgeMs - 1);
    await verifier.verify(old);
    assert.equal(idp.requests.length, 1);
    clock.advance(1);
    await rejects(verifier.verify(old), 'unknown_key');
    // One fetch for the age, one more for the kid the fresh set lacks (the library's unknown-kid refetch).
    assert.equal(idp.requests.length, 3);
  });

  it('answers 503 past the maximum age when the keys cannot be fetched again', async () => {
    const { idp, verifier, clock } = await setup();
    await verifier.verify(await idp.sign());
    idp.setJwksFault(503);
    clock.advance(jwksMaxAgeMs);
    await rejects(verifier.verify(await idp.sign()), 'keys_unavailable', 503);
  });

  it('keeps verifying with cached keys while the JWKS endpoint is down, within the maximum age', async () => {
    const { idp, verifier } = await setup();
    await verifier.verify(await idp.sign());
    idp.setJwksFault(503);
    await verifier.verify(await idp.sign());
  });

  it('answers 503 keys_unavailable when the JWKS endpoint is down and nothing is cached', async () => {
    const { idp, verifier } = await setup();
    idp.setJwksFault(500);
    await rejects(verifier.verify(await idp.sign()), 'keys_unavailable', 503);
  });

  it('answers 503 keys_unavailable for a JWKS that is not JSON', async () => {
    const idp = await createTestIssuer();
    const verifier = createIdTokenVerifier(config, {
      fetch: (async () => new Response('<html>maintenance</html>')) as typeof fetch,
    });
    await rejects(verifier.verify(await idp.sign()), 'keys_unavailable', 503);
  });

  it("lets the broker's own faults through (a 500), rather than blaming the keys with a 503", async () => {
    const { idp, verifier } = await setup();
    const token = await idp.sign({ nonce: 'n-1' });
    // A programming error in a check (a nonce that is not a string makes safeEqual throw a TypeError).
    await assert.rejects(verifier.verify(token, { nonce: 42 as unknown as string }), TypeError);
  });

  it('times out a hanging JWKS endpoint', async () => {
    const idp = await createTestIssuer();
    const fast = parseCredentialsConfig(credentialsEnv({ UPSTREAM_TIMEOUT_MS: '150' }));
    const verifier = createIdTokenVerifier(fast, idp.fetch);
    idp.setJwksFault('hang');
    await rejects(verifier.verify(await idp.sign()), 'keys_unavailable', 503);
  });
});

describe('safeEqual', () => {
  it('compares equal and unequal strings of any length', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
    assert.equal(safeEqual('', ''), true);
  });
});

async function claimsOf(idp: { sign(): Promise<string> }): Promise<Record<string, unknown>> {
  const token = await idp.sign();
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString());
}
