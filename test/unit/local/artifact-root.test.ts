/**
 * scripts/build.ts artifactRoot: the build cache, whose bundles the offline stack runs, is a
 * directory of this user's that nobody else may write to; anything else there is refused.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { artifactRoot } from '../../../scripts/build.ts';

const own = (base: string) => join(base, `federation-broker-artifacts-${process.getuid?.() ?? 'user'}`);
const refused = /is not a directory of this user's that only this user may write to/;

describe('artifactRoot', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'artifact-root-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it("creates this user's directory, readable by this user only, and caches under it", () => {
    const root = artifactRoot(base);
    assert.equal(dirname(root), own(base));
    assert.equal(statSync(own(base)).mode & 0o777, 0o700);
    assert.equal(artifactRoot(base), root, 'the same directory next time');
  });

  it('refuses a directory others may write to', () => {
    mkdirSync(own(base));
    chmodSync(own(base), 0o777);
    assert.throws(() => artifactRoot(base), refused);
    chmodSync(own(base), 0o720);
    assert.throws(() => artifactRoot(base), refused);
  });

  it('refuses a link, even to a directory of its own', () => {
    const target = join(base, 'elsewhere');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, own(base));
    assert.throws(() => artifactRoot(base), refused);
  });

  it("refuses another user's directory", { skip: process.getuid?.() !== 0 && 'needs root to chown' }, () => {
    mkdirSync(own(base), { mode: 0o700 });
    chownSync(own(base), 54321, 54321);
    assert.throws(() => artifactRoot(base), refused);
  });
});
