// HTTP routes of the user pool stand-in: the hosted-UI domain (`/oauth2/*`, `/login`, `/logout`,
// `/error`) and the pool issuer (`/<userPoolId>/.well-known/*`). Behaviour and error answers follow
// Cognito's endpoint reference (https://docs.aws.amazon.com/cognito/latest/developerguide/federation-endpoints.html).
//
//   hosted-ui.ts       authorize, login page, idpresponse, logout, error page (the browser side)
//   token-endpoint.ts  token, userInfo, revoke (the back-end side)
//   runtime.ts         the state they share

import type { IncomingMessage, ServerResponse } from 'node:http';
import { authorize, errorPage, idpResponse, loginPage, logout } from './hosted-ui.ts';
import { page, sendHtml, sendJson } from './http.ts';
import { applyFault, type PoolRuntime } from './runtime.ts';
import { revoke, tokenEndpoint, userInfo } from './token-endpoint.ts';

// ------------------------------------------------------------------ issuer documents

function discovery(runtime: PoolRuntime): Record<string, unknown> {
  return {
    authorization_endpoint: `${runtime.url}/oauth2/authorize`,
    end_session_endpoint: `${runtime.url}/logout`,
    id_token_signing_alg_values_supported: ['RS256'],
    issuer: runtime.issuer,
    jwks_uri: `${runtime.issuer}/.well-known/jwks.json`,
    response_types_supported: ['code', 'token'],
    revocation_endpoint: `${runtime.url}/oauth2/revoke`,
    scopes_supported: ['openid', 'email', 'phone', 'profile'],
    subject_types_supported: ['public'],
    token_endpoint: `${runtime.url}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    userinfo_endpoint: `${runtime.url}/oauth2/userInfo`,
  };
}

// ------------------------------------------------------------------ router

function count(runtime: PoolRuntime, name: string): void {
  runtime.calls[name] = (runtime.calls[name] ?? 0) + 1;
}

/** The request handler of the user pool stand-in. */
export function createRouter(
  runtime: PoolRuntime,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const issuerPath = `/${runtime.userPoolId}`;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', runtime.url);
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /oauth2/authorize':
        count(runtime, 'authorize');
        return authorize(runtime, req, res, url.searchParams);
      case 'GET /login':
        count(runtime, 'login');
        return loginPage(runtime, req, res, url.searchParams);
      case 'GET /oauth2/idpresponse':
        count(runtime, 'idpresponse');
        return idpResponse(runtime, res, url.searchParams);
      case 'POST /oauth2/token':
        count(runtime, 'token');
        return tokenEndpoint(runtime, req, res);
      case 'OPTIONS /oauth2/token':
        res
          .writeHead(204, {
            'access-control-allow-origin': '*',
            'access-control-allow-methods': 'POST',
            'access-control-allow-headers': 'authorization, content-type',
          })
          .end();
        return;
      case 'GET /oauth2/userInfo':
      case 'POST /oauth2/userInfo':
        count(runtime, 'userInfo');
        return userInfo(runtime, req, res);
      case 'POST /oauth2/revoke':
        count(runtime, 'revoke');
        return revoke(runtime, req, res);
      case 'GET /logout':
        count(runtime, 'logout');
        return logout(runtime, req, res, url.searchParams);
      case 'GET /error':
        return errorPage(res, url.searchParams.get('error') ?? 'unknown');
      case `GET ${issuerPath}/.well-known/openid-configuration`:
        count(runtime, 'discovery');
        return sendJson(res, 200, discovery(runtime), { 'cache-control': 'max-age=300' });
      case `GET ${issuerPath}/.well-known/jwks.json`:
        count(runtime, 'jwks');
        if (await applyFault(res, runtime.faults.jwks)) return;
        return sendJson(res, 200, runtime.keys.jwks, { 'cache-control': 'max-age=300' });
      default:
        sendHtml(res, 404, page('Not found', '<h1>Not found</h1>'));
    }
  };
}
