import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Request } from '@middy/core';
import type { Context } from 'aws-lambda';
import { parseCallbackConfig } from '../../../functions/callback/config.ts';
import {
  type CallbackProblem,
  callbackErrorResponses,
  explainCallbackError,
  renderCallbackOutcome,
} from '../../../functions/shared/auth/callback-errors.ts';
import { createTokenEndpoint } from '../../../functions/shared/auth/token-endpoint.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';
import type { HttpEvent, HttpResult } from '../../../functions/shared/http.ts';
import { createLogger } from '../../../functions/shared/log.ts';
import { authEnv, createFakeUserPool, testClientSecret } from '../../helpers/user-pool.ts';

describe('explainCallbackError', () => {
  const cases: Array<[string, string | undefined, string, number, RegExp]> = [
    ['redirect_uri_mismatch', undefined, 'redirect_mismatch', 400, /PUBLIC_BASE_URL \+ \/auth\/callback/],
    [
      'invalid_request',
      'redirect_mismatch',
      'redirect_mismatch',
      400,
      /callback URL of the Cognito app client/,
    ],
    ['invalid_client', undefined, 'idp_client_rejected', 502, /client id and secret/],
    [
      'invalid_request',
      'IDmeSandbox Error - 401 error getting token',
      'idp_client_rejected',
      502,
      /client_secret_post/,
    ],
    [
      'invalid_request',
      'identity provider IDme does not exist',
      'unknown_identity_provider',
      400,
      /case-sensitive/,
    ],
    [
      'invalid_request',
      'Login option is not available. Please try another one',
      'unknown_identity_provider',
      400,
      /SupportedIdentityProviders/,
    ],
    [
      'invalid_request',
      'Invalid user attributes: email. The attribute is required.',
      'required_attribute_missing',
      400,
      /cannot be changed after the pool is created/,
    ],
    [
      'invalid_request',
      'invalid token_type in idp oauth response',
      'idp_userinfo_not_json',
      502,
      /plainJson/,
    ],
    ['access_denied', undefined, 'access_denied', 403, /cancelled/],
    ['invalid_request', 'Timeout occurred in calling IdP token endpoint', 'idp_timeout', 504, /port 443/],
    ['invalid_request', 'Timeout in calling jwks uri', 'idp_timeout', 504, /JWKS/],
    ['invalid_request', 'Read timed out', 'idp_timeout', 504, /status page/],
    ['invalid_request', 'Connection reset', 'idp_timeout', 504, /certificate chain/],
    [
      'server_error',
      'Exception processing authorization code',
      'idp_response_failed',
      502,
      /attribute mapping/,
    ],
    [
      'invalid_request',
      'PreTokenGeneration failed with error boom.',
      'trigger_failed',
      502,
      /pre-token-generation/,
    ],
    ['login_required', undefined, 'login_required', 401, /prompt=none/],
    ['invalid_scope', undefined, 'invalid_scope', 400, /OAUTH_SCOPES/],
    ['unauthorized_client', undefined, 'unauthorized_client', 400, /AllowedOAuthFlows/],
    ['server_error', undefined, 'cognito_error', 502, /service health/],
    ['something_new', undefined, 'sign_in_failed', 400, /authorization-endpoint\.html/],
  ];
  for (const [error, description, code, status, check] of cases) {
    it(`${error}${description ? ` / "${description}"` : ''} -> ${code}`, () => {
      const problem = explainCallbackError(error, description);
      assert.equal(problem.code, code);
      assert.equal(problem.status, status);
      assert.match(problem.checks.join(' '), check);
      assert.ok(problem.title.length > 0 && problem.message.length > 0);
    });
  }

  it('names the missing required attribute', () => {
    const problem = explainCallbackError(
      'invalid_request',
      'Invalid user attributes: email. The attribute is required.',
    );
    assert.match(problem.message, /"email"/);
  });
});

