/**
 * docs/security-rules.md names, for every security rule, the tests that fail when the rule is switched
 * off; this keeps those names true: each must be a test that exists.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../local/api.ts';

const doc = readFileSync(join(repoRoot, 'docs', 'security-rules.md'), 'utf8');

function testSources(dir = join(repoRoot, 'test')): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testSources(path);
      // Not this file: it names invented tests on purpose.
      return entry.name.endsWith('.test.ts') && path !== import.meta.filename
        ? readFileSync(path, 'utf8')
        : '';
    })
    .join('\n');
}

/** The test names of a row's last column: `file`: name; name … (a file prefix is optional). */
function namedTests(): string[] {
  const names: string[] = [];
  for (const line of doc.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| Rule') || line.startsWith('| ---')) continue;
    const cells = line.split(' | ');
    const last = (cells.at(-1) ?? '').replace(/ \|$/, '');
    for (const part of last.split(/; (?=[`a-z"])/)) {
      const name = part.replace(/^`[^`]+`: /, '').trim();
      if (name !== '' && !name.startsWith('the same')) names.push(name);
    }
  }
  return names;
}

/**
 * The names among `names` that no test in `sources` has. A name built in a loop
 * (`rejects a token with no ${claim}`) matches its template when the template has at least 15
 * characters of its own (a template like `${a}: ${b}` would match anything); table-driven ones
 * ("/%2F/evil.example" (why)) are found by their reason.
 */
function missingTests(names: readonly string[], sources: string): string[] {
  const templates = [...sources.matchAll(/\bit\(\s*`([^`]*)`/g)].flatMap((m) => {
    const pieces = (m[1] as string).split(/\$\{[^}]*\}/);
    if (pieces.join('').length < 15) return [];
    const escaped = pieces.map((piece) => piece.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return [new RegExp(`^${escaped.join('.{1,60}?')}$`)];
  });
  return names.filter((name) => {
    const table = /^"(.*)" \((.*)\)$/.exec(name);
    if (table) return !sources.includes(table[2] as string);
    return !sources.includes(name) && !templates.some((template) => template.test(name));
  });
}

describe('docs/security-rules.md', () => {
  const names = namedTests();
  const sources = testSources();

  it('names tests for its rules', () => {
    assert.ok(names.length >= 40, `only ${names.length} test names found`);
  });

  it('names only tests that exist', () => {
    assert.deepEqual(
      missingTests(names, sources),
      [],
      'rename these in docs/security-rules.md or restore the tests',
    );
  });

  it('reports invented names, even where a short template such as "<a>: <b>" exists', () => {
    const invented = [
      'rejects alg none: a test nobody wrote',
      'refuses a forged session cookie (deleted test)',
    ];
    assert.deepEqual(missingTests(invented, sources), invented);
  });
});
