/**
 * What went wrong at the callback. Cognito reports federation failures as `error` +
 * `error_description` on its redirect (https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html);
 * `explainCallbackError` maps each known symptom to its cause (docs/sign-in.md, "Callback errors").
 * The person signing in sees what happened and what they can do (the page, or JSON when the client
 * asks for it); the checks for whoever runs the deployment go to the log only.
 */
import { createHash } from 'node:crypto';
import type { MiddlewareObj } from '@middy/core';
import { BrokerError, type ErrorCode } from '../errors.ts';
import {
  countResponse,
  deadlineError,
  documentHeaders,
  type HttpEvent,
  type HttpResult,
  header,
  json,
  renderError,
  requestIdOf,
} from '../http.ts';
import type { Logger } from '../log.ts';
import { redirect } from './request.ts';

export interface CallbackProblem {
  status: number;
  /** Stable snake_case code, part of the API (JSON `error`). */
  code: ErrorCode;
  title: string;
  /** For the person signing in. */
  message: string;
  /** For whoever runs the deployment: logged, never shown. */
  checks: readonly string[];
}

export type CallbackOutcome =
  | { kind: 'signed-in'; location: string; cookies: string[] }
  | {
      kind: 'provider-error';
      problem: CallbackProblem;
      /** The sign-in's return_to, only when the state proved the redirect belongs to this browser's sign-in. */
      startOver: string | undefined;
      cookies: string[];
    };

interface Rule {
  matches(error: string, description: string): boolean;
  problem(error: string, description: string): CallbackProblem;
}

const has = (pattern: RegExp) => (error: string, description: string) =>
  pattern.test(error) || pattern.test(description);

