import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { compactDecrypt, createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { StandIn } from '../../../local/idps/common.ts';
import { IDME_IDENTITIES, IDURA_IDENTITIES } from '../../../local/idps/identities.ts';
import { startIdmeStandIn } from '../../../local/idps/idme.ts';
import type { IduraStandIn } from '../../../local/idps/idura.ts';
import { startIduraStandIn } from '../../../local/idps/idura.ts';
import { browse, CookieJar, location, parseForm } from './cognito-support.ts';

const REDIRECT_URI = 'http://localhost:9/oauth2/idpresponse';
const CLIENT = {
  clientId: 'broker-client',
  clientSecret: 'a-long-local-client-secret-0123456789',
  redirectUris: [REDIRECT_URI],
};

interface SignInRequest {
  scope?: string;
  identity?: string;
  cancel?: boolean;
  extra?: Record<string, string>;
  jar?: CookieJar;
  authorizeUrl: string;
}

/**
 * Drives the browser side of an authorization request with fetch: authorize, the sign-in page,
 * the identity choice posted like the page's button does, then redirects (and the auto-submitted
 * form oidc-provider shows when the browser was signed in as someone else) until the client's
 * redirect URI is reached.
 */
async function signIn(standIn: StandIn, request: SignInRequest): Promise<{ callback: URL; page: string }> {
  const jar = request.jar ?? new CookieJar();
  const authorize = new URL(request.authorizeUrl);
  authorize.search = new URLSearchParams({
    client_id: CLIENT.clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope: request.scope ?? 'openid',
    state: 'state-123',
    nonce: 'nonce-456',
    ...request.extra,
  }).toString();
  let response = await browse(jar, authorize);
  assert.equal(response.status, 303);
  const pageUrl = location(response, standIn.url);
  response = await browse(jar, pageUrl);
  assert.equal(response.status, 200);
  const page = await response.text();
  const { action } = parseForm(page, standIn.url);
  response = await browse(
    jar,
    action,
    request.cancel ? { cancel: 'yes' } : { identity: request.identity ?? 'none' },
  );
  for (let hops = 0; hops < 10; hops += 1) {
    if (response.status === 200 && (response.headers.get('content-type') ?? '').includes('html')) {
      const form = parseForm(await response.text(), standIn.url);
      response = await browse(jar, form.action, form.fields);
      continue;
    }
    assert.ok([302, 303].includes(response.status), `unexpected status ${response.status}`);
    const next = location(response, standIn.url);
    if (next.href.startsWith(REDIRECT_URI)) return { callback: next, page };
    response = await browse(jar, next);
  }
  throw new Error('too many redirects');
}

async function discovery(url: string): Promise<Record<string, string>> {
  const response = await fetch(url);
  assert.equal(response.status, 200);
  return (await response.json()) as Record<string, string>;
}

async function redeem(
  tokenEndpoint: string,
  code: string,
  auth: 'post' | 'basic' = 'post',
  secret = CLIENT.clientSecret,
): Promise<Response> {
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth === 'post') {
    body.set('client_id', CLIENT.clientId);
    body.set('client_secret', secret);
  } else {
    headers.authorization = `Basic ${Buffer.from(`${CLIENT.clientId}:${secret}`).toString('base64')}`;
  }
  return fetch(tokenEndpoint, { method: 'POST', headers, body });
}

async function tokensFor(
  tokenEndpoint: string,
  callback: URL,
): Promise<{ id_token: string; access_token: string }> {
  const code = callback.searchParams.get('code');
  assert.ok(code, `callback has a code: ${callback.href}`);
  const response = await redeem(tokenEndpoint, code);
  assert.equal(response.status, 200);
  return (await response.json()) as { id_token: string; access_token: string };
}

async function verifiedClaims(
  meta: Record<string, string>,
  idToken: string,
): Promise<Record<string, unknown>> {
  const jwks = createRemoteJWKSet(new URL(meta.jwks_uri ?? ''));
  const { payload } = await jwtVerify(idToken, jwks, {
    issuer: meta.issuer ?? '',
    audience: CLIENT.clientId,
    algorithms: ['RS256'],
  });
  return payload;
}

function testIds(page: string): string[] {
  return [...page.matchAll(/data-testid="identity-([^"]+)"/g)].map(([, id]) => id ?? '');
}

