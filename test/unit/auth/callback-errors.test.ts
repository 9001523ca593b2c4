import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  explainCallbackError,
  renderCallbackProblem,
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
    ['something_new', undefined, 'sign_in_failed', 400, /§11/],
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

describe('renderCallbackProblem', () => {
  const problem = explainCallbackError('access_denied', undefined);

  it('escapes everything it puts on the page', () => {
    const page = renderCallbackProblem(problem, {
      json: false,
      requestId: '<r>',
      startOver: 'https://app.example.com/"><script>',
      cognitoDescription: '<img src=x onerror=alert(1)>',
    });
    assert.doesNotMatch(page.body as string, /<img|<script>|"><script/);
    assert.match(page.body as string, /&lt;img src=x/);
  });

  it("answers JSON with the explanation, what to check and Cognito's own code", () => {
    const result = renderCallbackProblem(problem, {
      json: true,
      requestId: 'r1',
      startOver: '/',
      cognitoError: 'access_denied',
    });
    const body = JSON.parse(result.body as string);
    assert.deepEqual(Object.keys(body).sort(), [
      'checks',
      'cognitoError',
      'error',
      'message',
      'requestId',
      'title',
    ]);
    assert.match(result.headers['Content-Type'] as string, /application\/json/);
  });

  it('keeps Cognito error codes to safe characters', () => {
    const result = renderCallbackProblem(explainCallbackError('<b>x</b>', undefined), {
      json: true,
      requestId: 'r1',
      startOver: '/',
      cognitoError: '<b>x</b>',
    });
    assert.equal(JSON.parse(result.body as string).cognitoError, 'bxb');
  });
});
