/**
 * `npm run smoke`: the smoke test itself is tested. `--offline` must pass against a healthy offline
 * stack (the same command as against a deployed stack), and against a broken one it must fail with
 * the check that broke and what to fix.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from '../../local/api.ts';
import { localParameters } from '../../local/config.ts';
import { type OfflineStack, startEphemeralStack } from '../../local/stack.ts';
import { readTemplate, TemplateResolver } from '../../local/template.ts';
import { runSmoke, type SmokeResult } from '../../tools/smoke/checks.ts';
import { targetFromOfflineStack } from '../../tools/smoke/target.ts';

const run = promisify(execFile);
const failed = (results: readonly SmokeResult[]) => results.filter((r) => !r.ok);

describe('npm run smoke -- --offline', () => {
  it('starts an offline stack, passes every check, and exits 0', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(repoRoot, 'tools', 'smoke', 'cli.ts'), '--offline'],
      {
        cwd: repoRoot,
        timeout: 90_000,
      },
    );
    assert.match(stdout, /^Smoke test of the offline stack/m);
    for (const check of [
      'credentials.unauthenticated',
      'credentials.untrusted-issuer',
      'credentials.cors-foreign-origin',
      'session.signed-out',
      'logout.no-session',
      'callback.no-login-state',
      'login.IDmeSandbox',
      'hosted-ui.IDmeSandbox',
      'login.IduraTest',
      'hosted-ui.IduraTest',
      'user-pool.discovery',
    ]) {
      assert.match(stdout, new RegExp(`^  ok +${check.replace('.', '\\.')} `, 'm'), check);
    }
    assert.match(stdout, /^Result: 0 failed, \d+ passed$/m);
  });

  it('refuses to run without --stack or --offline (exit 2)', async () => {
    await assert.rejects(
      run(process.execPath, [join(repoRoot, 'tools', 'smoke', 'cli.ts')], { cwd: repoRoot }),
      (error: unknown) => {
        const e = error as { code?: number; stderr?: string };
        assert.equal(e.code, 2);
        assert.match(e.stderr ?? '', /give either --stack <name> or --offline/);
        return true;
      },
    );
  });
});

describe('the smoke test against a broken offline stack', () => {
  let stack: OfflineStack;
  let results: SmokeResult[];

  before(async () => {
    // Two deployment mistakes: the login function offers only ID.me, and the functions' public origin
    // is not where the API is served (a wrong PublicBaseUrl).
    stack = await startEphemeralStack(
      { logLevel: 'error' },
      { functionEnv: { IDENTITY_PROVIDERS: 'IDmeSandbox', PUBLIC_BASE_URL: 'https://wrong.example.com' } },
    );
    results = await runSmoke(targetFromOfflineStack(stack));
  });
  after(() => stack.close());

  it('fails the login of the provider the login function does not offer, saying to list it', () => {
    const login = results.find((r) => r.check === 'login.IduraTest');
    assert.equal(login?.ok, false);
    assert.match(login?.detail ?? '', /400 .*unknown_provider/);
    assert.match(login?.fix ?? '', /IDENTITY_PROVIDERS of LoginFunction must list IduraTest/);
  });

  it("fails the other login on its callback URL, naming the public origin's setting", () => {
    const login = results.find((r) => r.check === 'login.IDmeSandbox');
    assert.equal(login?.ok, false);
    assert.match(
      login?.detail ?? '',
      /redirect_uri https:\/\/wrong\.example\.com\/auth\/callback, expected http:\/\/localhost:\d+\/auth\/callback/,
    );
    assert.match(login?.fix ?? '', /PUBLIC_BASE_URL .*ApiDomainName/);
  });

  it('still passes what the mistakes do not touch, and every failure has a fix', () => {
    assert.equal(results.find((r) => r.check === 'credentials.untrusted-issuer')?.ok, true);
    assert.equal(results.find((r) => r.check === 'user-pool.discovery')?.ok, true);
    for (const failure of failed(results)) assert.ok(failure.fix, `${failure.check} has no fix`);
  });
});

describe('the smoke test against a stand-in that sends another client id than the template', () => {
  it('fails the hosted UI check, naming both and the parameter to fix', async () => {
    const stack = await startEphemeralStack({ logLevel: 'error' });
    try {
      // The stack's pool sends the offline parameter (cognito-offline); the target expects another.
      const template = new TemplateResolver(readTemplate(), {
        region: stack.config.region,
        parameters: { ...localParameters(stack.config), IdmeClientId: 'issued-by-idme' },
      });
      const results = await runSmoke(targetFromOfflineStack({ ...stack, template }));
      const hostedUi = results.find((r) => r.check === 'hosted-ui.IDmeSandbox');
      assert.equal(hostedUi?.ok, false);
      assert.match(hostedUi?.detail ?? '', /client_id cognito-offline, expected issued-by-idme/);
      assert.match(hostedUi?.fix ?? '', /client id parameter/);
      assert.equal(results.find((r) => r.check === 'hosted-ui.IduraTest')?.ok, true);
    } finally {
      await stack.close();
    }
  });
});

describe('the smoke test against something that is not the broker', () => {
  it('reports a refused connection as a failed check with what to check, never a crash', async () => {
    const stack = await startEphemeralStack({ logLevel: 'error' });
    const target = targetFromOfflineStack(stack);
    await stack.close();
    const results = await runSmoke(target, { timeoutMs: 2_000 });
    assert.ok(results.length > 0 && results.every((r) => !r.ok));
    assert.match(results[0]?.fix ?? '', /resolves and answers/);
  });
});
