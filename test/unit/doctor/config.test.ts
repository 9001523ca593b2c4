/**
 * The broker's own configuration: the functions' parse functions, the issuer against the pool and
 * region, ALLOWED_ORIGINS, and the ids and IdP names against the wiring.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTemplate } from '../../../local/template.ts';
import { checkBrokerConfig, checkProviderTable, readEnvFile } from '../../../tools/doctor/config-checks.ts';
import { wiringFromTemplate } from '../../../tools/doctor/template-source.ts';
import { assertNoErrors, assertSeverity, errorsOf } from './support.ts';

/** What a deployed function in eu-west-1 is given (template.yaml's Environment, resolved). */
const deployed: Record<string, string> = {
  AWS_REGION: 'eu-west-1',
  USER_POOL_ID: 'eu-west-1_AbC123',
  USER_POOL_CLIENT_ID: 'client123',
  USER_POOL_ISSUER: '',
  TRUSTED_CLIENT_IDS: '',
  IDENTITY_POOL_ID: 'eu-west-1:0f4c5e6a-1111-2222-3333-444455556666',
  COGNITO_IDENTITY_ENDPOINT: '',
  ALLOWED_ORIGINS: 'https://app.example.com',
  COGNITO_DOMAIN_URL: 'https://my-broker.auth.eu-west-1.amazoncognito.com',
  PUBLIC_BASE_URL: 'https://api.example.com',
  CLIENT_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:client',
  USER_POOL_CLIENT_SECRET: '',
  COOKIE_KEYS_SECRET_ID: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cookies',
  COOKIE_KEYS: '',
  IDENTITY_PROVIDERS: 'IDmeSandbox,IduraTest',
};

const check = (env: Record<string, string>, offline = false) => checkBrokerConfig(env, { offline }).findings;

