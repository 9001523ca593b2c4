/**
 * Log hygiene of token-endpoint failures: oauth4webapi keeps what it checked on its errors (the ID
 * token's claims, the token response's body), and a 5xx answer logs its error's cause. Each failure
 * below goes through the callback's code exchange and renderError (which logs), and no log line may
 * hold a claim of the person (name, email, birthdate…) or a token of the answer.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseCallbackConfig } from '../../functions/callback/config.ts';
import { createTokenEndpoint } from '../../functions/shared/auth/token-endpoint.ts';
import { renderError } from '../../functions/shared/http.ts';
import { createLogger } from '../../functions/shared/log.ts';
import {
  authEnv,
  canonicalIdmeClaims,
  createFakeUserPool,
  type FakeUserPool,
  testClientSecret,
} from '../helpers/user-pool.ts';

const personal = ['GARY', 'TWINKLE', '1970-10-10', 'Gary.Twinkle@example.com', canonicalIdmeClaims.idp_sub];

async function exchangeFailure(prepare: (pool: FakeUserPool) => URLSearchParams) {
  const pool = await createFakeUserPool();
  const config = parseCallbackConfig(authEnv());
  const tokens = createTokenEndpoint(config, {
    clientSecret: async () => testClientSecret,
    fetch: pool.fetch,
  });
  const callbackParameters = prepare(pool);
  const error = await tokens
    .exchangeCode({
      callbackParameters,
      expectedState: 'state-1',
      codeVerifier: 'v'.repeat(43),
      nonce: 'n-1',
    })
    .then(
      () => assert.fail('the exchange succeeded'),
      (e: unknown) => e,
    );
  const lines: string[] = [];
  const result = renderError(error, 'r1', createLogger({ write: (line) => lines.push(line) }));
  return { status: result.statusCode, log: lines.join('\n') };
}

const authorizeWith =
  (claims: Record<string, unknown>) =>
  (pool: FakeUserPool): URLSearchParams => {
    const url = new URL('https://auth.example.test/oauth2/authorize');
    url.search = new URLSearchParams({
      code_challenge: createHash('sha256').update('v'.repeat(43)).digest('base64url'),
      nonce: 'n-1',
      state: 'state-1',
      redirect_uri: 'https://api.example.com/auth/callback',
    }).toString();
    return pool.authorize(url.href, { claims });
  };

describe('token-endpoint failures log no claims and no tokens', () => {
  it('an ID token whose claims fail a check (502 invalid_token_response): the claims stay out of the log', async () => {
    const { status, log } = await exchangeFailure(authorizeWith({ iat: 'not a number' }));
    assert.equal(status, 502);
    assert.match(log, /invalid_token_response/);
    for (const value of personal) assert.ok(!log.includes(String(value)), `${value} logged`);
  });

  it('a token response with tokens but an unsupported token_type: its body stays out of the log', async () => {
    const secretish = 'opaque-token-value-0123456789';
    const { status, log } = await exchangeFailure((pool) => {
      pool.setFault({
        status: 200,
        body: { token_type: 'mac', access_token: secretish, id_token: secretish, extra: secretish },
      });
      return new URLSearchParams({ code: 'c', state: 'state-1' });
    });
    assert.equal(status, 502);
    assert.ok(!log.includes(secretish), 'a value of the token response was logged');
  });

  it('a 5xx from Cognito (502 upstream_error): logged with its code, without the response', async () => {
    const { status, log } = await exchangeFailure((pool) => {
      pool.setFault({ status: 500, body: { error: 'server_error', detail: 'Gary.Twinkle@example.com' } });
      return new URLSearchParams({ code: 'c', state: 'state-1' });
    });
    assert.equal(status, 502);
    assert.match(log, /upstream_error/);
    assert.ok(!log.includes('Gary.Twinkle'), 'the response body was logged');
  });
});
