import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { UserPoolStandInOptions } from '../../../local/cognito/user-pool.ts';
import { isPortTaken } from '../../../local/net.ts';
import { readTemplate } from '../../../local/template.ts';
import {
  APP_CALLBACK,
  APP_CLIENT,
  APP_ORIGIN,
  authorizeUrl,
  browse,
  CookieJar,
  claimsOf,
  follow,
  freePort,
  IDME,
  IDURA,
  type Idps,
  location,
  pkce,
  redeem,
  resolver,
  type Stack,
  signIn,
  startIdps,
  startPool,
  startStack,
  type TokenSet,
  tokenRequest,
} from './cognito-support.ts';

const POOL_ID = 'us-east-1_OfflinePool';

/** The event the fixture trigger received, as it echoes it into the ID token. */
interface SeenEvent {
  version: string;
  triggerSource: string;
  region: string;
  userPoolId: string;
  userName: string;
  callerContext: unknown;
  request: { scopes: string[]; groupConfiguration: unknown; userAttributes: Record<string, unknown> };
  response: unknown;
}
const MITID = { provider: IDURA, extra: { login_hint: 'acr_values:urn:grn:authn:dk:mitid:substantial' } };

async function tokenError(response: Response): Promise<{ status: number; body: Record<string, unknown> }> {
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function revoke(stack: Stack, token: string, secret = APP_CLIENT.clientSecret): Promise<Response> {
  return fetch(`${stack.pool.url}/oauth2/revoke`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${APP_CLIENT.clientId}:${secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }),
  });
}

