import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { parseCredentialsConfig } from '../../../functions/credentials/config.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';
import { createIdTokenVerifier, safeEqual } from '../../../functions/shared/oidc/verify.ts';
import { createTestIssuer, credentialsEnv, testClientId, testIssuer } from '../../helpers/tokens.ts';

const config = parseCredentialsConfig(credentialsEnv());
const now = () => Math.floor(Date.now() / 1000);

async function setup() {
  const idp = await createTestIssuer();
  const verifier = createIdTokenVerifier(config, idp.fetch);
  return { idp, verifier };
}

async function rejects(promise: Promise<unknown>, code: string, status = 401) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BrokerError, `expected BrokerError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.statusCode, status);
    return true;
  });
}

describe('verifyIdToken', () => {
  it('accepts a Cognito ID token and returns its claims and issuer', async () => {
    const { idp, verifier } = await setup();
    const { claims, issuer } = await verifier.verify(await idp.sign());
    assert.equal(claims.iss, testIssuer);
    assert.equal(claims.aud, testClientId);
    assert.equal(issuer.kind, 'user-pool');
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
  });

  it('rejects HMAC tokens (e.g. signed with the public key as secret)', async () => {
    const { idp, verifier } = await setup();
    const secret = new TextEncoder().encode(JSON.stringify(idp.jwks.keys[0]));
    const token = await new SignJWT(await claimsOf(idp))
      .setProtectedHeader({ alg: 'HS256', kid: idp.kid })
      .sign(secret);
    await rejects(verifier.verify(token), 'algorithm_not_allowed');
  });

  it('rejects an allowed-shape token whose algorithm is not on the issuer list (ES256 for a user pool)', async () => {
    const es = await createTestIssuer({ alg: 'ES256' });
    const verifier = createIdTokenVerifier(config, es.fetch);
    await rejects(verifier.verify(await es.sign()), 'algorithm_not_allowed');
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

  it('checks azp against the client list when present, as identity pools do', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({ aud: [testClientId, 'x'], azp: 'x' })), 'wrong_audience');
    const ok = await verifier.verify(await idp.sign({ aud: [testClientId, 'x'], azp: testClientId }));
    assert.equal(ok.claims.azp, testClientId);
  });

  it('rejects an expired token with token_expired', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({ iat: now() - 7200, exp: now() - 120 })), 'token_expired');
  });

  it('accepts a token expired by less than the clock skew', async () => {
    const { idp, verifier } = await setup();
    await verifier.verify(await idp.sign({ iat: now() - 3600, exp: now() - 30 }));
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

  it('rejects a token with no exp', async () => {
    const { idp, verifier } = await setup();
    const claims = await claimsOf(idp);
    delete claims.exp;
    await rejects(verifier.verify(await idp.sign(claims, { raw: true })), 'invalid_claim');
  });

  it('rejects a Cognito access token with a message that says to send the ID token', async () => {
    const { idp, verifier } = await setup();
    await assert.rejects(verifier.verify(await idp.sign({ token_use: 'access' })), /send the ID token/);
    await rejects(verifier.verify(await idp.sign({ token_use: 'refresh' })), 'wrong_token_use');
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

  it('rejects an unknown kid', async () => {
    const { idp, verifier } = await setup();
    await rejects(verifier.verify(await idp.sign({}, { kid: 'unknown-kid' })), 'unknown_key');
  });

  it('refuses a token without kid when the issuer publishes several keys', async () => {
    const { idp, verifier } = await setup();
    await idp.rotate();
    await rejects(verifier.verify(await idp.sign({}, { kid: null })), 'unknown_key');
  });
});

describe('JWKS cache', () => {
  it('fetches the keys once per container and reuses them', async () => {
    const { idp, verifier } = await setup();
    for (let i = 0; i < 5; i++) await verifier.verify(await idp.sign());
    assert.equal(idp.requests.length, 1);
  });

  it('refetches on an unknown kid (key rotation), at most once per cooldown', async () => {
    const { idp, verifier } = await setup();
    await verifier.verify(await idp.sign());
    await idp.rotate();
    // Within the cooldown after the first fetch, the new kid is not fetched yet.
    await rejects(verifier.verify(await idp.sign()), 'unknown_key');
    await rejects(verifier.verify(await idp.sign({}, { kid: 'bogus' })), 'unknown_key');
    assert.equal(idp.requests.length, 1);
  });

  it('keeps verifying with cached keys while the JWKS endpoint is down', async () => {
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

  it('times out a hanging JWKS endpoint', async () => {
    const idp = await createTestIssuer();
    const fast = parseCredentialsConfig(credentialsEnv({ UPSTREAM_TIMEOUT_MS: '150' }));
    const verifier = createIdTokenVerifier(fast, idp.fetch);
    idp.setJwksFault('hang');
    await rejects(verifier.verify(await idp.sign()), 'keys_unavailable', 503);
  });
});

describe('direct OIDC providers', () => {
  it('verifies a token from a configured provider, finding its keys through discovery', async () => {
    const idme = await createTestIssuer({
      issuer: 'https://api.idmelabs.com/oidc',
      jwksPath: '/.well-known/jwks',
    });
    const cfg = parseCredentialsConfig(
      credentialsEnv({
        DIRECT_OIDC_PROVIDERS: JSON.stringify([{ issuer: idme.issuer, clientIds: ['idme-client'] }]),
      }),
    );
    const verifier = createIdTokenVerifier(cfg, idme.fetch);
    const { issuer } = await verifier.verify(await idme.sign({ aud: 'idme-client', token_use: undefined }));
    assert.equal(issuer.kind, 'oidc');
    assert.deepEqual(idme.requests, [
      'https://api.idmelabs.com/oidc/.well-known/openid-configuration',
      'https://api.idmelabs.com/oidc/.well-known/jwks',
    ]);
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
