/**
 * config.same-site: with session cookies (SameSite=Lax) every frontend origin must be on the API's
 * site (scheme + registrable domain), or its fetch calls reach the API without the cookie.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTemplate, TemplateResolver } from '../../../local/template.ts';
import { checkBrokerConfig } from '../../../tools/doctor/config-checks.ts';
import {
  checkCustomDomainParameters,
  checkSameSiteInTemplate,
  siteOf,
} from '../../../tools/doctor/same-site.ts';
import { assertSeverity } from './support.ts';

const sessionEnv: Record<string, string> = {
  AWS_REGION: 'eu-west-1',
  USER_POOL_ID: 'eu-west-1_AbC123',
  USER_POOL_CLIENT_ID: 'client123',
  IDENTITY_POOL_ID: 'eu-west-1:0f4c5e6a-1111-2222-3333-444455556666',
  ALLOWED_ORIGINS: 'https://app.example.com',
  COGNITO_DOMAIN_URL: 'https://my-broker.auth.eu-west-1.amazoncognito.com',
  PUBLIC_BASE_URL: 'https://auth.example.com',
  CLIENT_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:client',
  COOKIE_KEYS_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cookies',
  IDENTITY_PROVIDERS: 'IDmeSandbox,IduraTest',
};
const executeApi = 'https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com';
const sameSite = (env: Record<string, string>) =>
  checkBrokerConfig(env, { offline: false }).findings.filter((f) => f.id === 'config.same-site');

describe('doctor: the frontend on the API site (config.same-site)', () => {
  it('computes the site as browsers do: scheme and registrable domain by the Public Suffix List', () => {
    assert.equal(siteOf('https://app.example.com'), 'https://example.com');
    assert.equal(siteOf('https://auth.example.co.uk'), 'https://example.co.uk');
    assert.equal(siteOf('http://localhost:3000'), 'http://localhost');
    assert.equal(siteOf('http://127.0.0.1:3000'), 'http://127.0.0.1');
    assert.notEqual(siteOf(executeApi), siteOf('https://app.example.com'));
    assert.notEqual(siteOf('http://app.example.com'), siteOf('https://api.example.com'), 'schemeful');
  });

  it('accepts a frontend on the API custom domain site', () => {
    const [finding] = sameSite(sessionEnv);
    assert.equal(finding?.severity, 'ok');
  });

  it('reports an execute-api PublicBaseUrl with a frontend elsewhere as an error naming ApiDomainName', () => {
    const findings = sameSite({ ...sessionEnv, PUBLIC_BASE_URL: executeApi });
    assert.equal(findings.length, 1);
    const finding = findings[0];
    assert.equal(finding?.severity, 'error');
    assert.match(finding?.message ?? '', /https:\/\/app\.example\.com .*SameSite=Lax/);
    assert.match(finding?.fix ?? '', /ApiDomainName=auth\.example\.com and CertificateArn=/);
  });

  it('reports a frontend served over http to an https API (schemeful same-site)', () => {
    const findings = sameSite({
      ...sessionEnv,
      ALLOWED_ORIGINS: 'https://app.example.com,http://app.example.com',
    });
    assert.deepEqual(
      findings.map((f) => f.severity),
      ['ok', 'error'],
    );
  });

  it('says nothing for a bearer-only deployment (no session cookies)', () => {
    const { COGNITO_DOMAIN_URL: _a, COOKIE_KEYS_SECRET_ID: _b, CLIENT_SECRET_ID: _c, ...bearer } = sessionEnv;
    assert.deepEqual(sameSite({ ...bearer, PUBLIC_BASE_URL: executeApi }), []);
  });

  it('accepts the offline stack (both on localhost)', () => {
    const findings = sameSite({
      ...sessionEnv,
      PUBLIC_BASE_URL: 'http://localhost:3000',
      ALLOWED_ORIGINS: 'http://localhost:3000',
    });
    assertSeverity(findings, 'config.same-site', 'ok');
  });

  it('checks template.yaml itself: an execute-api PublicBaseUrl fails, ApiDomainName on the site passes', () => {
    const parameters = {
      HostedUiDomainPrefix: 'my-broker',
      IdmeClientId: 'a',
      IduraDomain: 'acme.idura.broker',
      IduraClientId: 'b',
      FrontendOrigins: 'https://app.example.com',
    };
    const findings = (extra: Record<string, string>) =>
      checkSameSiteInTemplate(
        new TemplateResolver(readTemplate(), { parameters: { ...parameters, ...extra } }),
      );
    assert.equal(findings({ PublicBaseUrl: executeApi })[0]?.severity, 'error');
    const withDomain = findings({
      PublicBaseUrl: executeApi,
      ApiDomainName: 'auth.example.com',
      CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc-123',
    });
    assert.equal(withDomain[0]?.severity, 'ok');
  });

  it('reports ApiDomainName without CertificateArn (or the reverse): no domain would be created', () => {
    const check = (extra: Record<string, string>) =>
      checkCustomDomainParameters(new TemplateResolver(readTemplate(), { parameters: extra }));
    assert.equal(check({ ApiDomainName: 'auth.example.com' })[0]?.severity, 'error');
    assert.equal(
      check({ CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc' })[0]?.severity,
      'error',
    );
    assert.equal(
      check({
        ApiDomainName: 'auth.example.com',
        CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/abc',
      })[0]?.severity,
      'ok',
    );
    assert.deepEqual(check({}), []);
  });
});