/** Ordered: the first matching rule wins (descriptions are more specific than error codes). */
const rules: readonly Rule[] = [
  {
    matches: has(/redirect_uri_mismatch|redirect_mismatch/i),
    problem: () => ({
      status: 400,
      code: 'redirect_mismatch',
      title: 'The sign-in return address is not registered',
      message: 'The sign-in service does not recognise the address it was asked to return to.',
      checks: [
        'PUBLIC_BASE_URL + /auth/callback must exactly match a callback URL of the Cognito app client (scheme, host, port, path, no trailing slash).',
        'At ID.me, the registered redirect URI must be https://<hosted UI domain>/oauth2/idpresponse (stack output IdpResponseUrl).',
      ],
    }),
  },
  {
    matches: has(/invalid token_type in idp oauth response/i),
    problem: () => ({
      status: 502,
      code: 'idp_userinfo_not_json',
      title: 'The identity provider answered in a format Cognito cannot read',
      message: 'The identity provider confirmed you, but the sign-in service could not read its answer.',
      checks: [
        'Idura Verify: set the application\'s userinfo response to plain JSON ("userInfoResponseStrategy": "plainJson") in the Idura dashboard; Idura returns a signed JWT from userinfo by default.',
        'Other providers: the token response must have token_type "Bearer" and userinfo must answer application/json.',
      ],
    }),
  },
  {
    matches: has(/invalid user attributes|attribute is required/i),
    problem: (_error, description) => {
      const named = /invalid user attributes?:\s*([\w:, -]{1,200}?)\.?\s*(?:the attribute|$)/i.exec(
        description,
      )?.[1];
      return {
        status: 400,
        code: 'required_attribute_missing',
        title: 'Your identity provider did not share a required detail',
        message: `The user pool requires ${named ? `"${named.trim()}"` : 'an attribute'}, which the identity provider did not send.`,
        checks: [
          'Required user-pool attributes cannot be changed after the pool is created: map a claim the provider always sends, or create the pool with no required attributes.',
          'Check the attribute mapping of the Cognito identity provider and the scopes/policy granted at the provider.',
        ],
      };
    },
  },
  {
    matches: has(/timeout|timed out|connection reset/i),
    problem: () => ({
      status: 504,
      code: 'idp_timeout',
      title: 'The identity provider did not answer in time',
      message: 'The sign-in service could not reach your identity provider. Please try again in a moment.',
      checks: [
        "Cognito timed out calling the provider's token endpoint, JWKS or userinfo: check the provider's status page.",
        'The provider must be reachable on port 443 with a certificate chain from a public CA.',
      ],
    }),
  },
  {
    matches: (error, description) => error === 'invalid_client' || /error getting token/i.test(description),
    problem: () => ({
      status: 502,
      code: 'idp_client_rejected',
      title: 'The identity provider refused the sign-in service',
      message: 'Your identity provider did not accept the sign-in service’s credentials.',
      checks: [
        "Re-enter the provider's client id and secret in the Cognito identity provider (IdmeClientId/IduraClientId and their Secrets Manager secrets).",
        'The provider must accept client_secret_post at its token endpoint (Cognito does not use client_secret_basic towards IdPs).',
      ],
    }),
  },
  {
    matches: has(
      /(identity[ _]provider|idp|login option)\b.*\b(not (found|exist|enabled|supported|available)|unknown|does not exist|invalid)|no such (identity )?provider/i,
    ),
    problem: () => ({
      status: 400,
      code: 'unknown_identity_provider',
      title: 'That sign-in option is not available',
      message: 'The sign-in service does not know the identity provider that was asked for.',
      checks: [
        'identity_provider must be the exact, case-sensitive Cognito provider name (e.g. IDmeSandbox, IduraTest): check IDENTITY_PROVIDERS.',
        "The provider must be listed in the app client's SupportedIdentityProviders.",
      ],
    }),
  },
  {
    matches: (error) => error === 'access_denied',
    problem: () => ({
      status: 403,
      code: 'access_denied',
      title: 'Sign-in was cancelled',
      message: 'The sign-in was cancelled or not approved at the identity provider. You can start again.',
      checks: [
        'Nothing to fix if the person cancelled; otherwise check the policy/scopes granted at the provider.',
      ],
    }),
  },
  {
    matches: has(/pretokengeneration|pre token generation|lambda/i),
    problem: () => ({
      status: 502,
      code: 'trigger_failed',
      title: 'Sign-in could not be completed',
      message: 'The sign-in service could not finish preparing your sign-in.',
      checks: ['A user-pool Lambda trigger failed: see the pre-token-generation function’s logs.'],
    }),
  },
  {
    matches: has(/exception processing authorization code/i),
    problem: () => ({
      status: 502,
      code: 'idp_response_failed',
      title: 'Sign-in could not be completed',
      message: "The sign-in service could not process your identity provider's answer.",
      checks: ['Check the identity provider configuration, the attribute mapping and the Lambda triggers.'],
    }),
  },
  {
    matches: (error) => error === 'login_required',
    problem: () => ({
      status: 401,
      code: 'login_required',
      title: 'Please sign in',
      message: 'There is no active sign-in to continue. Please sign in again.',
      checks: ['prompt=none was used without a hosted-UI session.'],
    }),
  },
  {
    matches: (error) => error === 'invalid_scope',
    problem: () => ({
      status: 400,
      code: 'invalid_scope',
      title: 'Sign-in request not accepted',
      message: 'The sign-in request asked for permissions the service does not offer.',
      checks: ['OAUTH_SCOPES must only name scopes enabled on the app client (AllowedOAuthScopes).'],
    }),
  },
  {
    matches: (error) => error === 'unauthorized_client',
    problem: () => ({
      status: 400,
      code: 'unauthorized_client',
      title: 'Sign-in request not accepted',
      message: 'The sign-in service is not set up for this kind of sign-in.',
      checks: ['The app client must allow the authorization code grant (AllowedOAuthFlows: [code]).'],
    }),
  },
  {
    matches: (error) => error === 'server_error' || error === 'temporarily_unavailable',
    problem: () => ({
      status: 502,
      code: 'cognito_error',
      title: 'Sign-in could not be completed',
      message: 'The sign-in service had a problem. Please try again in a moment.',
      checks: ['Cognito reported a server error: check the Cognito service health and the user pool logs.'],
    }),
  },
];

const safeCode = (value: string) => value.replace(/[^a-z0-9_]/gi, '').slice(0, 40) || 'unknown';

/**
 * The explanation for an `error`/`error_description` pair from Cognito's redirect.
 *
 * @example explainCallbackError('invalid_request', 'invalid token_type in idp oauth response').code
 *   // 'idp_userinfo_not_json'
 */
export function explainCallbackError(error: string, description: string | undefined): CallbackProblem {
  const d = description ?? '';
  const rule = rules.find((r) => r.matches(error, d));
  if (rule) return rule.problem(error, d);
  return {
    status: 400,
    code: 'sign_in_failed',
    title: 'Sign-in could not be completed',
    message: `The sign-in service reported "${safeCode(error)}".`,
    checks: [
      "Look the error code up in the authorize endpoint's error responses: https://docs.aws.amazon.com/cognito/latest/developerguide/authorization-endpoint.html",
    ],
  };
}

