import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseCallbackConfig } from '../../../functions/callback/config.ts';
import { createTokenEndpoint } from '../../../functions/shared/auth/token-endpoint.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';
import { testClientId } from '../../helpers/tokens.ts';
import {
  authEnv,
  basicCredentials,
  createFakeUserPool,
  type FakeUserPool,
  testClientSecret,
} from '../../helpers/user-pool.ts';

async function setup(env: Record<string, string> = {}) {
  const pool = await createFakeUserPool();
  const config = parseCallbackConfig(authEnv(env));
  const tokens = createTokenEndpoint(config, {
    clientSecret: async () => testClientSecret,
    fetch: pool.fetch,
  });
  return { pool, tokens };
}

/** A code from the fake pool for a PKCE pair and nonce. */
function codeFor(pool: FakeUserPool, options: { nonce?: string | null } = {}) {
  const verifier = 'v'.repeat(43);
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const authorize = new URL('https://auth.example.test/oauth2/authorize');
  authorize.search = new URLSearchParams({
    code_challenge: challenge,
    nonce: 'nonce-1',
    state: 'state-1',
    redirect_uri: 'https://api.example.com/auth/callback',
  }).toString();
  const callbackParameters = pool.authorize(authorize.href, options);
  return { callbackParameters, expectedState: 'state-1', codeVerifier: verifier, nonce: 'nonce-1' };
}

const failsWith = (
  promise: Promise<unknown>,
  code: string,
  status: number,
  message?: RegExp,
  hint?: RegExp,
) =>
  assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BrokerError, String(error));
    assert.equal(error.code, code);
    assert.equal(error.statusCode, status);
    if (message) assert.match(error.message, message);
    if (hint) assert.match(error.hint ?? '', hint);
    return true;
  });

