import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CallbackProblem,
  explainCallbackError,
  renderCallbackOutcome,
} from '../../../functions/shared/auth/callback-errors.ts';

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
        for (const check of problem.checks) assert.ok(!body.includes(check), `check shown: ${check}`);
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