describe('test identities', () => {
  it('give every ID.me identity a 32-hex sub equal to its uuid', () => {
    for (const identity of IDME_IDENTITIES) {
      assert.match(identity.sub, /^[0-9a-f]{32}$/, identity.id);
      assert.equal(identity.claims.uuid, identity.sub, identity.id);
    }
  });

  it('give every Idura identity a braced GUID sub and the matching nameidentifier', () => {
    for (const identity of IDURA_IDENTITIES) {
      assert.match(identity.sub, /^\{[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\}$/, identity.id);
      assert.equal(identity.claims.nameidentifier, identity.sub.replace(/[{}-]/g, ''), identity.id);
      assert.equal(identity.claims.identityscheme, identity.scheme, identity.id);
    }
  });
});

describe('ID.me stand-in', () => {
  let idme: StandIn;
  let meta: Record<string, string>;

  before(async () => {
    idme = await startIdmeStandIn({ clients: [CLIENT], quiet: true });
    meta = await discovery(`${idme.url}/oidc/.well-known/openid-configuration`);
  });
  after(() => idme.close());

  it('publishes discovery under /oidc with the OAuth endpoints outside it', () => {
    assert.equal(idme.issuer, `${idme.url}/oidc`);
    assert.match(idme.url, /^http:\/\/localhost:\d+$/);
    assert.equal(meta.issuer, idme.issuer);
    assert.equal(meta.authorization_endpoint, `${idme.url}/oauth/authorize`);
    assert.equal(meta.token_endpoint, `${idme.url}/oauth/token`);
    assert.equal(meta.userinfo_endpoint, `${idme.url}/api/public/v3/userinfo`);
    assert.equal(meta.jwks_uri, `${idme.url}/oidc/.well-known/jwks`);
    assert.deepEqual(meta.token_endpoint_auth_methods_supported, [
      'client_secret_post',
      'client_secret_basic',
    ]);
    assert.deepEqual(meta.id_token_signing_alg_values_supported, ['RS256']);
  });

  it('has no discovery document at the root', async () => {
    const response = await fetch(`${idme.url}/.well-known/openid-configuration`);
    assert.equal(response.status, 404);
  });

  it('lists the veteran, student and IAL2 identities and a cancel button', async () => {
    const jar = new CookieJar();
    const authorize = new URL(meta.authorization_endpoint ?? '');
    authorize.search = new URLSearchParams({
      client_id: CLIENT.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid military',
    }).toString();
    const redirect = await browse(jar, authorize);
    const page = await (await browse(jar, location(redirect, idme.url))).text();
    assert.deepEqual(testIds(page), ['veteran', 'student', 'ial2', 'unverified']);
    assert.match(page, /data-testid="cancel"/);
    assert.match(page, /<button type="submit" name="identity" value="veteran"/);
    assert.ok(
      [...jar.cookies.keys()].every((name) => name.startsWith('idme_')),
      [...jar.cookies.keys()].join(),
    );
  });

  it('completes the code flow with client_secret_post and an RS256 ID token with kid and ID.me claims', async () => {
    const { callback } = await signIn(idme, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      scope: 'openid military',
      identity: 'veteran',
    });
    assert.equal(callback.searchParams.get('state'), 'state-123');
    const tokens = await tokensFor(meta.token_endpoint ?? '', callback);
    const header = decodeProtectedHeader(tokens.id_token);
    assert.equal(header.alg, 'RS256');
    assert.ok(header.kid);
    const claims = await verifiedClaims(meta, tokens.id_token);
    assert.equal(claims.nonce, 'nonce-456');
    assert.match(String(claims.sub), /^[0-9a-f]{32}$/);
    assert.equal(claims.uuid, claims.sub);
    assert.equal(claims.fname, 'MARK');
    assert.equal(claims.lname, 'WEBB');
    assert.equal(claims.birth_date, '1950-10-04');
    assert.deepEqual(claims.status, [{ group: 'military', subgroups: ['Veteran'], verified: true }]);
  });

  it('answers userinfo as plain JSON with ID.me claim names, by GET and by POST', async () => {
    const { callback } = await signIn(idme, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      scope: `openid http://idmanagement.gov/ns/assurance/ial/2/aal/2`,
      identity: 'ial2',
    });
    const tokens = await tokensFor(meta.token_endpoint ?? '', callback);
    const byGet = await fetch(meta.userinfo_endpoint ?? '', {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    assert.equal(byGet.status, 200);
    assert.match(byGet.headers.get('content-type') ?? '', /^application\/json/);
    const userinfo = (await byGet.json()) as Record<string, unknown>;
    for (const name of ['fname', 'mname', 'lname', 'email', 'birth_date', 'zip', 'phone', 'social', 'uuid']) {
      assert.ok(name in userinfo, `userinfo has ${name}`);
    }
    assert.equal(userinfo.credential_ial, 2);
    assert.match(String(userinfo.social), /^\d{9}$/);

    const byPost = await fetch(meta.userinfo_endpoint ?? '', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: tokens.access_token }),
    });
    assert.equal(byPost.status, 200);
    assert.deepEqual(await byPost.json(), userinfo);
  });

  it('accepts client_secret_basic at the token endpoint too', async () => {
    const { callback } = await signIn(idme, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      scope: 'openid student',
      identity: 'student',
    });
    const response = await redeem(
      meta.token_endpoint ?? '',
      callback.searchParams.get('code') ?? '',
      'basic',
    );
    assert.equal(response.status, 200);
  });

  it('rejects a wrong client secret with invalid_client', async () => {
    const { callback } = await signIn(idme, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      scope: 'openid student',
      identity: 'student',
    });
    const response = await redeem(
      meta.token_endpoint ?? '',
      callback.searchParams.get('code') ?? '',
      'post',
      'wrong',
    );
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: string }).error, 'invalid_client');
  });

  it('rejects a reused code with invalid_grant', async () => {
    const { callback } = await signIn(idme, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      scope: 'openid military',
      identity: 'veteran',
    });
    const code = callback.searchParams.get('code') ?? '';
    assert.equal((await redeem(meta.token_endpoint ?? '', code)).status, 200);
    const reused = await redeem(meta.token_endpoint ?? '', code);
    assert.equal(reused.status, 400);
    assert.equal(((await reused.json()) as { error: string }).error, 'invalid_grant');
  });

  for (const [scope, why] of [
    ['openid teacher', 'a known policy the client lacks'],
    ['openid profile', 'a scope that is no policy'],
    ['openid', 'no policy at all'],
  ] as const) {
    it(`redirects back with invalid_scope for ${why}`, async () => {
      const authorize = new URL(meta.authorization_endpoint ?? '');
      authorize.search = new URLSearchParams({
        client_id: CLIENT.clientId,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope,
        state: 'state-123',
      }).toString();
      const response = await fetch(authorize, { redirect: 'manual' });
      assert.equal(response.status, 303);
      const callback = location(response, idme.url);
      assert.ok(callback.href.startsWith(REDIRECT_URI));
      assert.equal(callback.searchParams.get('error'), 'invalid_scope');
      assert.equal(callback.searchParams.get('state'), 'state-123');
    });
  }

  it('cancelling the sign-in redirects back with access_denied', async () => {
    const { callback } = await signIn(idme, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      scope: 'openid military',
      cancel: true,
    });
    assert.equal(callback.searchParams.get('error'), 'access_denied');
    assert.equal(callback.searchParams.get('state'), 'state-123');
  });

  it('lets the same browser sign in as another identity', async () => {
    const jar = new CookieJar();
    // The first code is redeemed at once, as Cognito does: ending the old session on the switch
    // revokes what was issued in it.
    const first = await signIn(idme, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      scope: 'openid military',
      identity: 'veteran',
      jar,
    });
    const one = await verifiedClaims(
      meta,
      (await tokensFor(meta.token_endpoint ?? '', first.callback)).id_token,
    );
    const second = await signIn(idme, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      scope: 'openid student',
      identity: 'student',
      jar,
    });
    const two = await verifiedClaims(
      meta,
      (await tokensFor(meta.token_endpoint ?? '', second.callback)).id_token,
    );
    assert.equal(one.fname, 'MARK');
    assert.equal(two.fname, 'AMELIA');
  });
});