describe('token endpoint client', () => {
  it('exchanges a code with client_secret_basic, the verifier and the registered redirect_uri', async () => {
    const { pool, tokens } = await setup();
    const set = await tokens.exchangeCode(codeFor(pool));
    assert.ok(set.idToken.startsWith('eyJ') && set.refreshToken && set.accessToken);
    const request = pool.requests[0];
    assert.deepEqual(basicCredentials(request?.authorization), {
      id: testClientId,
      secret: testClientSecret,
    });
    assert.equal(request?.form.get('code_verifier'), 'v'.repeat(43));
    assert.equal(request?.form.get('client_id'), null);
  });

  it('refuses a verifier that does not match the challenge (Cognito: invalid_grant)', async () => {
    const { pool, tokens } = await setup();
    await failsWith(
      tokens.exchangeCode({ ...codeFor(pool), codeVerifier: 'w'.repeat(43) }),
      'invalid_grant',
      400,
    );
  });

  it('explains a reused code (invalid_grant) and does not retry', async () => {
    const { pool, tokens } = await setup();
    const exchange = codeFor(pool);
    await tokens.exchangeCode(exchange);
    await failsWith(tokens.exchangeCode(exchange), 'invalid_grant', 400, /already used/);
    assert.equal(pool.requests.length, 2);
  });

  it('checks the nonce of the ID token', async () => {
    const { pool, tokens } = await setup();
    await failsWith(tokens.exchangeCode(codeFor(pool, { nonce: 'other' })), 'nonce_mismatch', 401);
    await failsWith(tokens.exchangeCode(codeFor(pool, { nonce: null })), 'nonce_mismatch', 401);
  });

  it('explains invalid_client (400 JSON or 401 challenge) as the broker client credentials', async () => {
    const { pool, tokens } = await setup();
    pool.setFault({ status: 400, body: { error: 'invalid_client' } });
    await failsWith(
      tokens.refresh('rt'),
      'invalid_client',
      502,
      /own credentials/,
      /USER_POOL_CLIENT_ID and the client secret/,
    );
    pool.setFault({ status: 401, headers: { 'www-authenticate': 'Basic realm="cognito"' } });
    await failsWith(tokens.refresh('rt'), 'invalid_client', 502);
  });

  it('explains unauthorized_client to the operator: invalid_redirect points at PUBLIC_BASE_URL, otherwise the client flows', async () => {
    const { pool, tokens } = await setup();
    pool.setFault({
      status: 400,
      body: { error: 'unauthorized_client', error_description: 'invalid_redirect' },
    });
    await failsWith(
      tokens.exchangeCode(codeFor(pool)),
      'unauthorized_client',
      502,
      undefined,
      /PUBLIC_BASE_URL/,
    );
    pool.setFault({ status: 400, body: { error: 'unauthorized_client' } });
    await failsWith(tokens.refresh('rt'), 'unauthorized_client', 502, undefined, /ALLOW_REFRESH_TOKEN_AUTH/);
  });

  it('turns invalid_grant on refresh into an ended session', async () => {
    const { tokens } = await setup();
    await failsWith(tokens.refresh('unknown-refresh-token'), 'session_expired', 401);
  });

  it('times out every call and tries once', async () => {
    const { pool, tokens } = await setup({ UPSTREAM_TIMEOUT_MS: '120' });
    pool.setFault('hang');
    const started = Date.now();
    await failsWith(tokens.exchangeCode(codeFor(pool)), 'upstream_timeout', 504, /not retried/);
    await failsWith(tokens.refresh('rt'), 'upstream_timeout', 504);
    await failsWith(tokens.revoke('rt'), 'upstream_timeout', 504);
    assert.ok(Date.now() - started < 2000);
    assert.equal(pool.requests.length, 3);
  });

  it('reports an unreachable endpoint as 503 with what to check', async () => {
    const { pool, tokens } = await setup();
    pool.setFault('network');
    await assert.rejects(tokens.refresh('rt'), (error: unknown) => {
      assert.ok(error instanceof BrokerError);
      assert.equal(error.code, 'upstream_unavailable');
      assert.match(error.hint ?? '', /COGNITO_DOMAIN_URL/);
      return true;
    });
  });

  it('reports a 5xx from Cognito as an upstream failure (502 upstream_error), not a malformed answer', async () => {
    const { pool, tokens } = await setup();
    pool.setFault({ status: 500, body: { error: 'server_error' } });
    await failsWith(
      tokens.exchangeCode(codeFor(pool)),
      'upstream_error',
      502,
      /HTTP 500.*start sign-in again/,
    );
    pool.setFault({ status: 503, body: 'Service Unavailable', headers: { 'content-type': 'text/plain' } });
    await failsWith(tokens.refresh('rt'), 'upstream_error', 502, /HTTP 503/);
  });

  it('refuses a token response that is not JSON, or lacks token_type', async () => {
    const { pool, tokens } = await setup();
    pool.setFault({ status: 200, body: 'oops', headers: { 'content-type': 'text/plain' } });
    await failsWith(tokens.refresh('rt'), 'invalid_token_response', 502);
    pool.setFault({ status: 200, body: { access_token: 'a', id_token: 'b' } });
    await failsWith(tokens.refresh('rt'), 'invalid_token_response', 502);
  });

  it('refreshes and revokes with the client credentials', async () => {
    const { pool, tokens } = await setup();
    const set = await tokens.exchangeCode(codeFor(pool));
    const refreshed = await tokens.refresh(set.refreshToken as string);
    assert.ok(refreshed.idToken.startsWith('eyJ'));
    assert.equal(refreshed.refreshToken, undefined, 'no rotation unless the client enables it');
    await tokens.revoke(set.refreshToken as string);
    assert.ok(pool.revoked.has(set.refreshToken as string));
    const revoke = pool.requests.at(-1);
    assert.equal(revoke?.url, 'https://auth.example.test/oauth2/revoke');
    assert.deepEqual(basicCredentials(revoke?.authorization), { id: testClientId, secret: testClientSecret });
  });
});