describe('renderCallbackOutcome (what the person signing in sees)', () => {
  const render = (
    problem: CallbackProblem,
    options: { json: boolean; startOver?: string; requestId?: string },
  ) =>
    renderCallbackOutcome(
      { kind: 'provider-error', problem, startOver: options.startOver, cookies: [] },
      { headers: options.json ? { accept: 'application/json' } : { accept: 'text/html' } },
      { requestId: options.requestId ?? 'r1', startOver: '/', https: true },
    );
  const everyProblem = [
    ['redirect_uri_mismatch', undefined],
    ['invalid_request', 'invalid token_type in idp oauth response'],
    ['invalid_request', 'Invalid user attributes: email. The attribute is required.'],
    ['invalid_request', 'connection timed out'],
    ['invalid_client', undefined],
    ['invalid_request', 'identity provider not found'],
    ['access_denied', undefined],
    ['invalid_request', 'PreTokenGeneration failed with error boom.'],
    ['server_error', 'Exception processing authorization code'],
    ['login_required', undefined],
    ['invalid_scope', undefined],
    ['unauthorized_client', undefined],
    ['server_error', undefined],
    ['something_new', undefined],
  ] as const;

  for (const [error, description] of everyProblem) {
    it(`${error}${description ? ` / "${description}"` : ''}: no variable, file or check on the page or in the JSON`, () => {
      const problem = explainCallbackError(error, description);
      for (const json of [false, true]) {
        const body = render(problem, { json }).body as string;
        assert.doesNotMatch(body, /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/, 'no environment variable');
        assert.doesNotMatch(body, /\.(md|ts|ya?ml)\b|§/, 'no file');
        // Compared with the text a person reads: entities decoded, JSON strings unescaped.
        const text = json
          ? JSON.stringify(JSON.parse(body), null, 0).replace(/\\"/g, '"')
          : body
              .replace(/&quot;/g, '"')
              .replace(/&#39;/g, "'")
              .replace(/&lt;/g, '<')
              .replace(/&gt;/g, '>')
              .replace(/&amp;/g, '&');
        for (const check of problem.checks) assert.ok(!text.includes(check), `check shown: ${check}`);
      }
    });
  }

  it('escapes everything it puts on the page', () => {
    const page = render(explainCallbackError('access_denied', undefined), {
      json: false,
      requestId: '<r>',
      startOver: 'https://app.example.com/"><script>',
    });
    assert.doesNotMatch(page.body as string, /<script>|"><script|<r>/);
    assert.match(page.body as string, /&lt;r&gt;/);
  });

  it('answers JSON clients with the code, the explanation and the request id only', () => {
    const result = render(explainCallbackError('access_denied', undefined), { json: true });
    const body = JSON.parse(result.body as string);
    assert.deepEqual(Object.keys(body).sort(), ['error', 'message', 'requestId', 'title']);
    assert.match(result.headers['Content-Type'] as string, /application\/json/);
  });

  it('keeps an unknown Cognito error code to safe characters', () => {
    const result = render(explainCallbackError('<b>x</b>', undefined), { json: true });
    assert.match(JSON.parse(result.body as string).message, /"bxb"/);
  });
});

/** What the person signing in must never see: a variable, a file, a check or the operator's hint. */
function assertNothingForOperators(body: string, hint: string | undefined): void {
  assert.doesNotMatch(body, /\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b/, 'no environment variable');
  assert.doesNotMatch(body, /\.(md|ts|ya?ml)\b|§/, 'no file');
  assert.doesNotMatch(body, /\bcheck/i, 'no check');
  if (hint) assert.ok(!body.includes(hint), `hint shown: ${hint}`);
}

describe('token-endpoint errors at the callback (what the person signing in sees)', () => {
  type Fault = Parameters<Awaited<ReturnType<typeof createFakeUserPool>>['setFault']>[0];
  const faults: Array<[string, Fault, { claims?: Record<string, unknown> }?]> = [
    ['invalid_client', { status: 400, body: { error: 'invalid_client' } }],
    [
      'a Basic challenge (invalid_client)',
      { status: 401, headers: { 'www-authenticate': 'Basic realm="x"' } },
    ],
    [
      'unauthorized_client / invalid_redirect',
      { status: 400, body: { error: 'unauthorized_client', error_description: 'invalid_redirect' } },
    ],
    ['unauthorized_client', { status: 400, body: { error: 'unauthorized_client' } }],
    ['invalid_grant', { status: 400, body: { error: 'invalid_grant' } }],
    [
      'an error Cognito describes with a variable',
      { status: 400, body: { error: 'invalid_request', error_description: 'check USER_POOL_CLIENT_ID' } },
    ],
    ['a 5xx', { status: 500, body: { error: 'server_error' } }],
    ['an answer that is not JSON', { status: 200, body: 'oops', headers: { 'content-type': 'text/plain' } }],
    ['no answer', 'network'],
    ['an ID token for another client', undefined, { claims: { aud: 'another-client' } }],
  ];

  for (const [name, fault, options] of faults) {
    it(`${name}: the page and the JSON name no variable, file or check; the hint is logged`, async () => {
      const pool = await createFakeUserPool();
      const config = parseCallbackConfig(authEnv());
      const tokens = createTokenEndpoint(config, {
        clientSecret: async () => testClientSecret,
        fetch: pool.fetch,
      });
      const verifier = 'v'.repeat(43);
      const authorize = new URL('https://auth.example.test/oauth2/authorize');
      authorize.search = new URLSearchParams({
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        nonce: 'nonce-1',
        state: 'state-1',
        redirect_uri: config.callbackUrl,
      }).toString();
      const callbackParameters = pool.authorize(
        authorize.href,
        options?.claims ? { claims: options.claims } : {},
      );
      pool.setFault(fault);
      const error = await tokens
        .exchangeCode({
          callbackParameters,
          expectedState: 'state-1',
          codeVerifier: verifier,
          nonce: 'nonce-1',
        })
        .then(
          () => assert.fail('the exchange succeeded'),
          (e: unknown) => e,
        );
      assert.ok(error instanceof BrokerError, String(error));
      for (const accept of ['text/html', 'application/json']) {
        const lines: string[] = [];
        const middleware = callbackErrorResponses(createLogger({ write: (line) => lines.push(line) }), {
          startOver: '/',
          clearLoginState: 'login-state=; Max-Age=0',
          https: true,
        });
        const request = {
          event: { headers: { accept }, requestContext: { requestId: 'r1' } } as unknown as HttpEvent,
          context: {} as Context,
          error,
          response: undefined,
          internal: {},
        } as unknown as Request<HttpEvent, HttpResult>;
        await middleware.onError?.(request);
        const body = String(request.response?.body);
        assert.match(body, new RegExp(error.code), 'the error code is shown');
        assertNothingForOperators(body, error.hint);
        if (error.hint)
          assert.ok(lines.join('\n').includes(JSON.stringify(error.hint).slice(1, -1)), 'hint logged');
      }
    });
  }
});