describe('ID.me stand-in options', () => {
  it('limits a client to its configured policies', async () => {
    const idme = await startIdmeStandIn({ clients: [{ ...CLIENT, policies: ['military'] }], quiet: true });
    try {
      const authorize = new URL(`${idme.url}/oauth/authorize`);
      authorize.search = new URLSearchParams({
        client_id: CLIENT.clientId,
        response_type: 'code',
        redirect_uri: REDIRECT_URI,
        scope: 'openid student',
      }).toString();
      const response = await fetch(authorize, { redirect: 'manual' });
      assert.equal(location(response, idme.url).searchParams.get('error'), 'invalid_scope');
    } finally {
      await idme.close();
    }
  });

  it('takes iat and exp of the ID token from the given clock', async () => {
    const offset = 3 * 60 * 60 * 1000;
    const idme = await startIdmeStandIn({ clients: [CLIENT], quiet: true, now: () => Date.now() + offset });
    try {
      const meta = await discovery(`${idme.url}/oidc/.well-known/openid-configuration`);
      const { callback } = await signIn(idme, {
        authorizeUrl: meta.authorization_endpoint ?? '',
        scope: 'openid military',
        identity: 'veteran',
      });
      const { id_token } = await tokensFor(meta.token_endpoint ?? '', callback);
      const jwks = createRemoteJWKSet(new URL(meta.jwks_uri ?? ''));
      const expected = Math.floor((Date.now() + offset) / 1000);
      const { payload } = await jwtVerify(id_token, jwks, {
        issuer: idme.issuer,
        audience: CLIENT.clientId,
        currentDate: new Date(expected * 1000),
      });
      assert.ok(Math.abs((payload.iat ?? 0) - expected) <= 2, `iat ${payload.iat} vs ${expected}`);
      assert.ok(Math.abs((payload.exp ?? 0) - (expected + 18_000)) <= 2, `exp ${payload.exp}`);
    } finally {
      await idme.close();
    }
  });

  it('reports a taken port clearly', async () => {
    const first = await startIdmeStandIn({ clients: [CLIENT], quiet: true });
    try {
      const port = Number(new URL(first.url).port);
      await assert.rejects(startIdmeStandIn({ clients: [CLIENT], quiet: true, port }), {
        message: new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use`),
      });
    } finally {
      await first.close();
    }
  });
});

describe('Idura stand-in', () => {
  let idura: IduraStandIn;
  let meta: Record<string, string>;

  before(async () => {
    idura = await startIduraStandIn({ clients: [CLIENT], quiet: true });
    meta = await discovery(`${idura.url}/.well-known/openid-configuration`);
  });
  after(() => idura.close());

  async function idTokenClaims(
    request: Omit<SignInRequest, 'authorizeUrl'>,
  ): Promise<Record<string, unknown>> {
    const { callback } = await signIn(idura, { authorizeUrl: meta.authorization_endpoint ?? '', ...request });
    const { id_token } = await tokensFor(meta.token_endpoint ?? '', callback);
    return verifiedClaims(meta, id_token);
  }

  it('publishes discovery at the tenant root with the /oauth2 endpoints', () => {
    assert.equal(idura.issuer, idura.url);
    assert.equal(meta.issuer, idura.url);
    assert.equal(meta.authorization_endpoint, `${idura.url}/oauth2/authorize`);
    assert.equal(meta.token_endpoint, `${idura.url}/oauth2/token`);
    assert.equal(meta.userinfo_endpoint, `${idura.url}/oauth2/userinfo`);
    assert.equal(meta.jwks_uri, `${idura.url}/.well-known/jwks`);
    assert.ok(meta.acr_values_supported?.includes('urn:grn:authn:dk:mitid:substantial'));
  });

  it('offers every e-ID when no login method is requested, with idura_ cookies', async () => {
    const jar = new CookieJar();
    const authorize = new URL(meta.authorization_endpoint ?? '');
    authorize.search = new URLSearchParams({
      client_id: CLIENT.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
    }).toString();
    const page = await (await browse(jar, location(await browse(jar, authorize), idura.url))).text();
    assert.deepEqual(testIds(page), ['mitid', 'se-bankid', 'no-bankid', 'de-eid']);
    assert.ok(
      [...jar.cookies.keys()].every((name) => name.startsWith('idura_')),
      [...jar.cookies.keys()].join(),
    );
  });

  it('chooses the e-ID by acr_values', async () => {
    const acr = 'urn:grn:authn:se:bankid:another-device';
    const { page, callback } = await signIn(idura, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      identity: 'se-bankid',
      extra: { acr_values: acr },
    });
    assert.deepEqual(testIds(page), ['se-bankid']);
    const claims = await verifiedClaims(
      meta,
      (await tokensFor(meta.token_endpoint ?? '', callback)).id_token,
    );
    assert.equal(claims.identityscheme, 'sebankid');
    assert.equal(claims.authenticationtype, acr);
    assert.equal(claims.given_name, 'Åsa');
    assert.match(String(claims.ssn), /^\d{12}$/);
    assert.equal(claims.birthdate, undefined);
  });

  it('chooses the e-ID by a login_hint acr_values directive, as Cognito forwards it', async () => {
    const acr = 'urn:grn:authn:dk:mitid:substantial';
    const { page, callback } = await signIn(idura, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      identity: 'mitid',
      extra: { login_hint: `acr_values:${acr}` },
    });
    assert.deepEqual(testIds(page), ['mitid']);
    const claims = await verifiedClaims(
      meta,
      (await tokensFor(meta.token_endpoint ?? '', callback)).id_token,
    );
    assert.equal(claims.nonce, 'nonce-456');
    assert.equal(claims.identityscheme, 'dkmitid');
    assert.equal(claims.authenticationtype, acr);
    assert.equal(claims.name, 'Ditlev Von Testesen');
    assert.equal(claims.given_name, undefined);
    assert.equal(claims.birthdate, '1927-01-21');
    assert.match(String(claims.cprNumberIdentifier), /^\d{10}$/);
    assert.match(String(claims.sub), /^\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}$/);
    assert.equal(claims.nameidentifier, String(claims.sub).replace(/[{}-]/g, ''));
    assert.equal(claims.country, 'DK');
  });

  it('signs an RS256 ID token with a kid from the JWKS', async () => {
    const { callback } = await signIn(idura, {
      authorizeUrl: meta.authorization_endpoint ?? '',
      identity: 'no-bankid',
      extra: { acr_values: 'urn:grn:authn:no:bankid' },
    });
    const { id_token } = await tokensFor(meta.token_endpoint ?? '', callback);
    const header = decodeProtectedHeader(id_token);
    assert.equal(header.alg, 'RS256');
    const jwks = (await (await fetch(meta.jwks_uri ?? '')).json()) as { keys: Array<{ kid: string }> };
    assert.ok(jwks.keys.some((key) => key.kid === header.kid));
    const claims = await verifiedClaims(meta, id_token);
    assert.equal(claims.identityscheme, 'nobankid-oidc');
    assert.match(String(claims.socialno), /^\d{11}$/);
    assert.equal(claims.family_name, 'Sæther');
  });

  it('gives the German eID user upper-case names and address country D', async () => {
    const claims = await idTokenClaims({
      identity: 'de-eid',
      extra: { acr_values: 'urn:grn:authn:de:personalausweis' },
    });
    assert.equal(claims.identityscheme, 'deadesso');
    assert.equal(claims.given_name, 'ERIKA');
    assert.equal(claims.family_name, 'MUSTERMANN');
    assert.equal((claims.address as { country: string }).country, 'D');
  });

  it('refuses an identity that does not fit the requested login method', async () => {
    await assert.rejects(
      signIn(idura, {
        authorizeUrl: meta.authorization_endpoint ?? '',
        identity: 'mitid',
        extra: { acr_values: 'urn:grn:authn:no:bankid' },
      }),
      /unexpected status 400/,
    );
  });

  it('says so when no test identity fits the login method', async () => {
    const jar = new CookieJar();
    const authorize = new URL(meta.authorization_endpoint ?? '');
    authorize.search = new URLSearchParams({
      client_id: CLIENT.clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      acr_values: 'urn:grn:authn:fi:bank-id',
    }).toString();
    const page = await (await browse(jar, location(await browse(jar, authorize), idura.url))).text();
    assert.deepEqual(testIds(page), []);
    assert.match(
      page,
      /role="alert">There is no test identity for the login method urn:grn:authn:fi:bank-id/,
    );
  });

  describe('user info response strategy', () => {
    after(() => idura.setUserinfoStrategy('plainJson'));

    async function userinfoResponse(): Promise<Response> {
      const { callback } = await signIn(idura, {
        authorizeUrl: meta.authorization_endpoint ?? '',
        identity: 'mitid',
        extra: { login_hint: 'acr_values:urn:grn:authn:dk:mitid:substantial' },
      });
      const { access_token } = await tokensFor(meta.token_endpoint ?? '', callback);
      return fetch(meta.userinfo_endpoint ?? '', { headers: { authorization: `Bearer ${access_token}` } });
    }

    it('plainJson answers application/json', async () => {
      idura.setUserinfoStrategy('plainJson');
      const response = await userinfoResponse();
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const claims = (await response.json()) as Record<string, unknown>;
      assert.equal(claims.name, 'Ditlev Von Testesen');
      assert.equal(claims.identityscheme, 'dkmitid');
    });

    it('signedJwt answers application/jwt signed with the JWKS key', async () => {
      idura.setUserinfoStrategy('signedJwt');
      const response = await userinfoResponse();
      assert.match(response.headers.get('content-type') ?? '', /^application\/jwt/);
      const jwt = await response.text();
      assert.equal(jwt.split('.').length, 3);
      const claims = await verifiedClaims(meta, jwt);
      assert.equal(claims.name, 'Ditlev Von Testesen');
    });

    it('signedAndEncryptedJwt answers application/jwt as a JWE keyed by the client secret', async () => {
      idura.setUserinfoStrategy('signedAndEncryptedJwt');
      const response = await userinfoResponse();
      assert.match(response.headers.get('content-type') ?? '', /^application\/jwt/);
      const jwe = await response.text();
      assert.equal(jwe.split('.').length, 5);
      const key = createHash('sha256').update(CLIENT.clientSecret).digest().subarray(0, 32);
      const { plaintext } = await compactDecrypt(jwe, key);
      const claims = await verifiedClaims(meta, new TextDecoder().decode(plaintext));
      assert.equal(claims.identityscheme, 'dkmitid');
    });

    it('fromTokenEndpoint puts every claim in the ID token and answers user info as a JWT', async () => {
      idura.setUserinfoStrategy('fromTokenEndpoint');
      const response = await userinfoResponse();
      assert.match(response.headers.get('content-type') ?? '', /^application\/jwt/);
      const claims = await idTokenClaims({ identity: 'mitid' });
      assert.equal(claims.cprNumberIdentifier !== undefined && claims.name !== undefined, true);
    });

    it('refuses an unknown strategy', () => {
      assert.throws(() => idura.setUserinfoStrategy('xml' as 'plainJson'), TypeError);
    });
  });
});

describe('Idura stand-in clock', () => {
  it('takes iat, nbf, exp and authenticationinstant from the given clock', async () => {
    const offset = 2 * 24 * 60 * 60 * 1000;
    const idura = await startIduraStandIn({ clients: [CLIENT], quiet: true, now: () => Date.now() + offset });
    try {
      const meta = await discovery(`${idura.url}/.well-known/openid-configuration`);
      const { callback } = await signIn(idura, {
        authorizeUrl: meta.authorization_endpoint ?? '',
        identity: 'mitid',
        extra: { acr_values: 'urn:grn:authn:dk:mitid:low' },
      });
      const { id_token } = await tokensFor(meta.token_endpoint ?? '', callback);
      const expected = Math.floor((Date.now() + offset) / 1000);
      const { payload } = await jwtVerify(id_token, createRemoteJWKSet(new URL(meta.jwks_uri ?? '')), {
        issuer: idura.issuer,
        audience: CLIENT.clientId,
        currentDate: new Date(expected * 1000),
      });
      assert.ok(Math.abs((payload.iat ?? 0) - expected) <= 2, `iat ${payload.iat} vs ${expected}`);
      assert.equal(payload.nbf, payload.iat);
      assert.equal(payload.exp, (payload.iat ?? 0) + 1200);
      const instant = Date.parse(String(payload.authenticationinstant)) / 1000;
      assert.ok(Math.abs(instant - expected) <= 2, `authenticationinstant ${payload.authenticationinstant}`);
      assert.equal(payload.authenticationtype, 'urn:grn:authn:dk:mitid:low');
    } finally {
      await idura.close();
    }
  });
});

describe('stand-in lifecycle', () => {
  it('close() frees the port so it can be reused', async () => {
    const first = await startIduraStandIn({ clients: [CLIENT], quiet: true });
    const port = Number(new URL(first.url).port);
    await fetch(`${first.url}/.well-known/openid-configuration`);
    await first.close();
    const second = await startIduraStandIn({ clients: [CLIENT], quiet: true, port });
    assert.equal(second.url, `http://localhost:${port}`);
    await second.close();
  });

  it('uses the public host name in the issuer', async () => {
    const idura = await startIduraStandIn({ clients: [CLIENT], quiet: true, publicHost: '127.0.0.1' });
    try {
      assert.match(idura.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
      const meta = await discovery(`${idura.url}/.well-known/openid-configuration`);
      assert.equal(meta.token_endpoint, `${idura.url}/oauth2/token`);
    } finally {
      await idura.close();
    }
  });

  it('generates fresh signing keys per start', async () => {
    const [a, b] = await Promise.all([
      startIduraStandIn({ clients: [CLIENT], quiet: true }),
      startIduraStandIn({ clients: [CLIENT], quiet: true }),
    ]);
    try {
      const kid = async (s: StandIn) =>
        ((await (await fetch(`${s.url}/.well-known/jwks`)).json()) as { keys: Array<{ kid: string }> })
          .keys[0]?.kid;
      assert.notEqual(await kid(a), await kid(b));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
