/**
 * Import direction, checked on every import (static, `import type` and dynamic):
 * - functions/ (what is deployed) imports nothing from local/, tools/, bench/, scripts/ or test/, and
 *   never its own tool-facing module functions/index.ts (a function's bundle holds only what it uses);
 * - local/, tools/, bench/ and scripts/ import functions/ only through its exported modules, the
 *   targets of package.json "imports": functions/index.ts (`#broker`) and the dependency-free
 *   claims/privacy.ts (`#broker/claim-rules`, which the offline stack loads before any logger);
 * - functions/shared/ imports no function folder, and shared/config.ts nothing of shared/auth/.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { repoRoot } from '../../local/api.ts';

const packageImports =
  (
    JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      imports?: Record<string, string>;
    }
  ).imports ?? {};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return entry.name === 'node_modules' || entry.name === 'out' ? [] : sourceFiles(path);
    return /\.(ts|mts|mjs|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Repository-relative paths of the files `file` imports from the repository. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(repoRoot, file), 'utf8'), true, true);
  return info.importedFiles.flatMap(({ fileName }) => {
    const target = packageImports[fileName];
    if (target !== undefined) return [relative(repoRoot, resolve(repoRoot, target))];
    if (!fileName.startsWith('.')) return [];
    return [relative(repoRoot, resolve(repoRoot, dirname(file), fileName))];
  });
}

/** The modules of functions/ that local/, tools/, bench/ and scripts/ may import. */
const exported = new Set(
  Object.values(packageImports).map((target) => relative(repoRoot, resolve(repoRoot, target))),
);

const edges = ['functions', 'local', 'tools', 'bench', 'scripts', 'test'].flatMap((dir) =>
  sourceFiles(dir).flatMap((from) => importsOf(from).map((to) => ({ from, to }))),
);
const top = (path: string) => path.split('/')[0];
const show = (list: { from: string; to: string }[]) => list.map((e) => `${e.from} -> ${e.to}`);

describe('import direction', () => {
  it('sees the imports (the scan is not vacuous)', () => {
    assert.ok(
      edges.some((e) => e.from === 'functions/login/handler.ts' && e.to === 'functions/login/app.ts'),
    );
    assert.ok(edges.some((e) => top(e.from) === 'tools' && e.to === 'functions/index.ts'));
  });

  it('functions/ imports nothing from local/, tools/, bench/, scripts/ or test/, nor functions/index.ts', () => {
    const wrong = edges.filter(
      (e) => top(e.from) === 'functions' && (top(e.to) !== 'functions' || e.to === 'functions/index.ts'),
    );
    assert.deepEqual(show(wrong), []);
  });

  it("local/, tools/, bench/ and scripts/ reach functions/ only through package.json's exported modules", () => {
    assert.ok(exported.has('functions/index.ts'));
    const wrong = edges.filter(
      (e) =>
        ['local', 'tools', 'bench', 'scripts'].includes(top(e.from) ?? '') &&
        top(e.to) === 'functions' &&
        !exported.has(e.to),
    );
    assert.deepEqual(show(wrong), []);
  });

  it('nothing outside test/ imports test/ (the bench shares fixtures through local/fixtures.ts)', () => {
    const wrong = edges.filter((e) => top(e.from) !== 'test' && top(e.to) === 'test');
    assert.deepEqual(show(wrong), []);
  });

  it('functions/shared/ imports no function folder, and shared/config.ts nothing of shared/auth/', () => {
    const wrong = edges.filter(
      (e) =>
        (e.from.startsWith('functions/shared/') && !e.to.startsWith('functions/shared/')) ||
        (e.from === 'functions/shared/config.ts' && e.to.startsWith('functions/shared/auth/')),
    );
    assert.deepEqual(show(wrong), []);
  });
});
