/**
 * The offline mode against a real offline stack on free ports: set up correctly (no errors), with
 * Idura's user-info strategy switched to signedJwt, with a broken template copy or environment,
 * and with nothing running.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ephemeralConfig, localConfig } from '../../../local/config.ts';
import { freePort } from '../../../local/net.ts';
import { type OfflineStack, startEphemeralStack, startStandIns } from '../../../local/stack.ts';
import { type Json, readTemplate } from '../../../local/template.ts';
import { parseDoctorArgs } from '../../../tools/doctor/args.ts';
import { checkBrokerConfig } from '../../../tools/doctor/config-checks.ts';
import type { Fetch } from '../../../tools/doctor/net.ts';
import {
  checkOfflineStack,
  type OfflineTargets,
  targetsFromConfig,
  targetsFromStack,
} from '../../../tools/doctor/offline.ts';
import { defaultDeps, runDoctor } from '../../../tools/doctor/run.ts';
import { assertNoErrors, assertSeverity, clone, errorsOf } from './support.ts';

const template = readTemplate();
const options = { template, fetch: ((input, init) => fetch(input, init)) as Fetch, timeoutMs: 5000 };
let stack: OfflineStack;

before(async () => {
  stack = await startEphemeralStack();
});
after(async () => {
  await stack.close();
});

const port = (url: string) => Number(new URL(url).port);

describe('doctor --offline: the sam local layout (npm run start:stand-ins)', () => {
  it('accepts the stand-ins named cognito.localhost over plain http, as sam local runs the functions', async () => {
    const standIns = await startStandIns(ephemeralConfig(0, { cognitoHost: 'cognito.localhost' }));
    try {
      const { findings } = checkBrokerConfig(standIns.functionEnv, {
        offline: true,
        defaultRegion: 'us-east-1',
      });
      assertNoErrors(findings);
      assertSeverity(findings, 'config.credentials', 'ok');
    } finally {
      await standIns.close();
    }
  });
});

describe('doctor --offline: the stack set up correctly', () => {
  it('finds no error, and signs in through both IdPs', async () => {
    const findings = await checkOfflineStack(targetsFromStack(stack), options);
    assertNoErrors(findings);
    assertSeverity(findings, 'offline.sign-in', 'ok', 'IDmeSandbox');
    assertSeverity(findings, 'offline.sign-in', 'ok', 'IduraTest');
    assertSeverity(findings, 'idp.userinfo.plain-json', 'ok', 'IduraTest');
    assertSeverity(findings, 'idp.userinfo.plain-json', 'ok', 'IDmeSandbox');
    // Both stand-ins advertise user-info signing; the sign-ins proved plain JSON for this client.
    assertSeverity(findings, 'idp.userinfo.signing', 'ok', 'IDmeSandbox');
    assert.match(assertSeverity(findings, 'offline.identity-pool', 'ok').message, /GetId accepted/);
    assert.equal(assertSeverity(findings, 'idp.endpoints.https', 'ok', 'IduraTest').offlineOnly, true);
  });

  it('checks a running stack from the ports of its configuration, with the environment local/stack.ts gives', async () => {
    const config = localConfig({
      ports: {
        api: port(stack.api.url),
        userPool: port(stack.userPool.url),
        identityPool: port(stack.identityPool.url),
        idme: port(stack.idme.url),
        idura: port(stack.idura.url),
      },
    });
    const targets = targetsFromConfig(config);
    assert.deepEqual(targets.functionEnv, stack.functionEnv);
    assertNoErrors(await checkOfflineStack(targets, { ...options, signIn: false }));
  });
});

describe('doctor --offline: broken on purpose', () => {
  it("reports Idura's user-info strategy switched to signedJwt", async () => {
    stack.idura.setUserinfoStrategy('signedJwt');
    try {
      const findings = await checkOfflineStack(targetsFromStack(stack), options);
      const finding = assertSeverity(findings, 'idp.userinfo.plain-json', 'error', 'IduraTest');
      assert.match(finding.message, /invalid token_type in idp oauth response/);
      assert.match(finding.fix ?? '', /plainJson/);
      assert.deepEqual(
        errorsOf(findings).map((f) => f.id),
        ['idp.userinfo.plain-json'],
      );
    } finally {
      stack.idura.setUserinfoStrategy('plainJson');
    }
  });

  it("reports ID.me's user info switched to signedJwt, as for Idura", async () => {
    stack.idme.setUserinfoStrategy('signedJwt');
    try {
      const findings = await checkOfflineStack(targetsFromStack(stack), options);
      const finding = assertSeverity(findings, 'idp.userinfo.plain-json', 'error', 'IDmeSandbox');
      assert.match(finding.message, /invalid token_type in idp oauth response/);
      assert.match(finding.fix ?? '', /ID\.me solution consultant/);
      assert.match(finding.fix ?? '', /stack\.idme\.setUserinfoStrategy\('plainJson'\)/);
      assert.equal(
        assertSeverity(findings, 'idp.userinfo.signing', 'warning', 'IDmeSandbox').severity,
        'warning',
      );
    } finally {
      stack.idme.setUserinfoStrategy('plainJson');
    }
  });

  it('reports a template copy whose callback the stack does not use', async () => {
    const broken = clone(template);
    const client = broken.Resources.UserPoolClient?.Properties;
    assert.ok(client);
    client.CallbackURLs = [{ 'Fn::Join': ['', [{ Ref: 'PublicBaseUrl' }, '/callback']] } as Json];
    const findings = await checkOfflineStack(targetsFromStack(stack), {
      ...options,
      template: broken,
      signIn: false,
    });
    assert.deepEqual(
      errorsOf(findings).map((f) => f.id),
      ['client.callback'],
    );
  });

  it('reports an environment naming another identity pool, and GetId refusing it', async () => {
    const targets: OfflineTargets = {
      ...targetsFromStack(stack),
      functionEnv: {
        ...stack.functionEnv,
        IDENTITY_POOL_ID: 'us-east-1:00000000-0000-4000-8000-00000000dead',
      },
    };
    const findings = await checkOfflineStack(targets, options);
    assertSeverity(findings, 'config.ids', 'error');
    assert.match(assertSeverity(findings, 'offline.identity-pool', 'error').message, /GetId refused/);
  });

  it('reports a stack that is not running, and how to start one', async () => {
    const nothing = localConfig({
      ports: {
        api: await freePort(),
        userPool: await freePort(),
        identityPool: await freePort(),
        idme: await freePort(),
        idura: await freePort(),
      },
    });
    const findings = await checkOfflineStack(targetsFromConfig(nothing), options);
    const unreachable = findings.filter((f) => f.id === 'offline.reachable');
    assert.equal(unreachable.length, 5);
    assert.ok(unreachable.every((f) => f.severity === 'error' && /--offline --start/.test(f.fix ?? '')));
    assert.equal(
      findings.some((f) => f.id === 'offline.sign-in'),
      false,
    );
  });
});

describe('doctor --offline --start', () => {
  it('starts a stack on free ports, checks it and stops it', async () => {
    const parsed = parseDoctorArgs([
      '--offline',
      '--start',
      '--local-config',
      'test/unit/doctor/no-such-file.json',
    ]);
    assert.equal(parsed.help, false);
    const missing = await runDoctor(
      (parsed as { options: Parameters<typeof runDoctor>[0] }).options,
      defaultDeps(),
    );
    assertSeverity(missing.findings, 'offline.config', 'error');

    const started = parseDoctorArgs(['--offline', '--start']);
    const report = await runDoctor(
      (started as { options: Parameters<typeof runDoctor>[0] }).options,
      defaultDeps(),
    );
    assertNoErrors(report.findings);
    assert.match(report.sources.join('\n'), /offline stack started for this check/);
    assertSeverity(report.findings, 'offline.identity-pool', 'ok');
  });
});