describe('user pool stand-in', () => {
  let stack: Stack;
  let clockOffsetMs = 0;
  let veteran: TokenSet;

  before(async () => {
    stack = await startStack({ now: () => Date.now() + clockOffsetMs });
    veteran = await redeem(stack.pool, await signIn(stack.pool, 'veteran'));
  });
  after(() => stack.close());
  afterEach(() => {
    clockOffsetMs = 0;
    stack.pool.setFault();
    stack.idura.setUserinfoStrategy('plainJson');
  });

  describe('issuer documents', () => {
    it('publishes discovery under <url>/<userPoolId> with the hosted-UI endpoints at the root', async () => {
      assert.equal(stack.pool.issuer, `${stack.pool.url}/${POOL_ID}`);
      assert.equal(stack.pool.loginsKey, `${new URL(stack.pool.url).host}/${POOL_ID}`);
      const doc = (await (
        await fetch(`${stack.pool.issuer}/.well-known/openid-configuration`)
      ).json()) as Record<string, unknown>;
      assert.equal(doc.issuer, stack.pool.issuer);
      assert.equal(doc.jwks_uri, stack.pool.jwksUri);
      assert.equal(doc.authorization_endpoint, `${stack.pool.url}/oauth2/authorize`);
      assert.equal(doc.token_endpoint, `${stack.pool.url}/oauth2/token`);
      assert.equal(doc.userinfo_endpoint, `${stack.pool.url}/oauth2/userInfo`);
      assert.equal(doc.revocation_endpoint, `${stack.pool.url}/oauth2/revoke`);
      assert.equal(doc.end_session_endpoint, `${stack.pool.url}/logout`);
    });

    it('signs ID and access tokens with two different RSA keys of the JWKS', async () => {
      const jwks = (await (await fetch(stack.pool.jwksUri)).json()) as {
        keys: Array<{ kid: string; kty: string; alg: string }>;
      };
      assert.equal(jwks.keys.length, 2);
      assert.ok(jwks.keys.every((key) => key.kty === 'RSA' && key.alg === 'RS256'));
      const idKid = decodeProtectedHeader(veteran.id_token).kid;
      const accessKid = decodeProtectedHeader(veteran.access_token).kid;
      assert.notEqual(idKid, accessKid);
      assert.deepEqual(new Set(jwks.keys.map((key) => key.kid)), new Set([idKid, accessKid]));
    });
  });

  describe('federated sign-in with ID.me', () => {
    it('returns the app state and a code; the ID token verifies against the pool JWKS', async () => {
      const callback = await signIn(stack.pool, 'veteran', { state: 'state-xyz' });
      assert.equal(callback.origin + callback.pathname, APP_CALLBACK);
      assert.equal(callback.searchParams.get('state'), 'state-xyz');
      assert.match(callback.searchParams.get('code') ?? '', /^[0-9a-f-]{36}$/);
      const tokens = await redeem(stack.pool, callback);
      assert.equal(tokens.token_type, 'Bearer');
      assert.equal(tokens.expires_in, 3600);
      assert.equal(tokens.refresh_token.split('.').length, 5);
      const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(stack.pool.jwksUri)), {
        issuer: stack.pool.issuer,
        audience: APP_CLIENT.clientId,
        algorithms: ['RS256'],
      });
      assert.equal(payload.token_use, 'id');
    });

    it("carries Cognito's ID token claims for a federated user", () => {
      const claims = claimsOf(veteran.id_token);
      assert.equal(claims['cognito:username'], 'IDmeSandbox_6400bbf301eb4e6e95ccea7693eced6f');
      assert.match(
        String(claims.sub),
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      assert.deepEqual(claims['cognito:groups'], [`${POOL_ID}_IDmeSandbox`]);
      assert.equal(claims.nonce, 'app-nonce-1');
      assert.equal(claims.aud, APP_CLIENT.clientId);
      assert.equal(claims.iss, stack.pool.issuer);
      assert.equal(claims.exp, Number(claims.iat) + 3600);
      assert.equal(typeof claims.auth_time, 'number');
      for (const name of ['origin_jti', 'jti', 'event_id'])
        assert.match(String(claims[name]), /^[0-9a-f-]{36}$/, name);
      const identities = claims.identities as Array<Record<string, unknown>>;
      assert.equal(identities.length, 1);
      assert.deepEqual(
        { ...identities[0], dateCreated: undefined },
        {
          userId: '6400bbf301eb4e6e95ccea7693eced6f',
          providerName: 'IDmeSandbox',
          providerType: 'OIDC',
          issuer: null,
          primary: 'true',
          dateCreated: undefined,
        },
      );
      assert.match(String(identities[0]?.dateCreated), /^\d{13}$/);
      const digest = createHash('sha256')
        .update(veteran.access_token)
        .digest()
        .subarray(0, 16)
        .toString('base64url');
      assert.equal(claims.at_hash, digest);
    });

    it('adds the canonical claims of the real trigger and suppresses the raw attributes', () => {
      const claims = claimsOf(veteran.id_token);
      assert.equal(claims.idp, 'idme');
      assert.equal(claims.idp_env, 'sandbox');
      assert.equal(claims.idp_sub, '6400bbf301eb4e6e95ccea7693eced6f');
      assert.equal(claims.given_name, 'MARK');
      assert.equal(claims.birthdate, '1950-10-04');
      assert.deepEqual(claims.affiliations, ['military:veteran']);
      assert.equal(claims.claims_schema, 'fb-1');
      assert.equal(claims['custom:idp_birthdate'], undefined);
      assert.equal(claims['custom:idme_status'], undefined);
    });

    it("carries Cognito's access token claims and the trigger's access-token claims only", () => {
      const claims = claimsOf(veteran.access_token);
      assert.equal(claims.token_use, 'access');
      assert.equal(claims.client_id, APP_CLIENT.clientId);
      assert.equal(claims.username, 'IDmeSandbox_6400bbf301eb4e6e95ccea7693eced6f');
      assert.equal(claims.scope, 'openid email profile');
      assert.equal(claims.version, 2);
      assert.equal(claims.aud, undefined);
      assert.equal(claims.sub, claimsOf(veteran.id_token).sub);
      assert.equal(claims.origin_jti, claimsOf(veteran.id_token).origin_jti);
      assert.deepEqual(claims['cognito:groups'], [`${POOL_ID}_IDmeSandbox`]);
      assert.equal(claims.idp, 'idme');
      assert.equal(claims.given_name, undefined);
    });

    it('stores the user with mapped attributes as strings and a stable sub', async () => {
      const before = stack.pool
        .users()
        .find((u) => u.username === 'IDmeSandbox_6400bbf301eb4e6e95ccea7693eced6f');
      assert.ok(before);
      assert.equal(before.status, 'EXTERNAL_PROVIDER');
      assert.equal(before.attributes['custom:idp_loa'], '3');
      assert.equal(
        before.attributes['custom:idme_status'],
        '[{"group":"military","subgroups":["Veteran"],"verified":true}]',
      );
      assert.equal(typeof before.attributes.identities, 'string');
      assert.equal(before.attributes.social, undefined);
      const again = await redeem(stack.pool, await signIn(stack.pool, 'veteran'));
      assert.equal(claimsOf(again.id_token).sub, before.sub);
      assert.equal(
        stack.pool.users().filter((u) => u.providerName === IDME && u.sub === before.sub).length,
        1,
      );
    });

    it('passes a cancelled IdP sign-in on to the app as access_denied with its state', async () => {
      const callback = await signIn(stack.pool, 'cancel', { state: 'cancelled-state' });
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      assert.equal(callback.searchParams.get('state'), 'cancelled-state');
      assert.equal(callback.searchParams.get('code'), null);
    });

    it('sends the IdP Cognito’s own state and nonce, its idpresponse URL and the template scopes', async () => {
      const response = await browse(
        new CookieJar(),
        authorizeUrl(stack.pool, { provider: IDME, extra: { login_hint: 'vet@example.com' } }),
      );
      assert.equal(response.status, 302);
      const upstream = location(response, stack.pool.url);
      assert.equal(upstream.origin, stack.idme.url);
      assert.equal(upstream.pathname, '/oauth/authorize');
      assert.equal(upstream.searchParams.get('redirect_uri'), `${stack.pool.url}/oauth2/idpresponse`);
      assert.equal(upstream.searchParams.get('scope'), 'openid military');
      assert.equal(upstream.searchParams.get('login_hint'), 'vet@example.com');
      assert.notEqual(upstream.searchParams.get('state'), 'app-state-1');
      assert.notEqual(upstream.searchParams.get('nonce'), 'app-nonce-1');
    });
  });

  describe('federated sign-in with Idura', () => {
    it('maps the MitID claims and names the user IduraTest_<sub>', async () => {
      const tokens = await redeem(stack.pool, await signIn(stack.pool, 'mitid', MITID));
      const claims = claimsOf(tokens.id_token);
      assert.equal(claims['cognito:username'], 'IduraTest_{0f9960a0-d28d-4353-a3e2-ea07f8ffa185}');
      assert.deepEqual(claims['cognito:groups'], [`${POOL_ID}_IduraTest`]);
      assert.equal(claims.idp, 'idura');
      assert.equal(claims.name, 'Ditlev Von Testesen');
      assert.equal(claims.eid_scheme, 'dkmitid');
      assert.equal(claims.country, 'DK');
      assert.equal(claims.cprNumberIdentifier, undefined);
    });

    it('fails like Cognito when Idura answers user info as a signed JWT', async () => {
      stack.idura.setUserinfoStrategy('signedJwt');
      const callback = await signIn(stack.pool, 'mitid', { ...MITID, state: 'jwt-state' });
      assert.equal(callback.searchParams.get('error'), 'invalid_request');
      assert.equal(
        callback.searchParams.get('error_description'),
        'invalid token_type in idp oauth response',
      );
      assert.equal(callback.searchParams.get('state'), 'jwt-state');
      assert.match(callback.search, /error_description=invalid\+token_type\+in\+idp\+oauth\+response/);
    });
  });

  describe('federation state', () => {
    it('abandons a federated sign-in not finished within 5 minutes', async () => {
      const jar = new CookieJar();
      const first = await browse(jar, authorizeUrl(stack.pool, { provider: IDME }));
      const idpResponse = await follow(
        jar,
        first,
        stack.pool.url,
        'veteran',
        (url) => url.pathname === '/oauth2/idpresponse',
      );
      clockOffsetMs = 5 * 60_000 + 1000;
      const page = await browse(jar, idpResponse);
      assert.equal(page.status, 400);
      assert.match(await page.text(), /Something went wrong/);
    });

    it('refuses an idpresponse with an unknown state', async () => {
      const page = await fetch(`${stack.pool.url}/oauth2/idpresponse?code=abc&state=forged`, {
        redirect: 'manual',
      });
      assert.equal(page.status, 400);
      assert.match(await page.text(), /Something went wrong/);
    });

    it('answers prompt=none without a hosted-UI session with login_required', async () => {
      const response = await browse(
        new CookieJar(),
        authorizeUrl(stack.pool, { provider: IDME, extra: { prompt: 'none' } }),
      );
      const callback = location(response, stack.pool.url);
      assert.equal(callback.searchParams.get('error'), 'login_required');
      assert.equal(callback.searchParams.get('state'), 'app-state-1');
    });
  });

  describe('/oauth2/authorize errors', () => {
    it('shows its error page for an unregistered redirect_uri and never redirects to it', async () => {
      const jar = new CookieJar();
      const response = await browse(
        jar,
        authorizeUrl(stack.pool, { provider: IDME, redirectUri: `${APP_CALLBACK}/` }),
      );
      const errorUrl = location(response, stack.pool.url);
      assert.equal(errorUrl.origin, stack.pool.url);
      assert.equal(errorUrl.pathname, '/error');
      assert.equal(errorUrl.searchParams.get('error'), 'redirect_mismatch');
      const page = await browse(jar, errorUrl);
      assert.equal(page.status, 400);
      assert.match(
        await page.text(),
        /An error was encountered with the requested page\.[\s\S]*redirect_mismatch/,
      );
    });

    it('shows its error page for an unknown client_id', async () => {
      const response = await browse(
        new CookieJar(),
        authorizeUrl(stack.pool, { provider: IDME, clientId: 'nobody' }),
      );
      assert.equal(response.status, 400);
      assert.match(await response.text(), /An error was encountered/);
    });

    it('says "Login option is not available" for a provider name in the wrong case', async () => {
      const response = await browse(new CookieJar(), authorizeUrl(stack.pool, { provider: 'idmesandbox' }));
      assert.equal(response.status, 400);
      assert.match(await response.text(), /Login option is not available\. Please try another one/);
    });

    it('refuses PKCE plain with invalid_request, redirected to the app', async () => {
      const response = await browse(
        new CookieJar(),
        authorizeUrl(stack.pool, {
          provider: IDME,
          extra: { code_challenge: 'abc', code_challenge_method: 'plain' },
        }),
      );
      const callback = location(response, stack.pool.url);
      assert.equal(callback.origin + callback.pathname, APP_CALLBACK);
      assert.equal(callback.searchParams.get('error'), 'invalid_request');
      assert.equal(callback.searchParams.get('state'), 'app-state-1');
    });

    it('refuses a code_challenge without its method', async () => {
      const response = await browse(
        new CookieJar(),
        authorizeUrl(stack.pool, { provider: IDME, extra: { code_challenge: 'abc' } }),
      );
      assert.equal(location(response, stack.pool.url).searchParams.get('error'), 'invalid_request');
    });

    it('refuses response_type=token for a code-only client with unauthorized_client', async () => {
      const response = await browse(
        new CookieJar(),
        authorizeUrl(stack.pool, { provider: IDME, extra: { response_type: 'token' } }),
      );
      assert.equal(location(response, stack.pool.url).searchParams.get('error'), 'unauthorized_client');
    });

    it('refuses scopes none of which the client may use with invalid_scope', async () => {
      const response = await browse(
        new CookieJar(),
        authorizeUrl(stack.pool, { provider: IDME, scope: 'phone' }),
      );
      assert.equal(location(response, stack.pool.url).searchParams.get('error'), 'invalid_scope');
    });

    it('ignores scopes the client may not use', async () => {
      const tokens = await redeem(
        stack.pool,
        await signIn(stack.pool, 'student', { scope: 'openid phone email' }),
      );
      assert.equal(claimsOf(tokens.access_token).scope, 'openid email');
    });

    it('without identity_provider shows a sign-in page listing the providers', async () => {
      const jar = new CookieJar();
      const response = await browse(jar, authorizeUrl(stack.pool));
      const login = location(response, stack.pool.url);
      assert.equal(login.pathname, '/login');
      const page = await browse(jar, login);
      assert.equal(page.status, 200);
      const html = await page.text();
      assert.match(html, /data-testid="provider-IDmeSandbox"/);
      assert.match(html, /data-testid="provider-IduraTest"/);
      const href =
        /data-testid="provider-IduraTest" href="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&') ?? '';
      const callback = await follow(
        jar,
        await browse(jar, new URL(href, stack.pool.url)),
        stack.pool.url,
        'de-eid',
      );
      assert.equal(claimsOf((await redeem(stack.pool, callback)).id_token).eid_scheme, 'deadesso');
    });
  });

  describe('/oauth2/token', () => {
    it('accepts client_secret_post as well as Basic', async () => {
      const callback = await signIn(stack.pool, 'student');
      const response = await tokenRequest(
        stack.pool,
        {
          grant_type: 'authorization_code',
          code: callback.searchParams.get('code') ?? '',
          redirect_uri: APP_CALLBACK,
        },
        'post',
      );
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('access-control-allow-origin'), '*');
    });

    it('refuses a reused code with invalid_grant', async () => {
      const callback = await signIn(stack.pool, 'student');
      await redeem(stack.pool, callback);
      const again = await tokenRequest(stack.pool, {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: APP_CALLBACK,
      });
      assert.deepEqual(await tokenError(again), { status: 400, body: { error: 'invalid_grant' } });
    });

    it('refuses a code older than 5 minutes with invalid_grant', async () => {
      const callback = await signIn(stack.pool, 'student');
      clockOffsetMs = 5 * 60_000 + 1000;
      const response = await tokenRequest(stack.pool, {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: APP_CALLBACK,
      });
      assert.deepEqual(await tokenError(response), { status: 400, body: { error: 'invalid_grant' } });
    });

    it('refuses another redirect_uri than at authorize with unauthorized_client / invalid_redirect', async () => {
      const callback = await signIn(stack.pool, 'student');
      const response = await tokenRequest(stack.pool, {
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code') ?? '',
        redirect_uri: `${APP_ORIGIN}/elsewhere`,
      });
      assert.deepEqual(await tokenError(response), {
        status: 400,
        body: { error: 'unauthorized_client', error_description: 'invalid_redirect' },
      });
    });

    it('refuses a wrong client secret and an unknown client with invalid_client', async () => {
      const callback = await signIn(stack.pool, 'student');
      const code = callback.searchParams.get('code') ?? '';
      const wrong = await tokenRequest(
        stack.pool,
        { grant_type: 'authorization_code', code, redirect_uri: APP_CALLBACK },
        'basic',
        'nope',
      );
      assert.deepEqual(await tokenError(wrong), { status: 400, body: { error: 'invalid_client' } });
      const unknown = await tokenRequest(
        stack.pool,
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: APP_CALLBACK,
          client_id: 'nobody',
        },
        'none',
      );
      assert.deepEqual(await tokenError(unknown), { status: 400, body: { error: 'invalid_client' } });
      // The failed attempts did not consume the code.
      assert.ok((await redeem(stack.pool, callback)).id_token);
    });

    it('refuses an unknown grant type with unsupported_grant_type', async () => {
      const response = await tokenRequest(stack.pool, { grant_type: 'password' });
      assert.deepEqual(await tokenError(response), {
        status: 400,
        body: { error: 'unsupported_grant_type' },
      });
    });

    it('checks the PKCE code_verifier (S256)', async () => {
      const proof = pkce();
      const wrong = await signIn(stack.pool, 'student', { pkce: proof });
      const refused = await tokenRequest(stack.pool, {
        grant_type: 'authorization_code',
        code: wrong.searchParams.get('code') ?? '',
        redirect_uri: APP_CALLBACK,
        code_verifier: 'x'.repeat(43),
      });
      assert.deepEqual(await tokenError(refused), { status: 400, body: { error: 'invalid_grant' } });
      const right = await signIn(stack.pool, 'student', { pkce: proof });
      assert.ok((await redeem(stack.pool, right, proof.verifier)).access_token);
    });

    it('answers refresh_token with new ID and access tokens but no new refresh token', async () => {
      const original = await redeem(stack.pool, await signIn(stack.pool, 'veteran'));
      clockOffsetMs = 10 * 60_000;
      const response = await tokenRequest(stack.pool, {
        grant_type: 'refresh_token',
        refresh_token: original.refresh_token,
      });
      assert.equal(response.status, 200);
      const refreshed = (await response.json()) as Record<string, unknown>;
      assert.equal(refreshed.refresh_token, undefined);
      const before = claimsOf(original.id_token);
      const after = claimsOf(String(refreshed.id_token));
      assert.equal(after.origin_jti, before.origin_jti);
      assert.notEqual(after.jti, before.jti);
      assert.equal(after.auth_time, before.auth_time);
      assert.equal(Number(after.iat) - Number(before.iat) >= 600, true);
      assert.equal(after.nonce, undefined);
      // The trigger ran again (TokenGeneration_RefreshTokens) on the stored attributes.
      assert.equal(after.idp, 'idme');
      assert.deepEqual(after.affiliations, ['military:veteran']);
      assert.equal(claimsOf(String(refreshed.access_token)).origin_jti, before.origin_jti);
    });

    it('refuses a refresh token after revocation with invalid_grant', async () => {
      const tokens = await redeem(stack.pool, await signIn(stack.pool, 'student'));
      assert.equal((await revoke(stack, tokens.refresh_token)).status, 200);
      const response = await tokenRequest(stack.pool, {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      });
      assert.deepEqual(await tokenError(response), { status: 400, body: { error: 'invalid_grant' } });
    });
  });

  describe('/oauth2/revoke', () => {
    it('answers 200 for a token that is already invalid', async () => {
      const response = await revoke(stack, 'eyJ.not.a.valid.token');
      assert.equal(response.status, 200);
      assert.equal(await response.text(), '');
    });

    it('refuses an access token with unsupported_token_type', async () => {
      const response = await revoke(stack, veteran.access_token);
      assert.deepEqual(await tokenError(response), {
        status: 400,
        body: { error: 'unsupported_token_type' },
      });
    });

    it('refuses a wrong client secret with 401 invalid_client', async () => {
      const response = await revoke(stack, veteran.refresh_token, 'nope');
      assert.deepEqual(await tokenError(response), { status: 401, body: { error: 'invalid_client' } });
    });
  });

  describe('/oauth2/userInfo', () => {
    it('answers the attributes for the access token scopes as strings', async () => {
      const response = await fetch(`${stack.pool.url}/oauth2/userInfo`, {
        headers: { authorization: `Bearer ${veteran.access_token}` },
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body.sub, claimsOf(veteran.id_token).sub);
      assert.equal(body.username, 'IDmeSandbox_6400bbf301eb4e6e95ccea7693eced6f');
      assert.equal(body.email, 'vets.gov.user+228@gmail.com');
      assert.equal(body.given_name, 'MARK');
      assert.equal(body['custom:idp_loa'], '3');
      assert.equal(body.idp, undefined, 'trigger claims are for tokens only');
    });

    it('answers 400 with WWW-Authenticate without a bearer token', async () => {
      const response = await fetch(`${stack.pool.url}/oauth2/userInfo`);
      assert.equal(response.status, 400);
      assert.match(response.headers.get('www-authenticate') ?? '', /Bad OAuth2 request at UserInfo Endpoint/);
    });

    it('answers 401 for an ID token, and for an access token whose refresh token was revoked', async () => {
      const idToken = await fetch(`${stack.pool.url}/oauth2/userInfo`, {
        headers: { authorization: `Bearer ${veteran.id_token}` },
      });
      assert.equal(idToken.status, 401);
      const tokens = await redeem(stack.pool, await signIn(stack.pool, 'student'));
      await revoke(stack, tokens.refresh_token);
      const response = await fetch(`${stack.pool.url}/oauth2/userInfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      });
      assert.equal(response.status, 401);
      assert.match(
        response.headers.get('www-authenticate') ?? '',
        /Access token is expired, disabled, or deleted/,
      );
    });

    it('answers 401 for an expired access token', async () => {
      clockOffsetMs = 3601 * 1000;
      const response = await fetch(`${stack.pool.url}/oauth2/userInfo`, {
        headers: { authorization: `Bearer ${veteran.access_token}` },
      });
      assert.equal(response.status, 401);
    });
  });

  describe('hosted UI session and /logout', () => {
    it('signs in again without the IdP while the session cookie lives, until /logout', async () => {
      const jar = new CookieJar();
      await signIn(stack.pool, 'veteran', {}, jar);
      assert.ok(jar.cookies.has('cognito_session'));
      assert.ok(
        [...jar.cookies.keys()]
          .filter((name) => !name.startsWith('idme_'))
          .every((name) => name.startsWith('cognito_')),
      );
      const silent = location(
        await browse(jar, location(await browse(jar, authorizeUrl(stack.pool)), stack.pool.url)),
        stack.pool.url,
      );
      assert.equal(silent.origin + silent.pathname, APP_CALLBACK);
      assert.ok(silent.searchParams.get('code'));

      const logout = await browse(
        jar,
        `${stack.pool.url}/logout?client_id=${APP_CLIENT.clientId}&logout_uri=${encodeURIComponent(APP_ORIGIN)}`,
      );
      assert.equal(logout.status, 302);
      assert.equal(logout.headers.get('location'), APP_ORIGIN);
      assert.equal(jar.cookies.has('cognito_session'), false);
      const page = await browse(jar, location(await browse(jar, authorizeUrl(stack.pool)), stack.pool.url));
      assert.equal(page.status, 200);
    });

    it('refuses an unregistered logout_uri with its error page', async () => {
      const response = await fetch(
        `${stack.pool.url}/logout?client_id=${APP_CLIENT.clientId}&logout_uri=${encodeURIComponent('https://evil.example')}`,
        {
          redirect: 'manual',
        },
      );
      const target = location(response, stack.pool.url);
      assert.equal(target.pathname, '/error');
      assert.equal(target.searchParams.get('error'), 'redirect_mismatch');
    });
  });

  describe('faults', () => {
    it('tokenEndpoint status500 answers 500', async () => {
      stack.pool.setFault({ tokenEndpoint: 'status500' });
      const response = await tokenRequest(stack.pool, {
        grant_type: 'refresh_token',
        refresh_token: veteran.refresh_token,
      });
      assert.equal(response.status, 500);
    });

    it('tokenEndpoint hang never answers', async () => {
      stack.pool.setFault({ tokenEndpoint: 'hang' });
      await assert.rejects(
        fetch(`${stack.pool.url}/oauth2/token`, { method: 'POST', signal: AbortSignal.timeout(150) }),
        (error: unknown) => error instanceof Error && error.name === 'TimeoutError',
      );
    });

    it('tokenEndpoint delayMs answers late but normally', async () => {
      stack.pool.setFault({ tokenEndpoint: { delayMs: 120 } });
      const started = Date.now();
      const response = await tokenRequest(stack.pool, {
        grant_type: 'refresh_token',
        refresh_token: veteran.refresh_token,
      });
      assert.equal(response.status, 200);
      assert.ok(Date.now() - started >= 110);
    });

    it('jwks down answers 503 until cleared', async () => {
      stack.pool.setFault({ jwks: 'down' });
      assert.equal((await fetch(stack.pool.jwksUri)).status, 503);
      stack.pool.setFault();
      assert.equal((await fetch(stack.pool.jwksUri)).status, 200);
    });

    it('counts requests per endpoint', async () => {
      const before = stack.pool.calls.jwks ?? 0;
      await fetch(stack.pool.jwksUri);
      assert.equal(stack.pool.calls.jwks, before + 1);
    });
  });
});

describe('user pool stand-in with other options or a modified template', { concurrency: true }, () => {
  const variants = 11;
  let idps: Idps;
  const ports: number[] = [];
  /** A pool on one of the ports the shared IdPs accept, closed with `stack.close()`. */
  async function variantStack(overrides: Partial<UserPoolStandInOptions>): Promise<Stack> {
    const port = ports.pop();
    assert.ok(port !== undefined, 'reserve a port per variant');
    try {
      const pool = await startPool(idps, { ...overrides, port });
      return { ...idps, pool, close: () => pool.close() };
    } catch (error) {
      // Something took the reserved port meanwhile: a stack of its own, on a port free now.
      if (!isPortTaken(error)) throw error;
      return startStack(overrides);
    }
  }

  before(async () => {
    for (let i = 0; i < variants; i += 1) ports.push(await freePort());
    idps = await startIdps(ports);
  });
  after(() => idps.close());

  it('takes token lifetimes from the options and token times from the clock', async () => {
    const ahead = 120_000;
    const stack = await variantStack({
      tokenLifetimes: { idTokenSeconds: 300, accessTokenSeconds: 600 },
      now: () => Date.now() + ahead,
    });
    try {
      const tokens = await redeem(stack.pool, await signIn(stack.pool, 'mitid', MITID));
      const id = claimsOf(tokens.id_token);
      const access = claimsOf(tokens.access_token);
      assert.equal(Number(id.exp) - Number(id.iat), 300);
      assert.equal(Number(access.exp) - Number(access.iat), 600);
      assert.equal(tokens.expires_in, 600);
      assert.ok(Math.abs(Number(id.iat) - Math.floor((Date.now() + ahead) / 1000)) <= 2);
    } finally {
      await stack.close();
    }
  });

  it('fails sign-in with Cognito’s message when a required attribute is missing', async () => {
    const template = readTemplate();
    const pool = template.Resources.UserPool?.Properties as { Schema: unknown[] };
    pool.Schema.push({ Name: 'email', AttributeDataType: 'String', Required: true, Mutable: true });
    const stack = await variantStack({ template: resolver(template) });
    try {
      const callback = await signIn(stack.pool, 'mitid', MITID);
      assert.equal(callback.searchParams.get('error'), 'invalid_request');
      assert.equal(
        callback.searchParams.get('error_description'),
        'Invalid user attributes: email. The attribute is required.',
      );
      assert.equal(stack.pool.users().length, 0);
      // ID.me sends an email, so the same pool signs the veteran in.
      assert.ok((await signIn(stack.pool, 'veteran')).searchParams.get('code'));
    } finally {
      await stack.close();
    }
  });

  it('fails sign-in when the mapping names an attribute the schema lacks', async () => {
    const template = readTemplate();
    const idura = template.Resources.IduraProvider?.Properties as {
      AttributeMapping: Record<string, string>;
    };
    idura.AttributeMapping['custom:not_in_schema'] = 'country';
    const stack = await variantStack({ template: resolver(template) });
    try {
      const callback = await signIn(stack.pool, 'mitid', MITID);
      assert.equal(
        callback.searchParams.get('error_description'),
        'Invalid user attributes: Type for attribute {custom:not_in_schema} could not be determined',
      );
    } finally {
      await stack.close();
    }
  });

  it('builds and starts the trigger with the stand-in: a build error stops it, its port closed again', async () => {
    const template = readTemplate();
    const fn = template.Resources.PreTokenGenerationFunction;
    assert.ok(fn?.Metadata);
    fn.Metadata.BuildProperties = { EntryPoints: ['test/unit/local/no-such-trigger.ts'] };
    const port = await freePort();
    const started = startPool(idps, { template: resolver(template), port });
    // A pool that started anyway is closed, so the failure is the assertion's, not a hang.
    await assert.rejects(
      started.then((pool) => pool.close()),
      /esbuild failed/,
    );
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it('puts a thrown trigger error in error_description', async () => {
    const template = readTemplate();
    const fn = template.Resources.PreTokenGenerationFunction;
    assert.ok(fn?.Properties && fn.Metadata);
    fn.Properties.Handler = 'handler.throwing';
    fn.Metadata.BuildProperties = { EntryPoints: ['test/unit/local/cognito-trigger-fixture.ts'] };
    const stack = await variantStack({ template: resolver(template) });
    try {
      const callback = await signIn(stack.pool, 'veteran', { state: 'trigger-state' });
      assert.equal(callback.searchParams.get('error'), 'invalid_request');
      assert.equal(
        callback.searchParams.get('error_description'),
        'PreTokenGeneration failed with error This account cannot sign in here.',
      );
      assert.equal(callback.searchParams.get('state'), 'trigger-state');
    } finally {
      await stack.close();
    }
  });

  it('fails sign-in with Lambda’s timeout error when the trigger outlives its Timeout', async () => {
    const template = readTemplate();
    const fn = template.Resources.PreTokenGenerationFunction;
    assert.ok(fn?.Properties && fn.Metadata);
    fn.Properties.Handler = 'handler.hanging';
    fn.Properties.Timeout = 1;
    fn.Metadata.BuildProperties = { EntryPoints: ['test/unit/local/cognito-trigger-fixture.ts'] };
    const stack = await variantStack({ template: resolver(template) });
    try {
      const callback = await signIn(stack.pool, 'veteran');
      assert.equal(
        callback.searchParams.get('error_description'),
        'PreTokenGeneration failed with error Task timed out after 1.00 seconds.',
      );
    } finally {
      await stack.close();
    }
  });

  it('retries a trigger that does not answer within Cognito’s wait in another container, and uses its answer', async () => {
    const template = readTemplate();
    const fn = template.Resources.PreTokenGenerationFunction;
    assert.ok(fn?.Properties && fn.Metadata);
    fn.Properties.Handler = 'handler.hangsOnce';
    const attempts = join(mkdtempSync(join(tmpdir(), 'trigger-attempts-')), 'pids');
    fn.Properties.Environment = { Variables: { ATTEMPTS_FILE: attempts } };
    fn.Metadata.BuildProperties = { EntryPoints: ['test/unit/local/cognito-trigger-fixture.ts'] };
    // Cognito waits 5 s per attempt; a shorter wait (injected) still leaves the retry's new container
    // time for its cold start on a loaded machine.
    const stack = await variantStack({ template: resolver(template), triggerWaitMs: 2000 });
    try {
      const tokens = await redeem(stack.pool, await signIn(stack.pool, 'veteran'));
      const id = claimsOf(tokens.id_token);
      assert.equal(id.attempt, 2, 'the second attempt answered');
      const [first, second] = id.pids as number[];
      assert.notEqual(
        first,
        second,
        'the first attempt still runs: Lambda gives the retry another container',
      );
    } finally {
      await stack.close();
      rmSync(dirname(attempts), { recursive: true, force: true });
    }
  });

  it('fails with Cognito’s socket timeout when the trigger’s Timeout equals Cognito’s wait', async () => {
    // The template's Timeout: 5 against Cognito's 5 s, scaled down: the first attempt's Lambda timeout
    // ends its container while the retry runs elsewhere, so the retries time out too.
    const template = readTemplate();
    const fn = template.Resources.PreTokenGenerationFunction;
    assert.ok(fn?.Properties && fn.Metadata);
    fn.Properties.Handler = 'handler.hanging';
    fn.Properties.Timeout = 0.3;
    fn.Metadata.BuildProperties = { EntryPoints: ['test/unit/local/cognito-trigger-fixture.ts'] };
    const stack = await variantStack({ template: resolver(template), triggerWaitMs: 300 });
    try {
      const callback = await signIn(stack.pool, 'veteran');
      assert.equal(
        callback.searchParams.get('error_description'),
        'PreTokenGeneration invocation failed due to error Socket timeout while invoking Lambda function.',
      );
    } finally {
      await stack.close();
    }
  });

  it('fails sign-in with Cognito’s socket timeout after three attempts without an answer', async () => {
    const template = readTemplate();
    const fn = template.Resources.PreTokenGenerationFunction;
    assert.ok(fn?.Properties && fn.Metadata);
    fn.Properties.Handler = 'handler.hanging';
    fn.Properties.Timeout = 10;
    fn.Metadata.BuildProperties = { EntryPoints: ['test/unit/local/cognito-trigger-fixture.ts'] };
    const stack = await variantStack({ template: resolver(template), triggerWaitMs: 100 });
    try {
      const callback = await signIn(stack.pool, 'veteran');
      assert.equal(
        callback.searchParams.get('error_description'),
        'PreTokenGeneration invocation failed due to error Socket timeout while invoking Lambda function.',
      );
    } finally {
      await stack.close();
    }
  });

  it('calls the trigger with a genuine V2 event and applies its answer as Cognito does', async () => {
    const template = readTemplate();
    const fn = template.Resources.PreTokenGenerationFunction;
    assert.ok(fn?.Properties && fn.Metadata);
    fn.Properties.Handler = 'handler.inspect';
    fn.Properties.Environment = { Variables: { PROVIDER_TABLE: '', FIXTURE_MARK: 'from-template' } };
    fn.Metadata.BuildProperties = { EntryPoints: ['test/unit/local/cognito-trigger-fixture.ts'] };
    const stack = await variantStack({ template: resolver(template) });
    try {
      const tokens = await redeem(stack.pool, await signIn(stack.pool, 'veteran'));
      const id = claimsOf(tokens.id_token);
      const event = id.seen_event as SeenEvent;
      assert.equal(event.version, '2');
      assert.equal(event.triggerSource, 'TokenGeneration_HostedAuth');
      assert.equal(event.region, 'us-east-1');
      assert.equal(event.userPoolId, POOL_ID);
      assert.equal(event.userName, 'IDmeSandbox_6400bbf301eb4e6e95ccea7693eced6f');
      assert.deepEqual(event.callerContext, {
        awsSdkVersion: 'aws-sdk-unknown-unknown',
        clientId: APP_CLIENT.clientId,
      });
      assert.deepEqual(event.request.scopes, ['openid', 'email', 'profile']);
      assert.deepEqual(event.request.groupConfiguration, {
        groupsToOverride: [`${POOL_ID}_IDmeSandbox`],
        iamRolesToOverride: [],
        preferredRole: null,
      });
      assert.deepEqual(event.response, { claimsAndScopeOverrideDetails: null });
      const attributes = event.request.userAttributes as Record<string, unknown>;
      assert.ok(Object.values(attributes).every((value) => typeof value === 'string'));
      assert.equal(attributes['cognito:user_status'], 'EXTERNAL_PROVIDER');
      assert.equal(attributes.sub, id.sub);
      assert.equal(JSON.parse(String(attributes.identities))[0].providerName, 'IDmeSandbox');
      assert.equal(attributes['custom:idp_loa'], '3');
      assert.deepEqual(id.seen_env, { FIXTURE_MARK: 'from-template', PROVIDER_TABLE: '' });

      // Add/override; suppression wins; Cognito-owned claims cannot be touched; groups replaced.
      assert.equal(id.family_name, 'Overridden');
      assert.equal(id.tier, 'gold');
      assert.equal(id.given_name, undefined);
      assert.equal(id['custom:idp_zip'], undefined);
      assert.equal(id.both_added_and_suppressed, undefined);
      assert.equal(id['cognito:username'], 'IDmeSandbox_6400bbf301eb4e6e95ccea7693eced6f');
      assert.notEqual(id.sub, 'hijacked');
      assert.equal(id.iss, stack.pool.issuer);
      assert.ok(Array.isArray(id.identities));
      assert.equal(id.email_verified, undefined, 'an object is not allowed for email_verified');
      assert.deepEqual(id['cognito:groups'], ['admins']);
      assert.deepEqual(id['cognito:roles'], ['arn:aws:iam::123456789012:role/admin']);
      assert.equal(id['cognito:preferred_role'], 'arn:aws:iam::123456789012:role/admin');

      const access = claimsOf(tokens.access_token);
      assert.equal(access.tier, 'gold');
      assert.equal(access.client_id, APP_CLIENT.clientId);
      assert.equal(access.aud, undefined, 'aud may only be set to the client id');
      assert.equal(access.scope, 'openid profile offline/read');
      assert.deepEqual(access['cognito:groups'], ['admins']);
    } finally {
      await stack.close();
    }
  });

  it('reads user info by POST when the provider says attributes_request_method: POST', async () => {
    const template = readTemplate();
    const idme = template.Resources.IdmeProvider?.Properties as { ProviderDetails: Record<string, unknown> };
    idme.ProviderDetails.attributes_request_method = 'POST';
    const stack = await variantStack({ template: resolver(template) });
    try {
      const tokens = await redeem(stack.pool, await signIn(stack.pool, 'ial2'));
      assert.equal(claimsOf(tokens.id_token).given_name, stack.pool.users()[0]?.attributes.given_name);
      assert.equal(stack.pool.users()[0]?.attributes['custom:idp_ial'], '2');
    } finally {
      await stack.close();
    }
  });

  it('sends a V1 event when the template configures V1_0, and the real trigger answers with strings', async () => {
    const template = readTemplate();
    const pool = template.Resources.UserPool?.Properties as {
      LambdaConfig: { PreTokenGenerationConfig: { LambdaVersion: string } };
    };
    pool.LambdaConfig.PreTokenGenerationConfig.LambdaVersion = 'V1_0';
    const stack = await variantStack({ template: resolver(template) });
    try {
      const tokens = await redeem(stack.pool, await signIn(stack.pool, 'veteran'));
      const id = claimsOf(tokens.id_token);
      assert.equal(id.idp, 'idme');
      assert.equal(typeof id.assurance, 'string');
      assert.equal(JSON.parse(String(id.assurance)).ial, 'IAL2');
      // V1 customises the ID token only.
      assert.equal(claimsOf(tokens.access_token).idp, undefined);
    } finally {
      await stack.close();
    }
  });
});
