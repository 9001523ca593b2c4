/**
 * What Cognito requires of an OIDC IdP, checked against the ID.me and Idura stand-ins as they are
 * and against copies of their documents broken on purpose.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StandIn } from '../../../local/idps/common.ts';
import { startIdmeStandIn } from '../../../local/idps/idme.ts';
import { startIduraStandIn } from '../../../local/idps/idura.ts';
import type { Finding } from '../../../tools/doctor/findings.ts';
import { checkDiscoveryDocument, checkIdp, checkJwks, idpKindOf } from '../../../tools/doctor/idp.ts';
import type { Fetch } from '../../../tools/doctor/net.ts';
import { assertNoErrors, assertSeverity, clone, errorsOf, fakeFetch } from './support.ts';

type Doc = Record<string, unknown>;
type Jwks = { keys: Array<Record<string, unknown>> };

const client = {
  clientId: 'cognito',
  clientSecret: 'a-local-secret-0123456789',
  redirectUris: ['http://localhost:9/cb'],
};
let idme: StandIn;
let idura: StandIn;
let iduraDoc: Doc;
let iduraJwks: Jwks;

const live = { fetch: ((input, init) => fetch(input, init)) as Fetch, timeoutMs: 3000 };
const saved = { name: 'saved', offline: false };

before(async () => {
  [idme, idura] = await Promise.all([
    startIdmeStandIn({ clients: [client], quiet: true }),
    startIduraStandIn({ clients: [client], quiet: true }),
  ]);
  iduraDoc = (await (await fetch(`${idura.issuer}/.well-known/openid-configuration`)).json()) as Doc;
  iduraJwks = (await (await fetch(String(iduraDoc.jwks_uri))).json()) as Jwks;
});
after(async () => {
  await Promise.all([idme.close(), idura.close()]);
});

/** The Idura stand-in's discovery document as if it were served on https://idura.example (a real deployment). */
function httpsDoc(overrides: Doc = {}): Doc {
  const doc = JSON.parse(JSON.stringify(iduraDoc).replaceAll(idura.issuer, 'https://idura.example')) as Doc;
  return { ...doc, ...overrides };
}

function checkSaved(doc: Doc, jwks: unknown = iduraJwks): Promise<Finding[]> {
  return checkIdp(
    { name: 'saved', issuer: String(doc.issuer), document: doc, jwks },
    { ...live, offline: false },
  );
}

describe('doctor: the stand-ins set up correctly', () => {
  for (const [label, standIn] of [
    ['ID.me', () => idme],
    ['Idura', () => idura],
  ] as const) {
    it(`finds no error in the ${label} stand-in offline, and flags its loopback http`, async () => {
      const findings = await checkIdp({ name: label, issuer: standIn().issuer }, { ...live, offline: true });
      assertNoErrors(findings);
      assert.equal(assertSeverity(findings, 'idp.endpoints.https', 'ok').offlineOnly, true);
      assertSeverity(findings, 'idp.jwks.kid', 'ok');
      assertSeverity(findings, 'idp.token-auth', 'ok');
      assertSeverity(findings, 'idp.signing-alg', 'ok');
    });
  }

  it('refuses the loopback http stand-in without --offline and says how to fix it', async () => {
    const findings = await checkIdp({ name: 'Idura', issuer: idura.issuer }, { ...live, offline: false });
    const https = assertSeverity(findings, 'idp.endpoints.https', 'error');
    assert.match(https.fix ?? '', /--offline/);
    assertSeverity(findings, 'idp.endpoints.port', 'error');
  });

  it('finds no error in the same documents served over https', async () => {
    assertNoErrors(await checkSaved(httpsDoc()));
  });
});

