/** `npm run doctor` as a process: help, JSON output, exit codes. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { flagNames } from '../../../tools/doctor/args.ts';

const root = join(import.meta.dirname, '..', '..', '..');
const run = promisify(execFile);

async function doctor(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['tools/doctor/cli.ts', ...args], {
      cwd: root,
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'doctor-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const discovery = {
  issuer: 'https://idp.example/',
  authorization_endpoint: 'https://idp.example/authorize',
  token_endpoint: 'https://idp.example/token',
  userinfo_endpoint: 'https://idp.example/userinfo',
  jwks_uri: 'https://idp.example/jwks',
  id_token_signing_alg_values_supported: ['RS256'],
  token_endpoint_auth_methods_supported: ['client_secret_post'],
};
const jwks = { keys: [{ kty: 'RSA', kid: 'k1', alg: 'RS256', use: 'sig', n: 'x', e: 'AQAB' }] };

describe('npm run doctor', () => {
  it('--help exits 0 and describes every flag', async () => {
    const { code, stdout } = await doctor('--help');
    assert.equal(code, 0);
    for (const flag of flagNames) assert.ok(stdout.includes(flag), `--help mentions ${flag}`);
    assert.match(stdout, /Examples:/);
  });

  it('--json prints a report that parses, and exits 0 without errors', async () => {
    const { code, stdout } = await doctor('--json', '--parameter', 'PublicBaseUrl=https://api.example.com');
    assert.equal(code, 0, stdout);
    const report = JSON.parse(stdout) as {
      ok: boolean;
      summary: { errors: number };
      findings: Array<{ id: string; severity: string; fix?: string }>;
    };
    assert.equal(report.ok, true);
    assert.equal(report.summary.errors, 0);
    assert.ok(report.findings.some((f) => f.id === 'identity-pool.provider-name' && f.severity === 'ok'));
  });

  it('exits 1 when a finding is an error, and prints the fix under it', async () => {
    const documentFile = join(dir, 'openid-configuration.json');
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(documentFile, JSON.stringify(discovery));
    writeFileSync(jwksFile, JSON.stringify(jwks));
    const { code, stdout } = await doctor('--discovery', documentFile, '--jwks', jwksFile, '--quiet');
    assert.equal(code, 1, stdout);
    assert.match(stdout, /ERROR idp\.issuer\.trailing-slash/);
    assert.match(stdout, /\n {8}fix: Cognito requires an issuer URL without a trailing slash/);
    assert.match(stdout, /Result: 1 error/);
  });

  it('--access refuses the other modes (it starts stand-ins of its own): exit 2', async () => {
    const { code, stderr } = await doctor('--access', '--offline');
    assert.equal(code, 2);
    assert.match(stderr, /--access .* takes only --template and --json \(not --offline\)/);
  });

  it('exits 2 for a flag it does not know', async () => {
    const { code, stderr } = await doctor('--verbose');
    assert.equal(code, 2);
    assert.match(stderr, /--help/);
  });
});
