/**
 * local/emf.ts tapStdout: each tap sees only what is written while it is on, and removing taps in
 * any order gives stdout back its own write.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tapStdout } from '../../../local/emf.ts';

describe('tapStdout', () => {
  it('removes taps out of order: the first stops seeing lines at once, stdout gets its own write back', () => {
    const own = process.stdout.write;
    const first: string[] = [];
    const second: string[] = [];
    const untapFirst = tapStdout((chunk) => first.push(String(chunk)));
    const untapSecond = tapStdout((chunk) => second.push(String(chunk)));
    try {
      process.stdout.write('# both\n');
      untapFirst();
      process.stdout.write('# second only\n');
      assert.notEqual(process.stdout.write, own, 'the second tap is still on');
    } finally {
      untapSecond();
    }
    process.stdout.write('# neither\n');
    assert.deepEqual(first, ['# both\n']);
    assert.deepEqual(second, ['# both\n', '# second only\n']);
    assert.equal(process.stdout.write, own);
  });

  it('removes taps in order too', () => {
    const own = process.stdout.write;
    const untapFirst = tapStdout(() => {});
    const untapSecond = tapStdout(() => {});
    untapSecond();
    untapFirst();
    assert.equal(process.stdout.write, own);
  });
});