describe('doctor: discovery documents broken on purpose', () => {
  it('reports an issuer with a trailing slash', async () => {
    const findings = await checkSaved(httpsDoc({ issuer: 'https://idura.example/' }));
    assertSeverity(findings, 'idp.issuer.trailing-slash', 'error');
  });

  it('reports a discovery issuer that differs from the configured one', () => {
    const findings = checkDiscoveryDocument(httpsDoc(), {
      ...saved,
      expectedIssuer: 'https://other.example',
    });
    const finding = assertSeverity(findings, 'idp.issuer.match', 'error');
    assert.match(finding.fix ?? '', /https:\/\/idura\.example/);
  });

  it('reports http endpoints', async () => {
    const findings = await checkSaved(httpsDoc({ token_endpoint: 'http://idura.example/oauth2/token' }));
    const finding = assertSeverity(findings, 'idp.endpoints.https', 'error');
    assert.match(finding.message, /token_endpoint http:\/\/idura\.example\/oauth2\/token is not https/);
  });

  it('reports a port other than 443 or 80', async () => {
    const findings = await checkSaved(httpsDoc({ jwks_uri: 'https://idura.example:8443/.well-known/jwks' }));
    assert.match(assertSeverity(findings, 'idp.endpoints.port', 'error').message, /jwks_uri uses port 8443/);
  });

  it('warns for any provider whose discovery advertises signed user info, saying what to ask for', () => {
    const signed = httpsDoc({ userinfo_signing_alg_values_supported: ['RS256', 'ES256'] });
    for (const [name, issuer, ask] of [
      ['IDme', 'https://api.id.me/oidc', /ID\.me solution consultant/],
      ['IduraTest', 'https://acme.idura.broker', /plainJson/],
      ['Other', 'https://login.example.org', /plain JSON/],
    ] as const) {
      const findings = checkDiscoveryDocument({ ...signed, issuer }, { name, offline: false });
      const finding = assertSeverity(findings, 'idp.userinfo.signing', 'warning', name);
      assert.match(finding.message, /RS256, ES256.*invalid token_type in idp oauth response/);
      assert.match(finding.fix ?? '', /plain JSON \(Content-Type application\/json/);
      assert.match(finding.fix ?? '', ask);
    }
    const unsigned = httpsDoc();
    delete unsigned.userinfo_signing_alg_values_supported;
    assert.equal(
      checkDiscoveryDocument(unsigned, saved).some((f) => f.id === 'idp.userinfo.signing'),
      false,
    );
  });

  it('reports missing endpoints', () => {
    const doc = httpsDoc();
    delete doc.userinfo_endpoint;
    const findings = checkDiscoveryDocument(doc, saved);
    assert.match(assertSeverity(findings, 'idp.endpoints.present', 'error').message, /userinfo_endpoint/);
  });

  it('reports a token endpoint without client_secret_post', async () => {
    const findings = await checkSaved(
      httpsDoc({ token_endpoint_auth_methods_supported: ['client_secret_basic'] }),
    );
    assert.match(assertSeverity(findings, 'idp.token-auth', 'error').fix ?? '', /client_secret_post/);
  });

  it('warns when the auth methods are not published (the default is Basic)', () => {
    const doc = httpsDoc();
    delete doc.token_endpoint_auth_methods_supported;
    assertSeverity(checkDiscoveryDocument(doc, saved), 'idp.token-auth', 'warning');
  });

  it('reports HS256-only ID tokens', async () => {
    const findings = await checkSaved(httpsDoc({ id_token_signing_alg_values_supported: ['HS256'] }));
    assert.match(assertSeverity(findings, 'idp.signing-alg', 'error').message, /only with HS256/);
  });

  it('accepts ES256 alongside HS256', () => {
    const doc = httpsDoc({ id_token_signing_alg_values_supported: ['HS256', 'ES256'] });
    assertSeverity(checkDiscoveryDocument(doc, saved), 'idp.signing-alg', 'ok');
  });

  it('reports a document that is not an object', () => {
    assertSeverity(checkDiscoveryDocument(['nope'], saved), 'idp.discovery', 'error');
  });
});

describe('doctor: JWKS broken on purpose', () => {
  it('reports a key without kid', async () => {
    const jwks = clone(iduraJwks);
    delete jwks.keys[0]?.kid;
    const findings = await checkSaved(httpsDoc(), jwks);
    assert.match(assertSeverity(findings, 'idp.jwks.kid', 'error').message, /key #1 \(RSA\) has no kid/);
  });

  it('reports a symmetric key and one with an algorithm Cognito does not verify', () => {
    const jwks = clone(iduraJwks);
    jwks.keys.push({ kty: 'oct', kid: 'hmac', alg: 'HS256' }, { ...jwks.keys[0], kid: 'pss', alg: 'PS256' });
    const finding = assertSeverity(checkJwks(jwks, { name: 'x' }), 'idp.jwks.alg', 'error');
    assert.match(finding.message, /kid hmac is oct HS256; kid pss is RSA PS256/);
  });

  it('ignores encryption keys when judging signing keys', () => {
    const jwks = clone(iduraJwks);
    jwks.keys.push({ kty: 'RSA', kid: 'enc1', alg: 'RSA-OAEP', use: 'enc', n: 'x', e: 'AQAB' });
    assertNoErrors(checkJwks(jwks, { name: 'x' }));
  });

  it('reports a JWKS without any usable signing key', () => {
    assertSeverity(checkJwks({ keys: [] }, { name: 'x' }), 'idp.jwks.keys', 'error');
    assertSeverity(checkJwks({ nokeys: true }, { name: 'x' }), 'idp.jwks.keys', 'error');
  });

  it('reports published private key material', () => {
    const jwks = clone(iduraJwks);
    (jwks.keys[0] as Record<string, unknown>).d = 'secret';
    assertSeverity(checkJwks(jwks, { name: 'x' }), 'idp.jwks.private', 'error');
  });
});

describe('doctor: fetching an IdP', () => {
  it('fetches the JWKS of a saved discovery document from jwks_uri', async () => {
    const doc = httpsDoc();
    const fetchFn = fakeFetch({ [String(doc.jwks_uri)]: iduraJwks });
    const findings = await checkIdp(
      { name: 'saved', document: doc },
      { fetch: fetchFn, timeoutMs: 1000, offline: false },
    );
    assertNoErrors(findings);
    assertSeverity(findings, 'idp.jwks.fetch', 'ok');
    assert.deepEqual(fetchFn.urls, [doc.jwks_uri]);
  });

  it('reports an unreachable JWKS', async () => {
    const findings = await checkIdp(
      { name: 'saved', document: httpsDoc() },
      { fetch: fakeFetch({}), timeoutMs: 1000, offline: false },
    );
    assert.match(assertSeverity(findings, 'idp.jwks.fetch', 'error').message, /HTTP 404/);
  });

  it('reports a discovery document that does not answer in time', async () => {
    const hanging: Fetch = (_input, init) =>
      new Promise((_resolve, reject) =>
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
      );
    const findings = await checkIdp(
      { name: 'slow', issuer: 'https://slow.example' },
      { fetch: hanging, timeoutMs: 100, offline: false },
    );
    assert.match(assertSeverity(findings, 'idp.discovery', 'error').message, /no answer within 100 ms/);
    assert.equal(errorsOf(findings).length, 1);
  });

  it('fetches the discovery document below the issuer', async () => {
    const doc = httpsDoc();
    const fetchFn = fakeFetch({
      'https://idura.example/.well-known/openid-configuration': doc,
      [String(doc.jwks_uri)]: iduraJwks,
    });
    assertNoErrors(
      await checkIdp(
        { name: 'Idura', issuer: 'https://idura.example' },
        { fetch: fetchFn, timeoutMs: 1000, offline: false },
      ),
    );
  });
});

describe('idpKindOf', () => {
  it('tells ID.me and Idura by provider name or issuer host', () => {
    assert.equal(idpKindOf('IDmeSandbox'), 'idme');
    assert.equal(idpKindOf('IduraTest'), 'idura');
    assert.equal(idpKindOf('https://api.id.me/oidc', 'https://api.id.me/oidc'), 'idme');
    assert.equal(idpKindOf('x', 'https://acme-corp.idura.broker'), 'idura');
    assert.equal(idpKindOf('x', 'https://login.example.com'), 'other');
  });
});