describe('doctor: broker configuration', () => {
  it('accepts a complete deployed environment', () => {
    const findings = check(deployed);
    assertNoErrors(findings);
    assertSeverity(findings, 'config.credentials', 'ok');
    assertSeverity(findings, 'config.auth', 'ok');
    assert.match(
      assertSeverity(findings, 'config.issuer', 'ok').message,
      /cognito-idp\.eu-west-1\.amazonaws\.com\/eu-west-1_AbC123/,
    );
  });

  it('reports every problem the parse functions find, one finding each', () => {
    const findings = check({
      ...deployed,
      USER_POOL_ID: '',
      IDENTITY_POOL_ID: 'not-an-id',
      CLOCK_SKEW_SECONDS: '9000',
    });
    const messages = errorsOf(findings).map((f) => `${f.id} ${f.subject}`);
    assert.ok(messages.includes('config.credentials USER_POOL_ID'), messages.join('\n'));
    assert.ok(messages.includes('config.credentials IDENTITY_POOL_ID'));
    assert.ok(messages.includes('config.credentials CLOCK_SKEW_SECONDS'));
    // The problems both parse functions share are reported once.
    assert.equal(messages.filter((m) => m === 'config.credentials USER_POOL_ID').length, 1);
    assert.equal(messages.filter((m) => m.endsWith('USER_POOL_ID')).length, 1);
  });

  it('runs the sign-in parsers only when the sign-in variables are present', () => {
    const { COGNITO_DOMAIN_URL, PUBLIC_BASE_URL, COOKIE_KEYS_SECRET_ID, ...bearerOnly } = deployed;
    assert.equal(
      check(bearerOnly).some((f) => f.id === 'config.auth'),
      false,
    );
    // SESSION_MAX_AGE_SECONDS is the callback's alone: only the sign-in parsers read it.
    const findings = check({ ...deployed, SESSION_MAX_AGE_SECONDS: '1' });
    assert.match(
      assertSeverity(findings, 'config.auth', 'error', 'SESSION_MAX_AGE_SECONDS').message,
      /whole number/,
    );
  });

  it('fills AWS_REGION from the region when an env file lacks it (Lambda sets it)', () => {
    const { AWS_REGION, ...withoutRegion } = deployed;
    assertNoErrors(checkBrokerConfig(withoutRegion, { offline: false, defaultRegion: 'eu-west-1' }).findings);
  });

  it('reports USER_POOL_ISSUER naming another pool or region', () => {
    const findings = check({
      ...deployed,
      USER_POOL_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC123',
    });
    const finding = assertSeverity(findings, 'config.issuer', 'error');
    assert.match(finding.message, /https:\/\/cognito-idp\.eu-west-1\.amazonaws\.com\/eu-west-1_AbC123/);
  });

  it('warns about the updated issuer', () => {
    const findings = check({
      ...deployed,
      USER_POOL_ISSUER: 'https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
    });
    assertSeverity(findings, 'config.issuer', 'warning');
  });

  it('accepts the loopback issuer offline only, flagged', () => {
    const env = { ...deployed, USER_POOL_ISSUER: 'http://localhost:9229/eu-west-1_AbC123' };
    assert.equal(assertSeverity(check(env, true), 'config.issuer', 'ok').offlineOnly, true);
    assertSeverity(check(env), 'config.issuer', 'error');
    assertSeverity(
      check({ ...env, USER_POOL_ISSUER: 'http://localhost:9229/other' }, true),
      'config.issuer',
      'error',
    );
  });

  it('reports a pool id from another region', () => {
    const findings = check({ ...deployed, USER_POOL_ID: 'us-east-1_AbC123' });
    assert.match(
      assertSeverity(findings, 'config.region', 'error').message,
      /USER_POOL_ID us-east-1_AbC123 is in us-east-1/,
    );
  });

  it('reports ALLOWED_ORIGINS entries that are not origins', () => {
    const findings = check({
      ...deployed,
      ALLOWED_ORIGINS: 'https://app.example.com/app,http://evil.example,https://ok.example/',
    });
    const origins = findings.filter((f) => f.id === 'config.allowed-origins');
    assert.deepEqual(
      origins.map((f) => f.severity),
      ['error', 'error', 'warning'],
    );
    assert.match(origins[0]?.message ?? '', /is not an origin/);
    // parseCredentialsConfig's own wording of the same problem is not repeated.
    assert.equal(findings.filter((f) => /ALLOWED_ORIGINS entry/.test(f.message)).length, 0);
  });

  it('reports ids and IdP names that differ from the wiring', () => {
    const { wiring } = wiringFromTemplate(readTemplate(), {
      parameters: {
        HostedUiDomainPrefix: 'x',
        IdmeClientId: 'a',
        IduraDomain: 'acme.idura.broker',
        IduraClientId: 'b',
      },
      region: 'eu-west-1',
      ids: { userPool: 'eu-west-1_AbC123', client: 'client123', identityPool: 'eu-west-1:ffff' },
    });
    const findings = checkBrokerConfig(
      { ...deployed, IDENTITY_PROVIDERS: 'IDmeSandbox,Idura' },
      { offline: false, wiring, compareIds: true },
    ).findings;
    assert.match(
      assertSeverity(findings, 'config.ids', 'error').message,
      /IDENTITY_POOL_ID is eu-west-1:0f4c/,
    );
    assert.match(assertSeverity(findings, 'config.identity-providers', 'error').message, /^Idura is not/);
  });

  it('reports a PROVIDER_TABLE the trigger would ignore', () => {
    assertSeverity(
      check({ ...deployed, PROVIDER_TABLE: '{"IDme":{"idp":"google"}}' }),
      'config.provider-table',
      'warning',
    );
  });
});

describe('doctor: the trigger provider table', () => {
  it('knows the default provider names', () => {
    assertSeverity(
      checkProviderTable(['IDmeSandbox', 'IduraTest'], {}, 'defaults'),
      'config.provider-table',
      'ok',
    );
  });

  it('reports a provider the table does not know', () => {
    const table = JSON.stringify({ IDme: { idp: 'idme', env: 'production' } });
    const finding = assertSeverity(
      checkProviderTable(['IDme', 'IduraProd'], { PROVIDER_TABLE: table }, 'PROVIDER_TABLE'),
      'config.provider-table',
      'error',
    );
    assert.match(finding.message, /does not know IduraProd/);
  });
});

describe('doctor: env files', () => {
  it('reads a flat object and SAM env.json', () => {
    assert.deepEqual(readEnvFile('{"A":"1","B":2}'), { A: '1', B: '2' });
    assert.deepEqual(readEnvFile('{"Parameters":{"A":"1","B":"x"},"CredentialsFunction":{"B":"y"}}'), {
      A: '1',
      B: 'y',
    });
  });

  it('refuses JSON that is not an object', () => {
    assert.throws(() => readEnvFile('[1]'), TypeError);
  });
});