/** A broker error at the callback (state, cookie, code exchange) as a page. */
function problemFromError(error: BrokerError): CallbackProblem {
  const restart = [
    'login_state_missing',
    'login_state_expired',
    'login_state_invalid',
    'state_missing',
    'state_mismatch',
    'state_reused',
    'invalid_grant',
    'nonce_mismatch',
  ];
  return {
    status: error.statusCode,
    code: error.code,
    title: restart.includes(error.code)
      ? 'This sign-in link can no longer be used'
      : 'Sign-in could not be completed',
    message: error.expose ? error.message : 'The broker could not complete the sign-in.',
    checks: [],
  };
}

/** Whether the client asked for JSON rather than a page (`Accept: application/json` without text/html). */
function wantsJson(event: Pick<HttpEvent, 'headers'>): boolean {
  const accept = header(event, 'accept') ?? '';
  return /application\/json/i.test(accept) && !/text\/html/i.test(accept);
}

const pageStyle =
  'body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}code{background:#f3f3f3;padding:0 .2em}small{color:#666}';
/** The page's only style, allowed by its hash rather than 'unsafe-inline'. */
const pageStyleSrc = `'sha256-${createHash('sha256').update(pageStyle).digest('base64')}'`;

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/**
 * The problem as an HTML page or, for JSON clients, `{ error, message, title, requestId }`: what
 * happened and a way back, never a variable, file or check (those are logged).
 */
function renderCallbackProblem(
  problem: CallbackProblem,
  options: { json: boolean; requestId: string; startOver: string; cookies: string[]; https: boolean },
): HttpResult {
  const cookies = options.cookies.length ? { cookies: options.cookies } : {};
  if (options.json) {
    const body = {
      error: problem.code,
      message: problem.message,
      title: problem.title,
      requestId: options.requestId,
    };
    return { ...json(problem.status, body), ...cookies };
  }
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(problem.title)}</title>
<style>${pageStyle}</style>
</head><body>
<h1>${escapeHtml(problem.title)}</h1>
<p data-error="${escapeHtml(problem.code)}">${escapeHtml(problem.message)}</p>
<p><a href="${escapeHtml(options.startOver)}">Back to the application</a></p>
<p><small>Error <code>${escapeHtml(problem.code)}</code>, request ${escapeHtml(options.requestId)}</small></p>
</body></html>
`;
  return {
    statusCode: problem.status,
    headers: {
      ...documentHeaders({ https: options.https, styleSrc: pageStyleSrc }),
      'Content-Type': 'text/html; charset=utf-8',
    },
    body,
    ...cookies,
  };
}

/** What the callback answers: the redirect home after a sign-in, or the problem as a page or JSON. */
export function renderCallbackOutcome(
  outcome: CallbackOutcome,
  event: Pick<HttpEvent, 'headers'>,
  options: { requestId: string; startOver: string; https: boolean },
): HttpResult {
  if (outcome.kind === 'signed-in') {
    return redirect(outcome.location, { https: options.https, cookies: outcome.cookies });
  }
  return renderCallbackProblem(outcome.problem, {
    json: wantsJson(event),
    requestId: options.requestId,
    startOver: outcome.startOver ?? options.startOver,
    cookies: outcome.cookies,
    https: options.https,
  });
}

/**
 * The callback's error renderer: like `errorResponses`, but a page for browsers, and the login-state
 * cookie is cleared whatever happened (it is single-use).
 */
export function callbackErrorResponses(
  log: Logger,
  options: { startOver: string; clearLoginState: string; https: boolean },
): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    after: (request) => countResponse(request),
    onError: (request) => {
      const requestId = requestIdOf(request.event, request.context);
      // renderError logs the error (once) and gives the JSON rendering.
      const rendered = renderError(request.error, requestId, log);
      if (wantsJson(request.event)) {
        request.response = { ...rendered, cookies: [options.clearLoginState] };
        countResponse(request);
        return;
      }
      const error = deadlineError(request.error);
      const problem =
        error instanceof BrokerError
          ? problemFromError(error)
          : problemFromError(
              new BrokerError('internal', { statusCode: 500, code: 'internal_error', expose: false }),
            );
      request.response = renderCallbackProblem(problem, {
        json: false,
        requestId,
        startOver: options.startOver,
        cookies: [options.clearLoginState],
        https: options.https,
      });
      countResponse(request);
    },
  };
}
