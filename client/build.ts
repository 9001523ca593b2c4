/**
 * `npm run build:client`: the client as a package in client/dist: one ESM file (esbuild, no
 * dependency bundled: it has none at run time) and its declarations (tsc), so a frontend installs
 * it with `npm install ./client` or copies dist/. The offline stack bundles it for the demo itself.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import ts from 'typescript';

const entry = join(import.meta.dirname, 'index.ts');

export async function buildClient(outDir = join(import.meta.dirname, 'dist')): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile: join(outDir, 'index.js'),
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    sourcemap: true,
    logLevel: 'warning',
  });
  const program = ts.createProgram([entry], {
    declaration: true,
    emitDeclarationOnly: true,
    outDir,
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: [],
    skipLibCheck: true,
  });
  const result = program.emit();
  const problems = [...ts.getPreEmitDiagnostics(program), ...result.diagnostics];
  if (problems.length > 0) {
    throw new Error(ts.formatDiagnostics(problems, ts.createCompilerHost({})));
  }
}

if (import.meta.main) await buildClient();
