/** `npm run build:client` produces a self-contained ESM file and declarations that work as a package. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { buildClient } from '../../../client/build.ts';

let out: string;
before(async () => {
  out = mkdtempSync(join(tmpdir(), 'broker-client-'));
  await buildClient(out);
});
after(() => rmSync(out, { recursive: true, force: true }));

describe('client build', () => {
  it('emits one ESM file that imports nothing (no run-time dependency)', async () => {
    const code = readFileSync(join(out, 'index.js'), 'utf8');
    assert.doesNotMatch(code, /^\s*import\b|\brequire\(/m);
    const module = (await import(pathToFileURL(join(out, 'index.js')).href)) as Record<string, unknown>;
    for (const name of ['brokerCredentials', 'createBrokerClient', 'SignInRequiredError', 'ThrottledError']) {
      assert.equal(typeof module[name], 'function', name);
    }
  });

  it('emits declarations typed with @smithy/types', () => {
    const types = readFileSync(join(out, 'index.d.ts'), 'utf8');
    assert.match(types, /from '@smithy\/types'/);
    assert.match(
      types,
      /export declare function brokerCredentials\(options: BrokerClientOptions\): BrokerCredentialProvider;/,
    );
  });
});
