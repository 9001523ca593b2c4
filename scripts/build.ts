/**
 * `npm run build`: bundles every function with esbuild exactly as `sam build` does from the
 * template's Metadata.BuildProperties (same entry points, format, target, externals), into
 * dist/<FunctionId>/. Prints each bundle's size. `sam build` remains the deploy path.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from '../local/api.ts';
import { readTemplate, TemplateResolver } from '../local/template.ts';

export interface BuiltFunction {
  functionId: string;
  outfile: string;
  bytes: number;
}

/**
 * Builds each function; `bundleEverything` ignores External (the "no layer" variant), `external`
 * replaces it (the benchmark's "with the layer" variant).
 */
export async function buildFunctions(
  options: { outDir?: string; bundleEverything?: boolean; external?: readonly string[] } = {},
): Promise<BuiltFunction[]> {
  const outDir = options.outDir ?? join(repoRoot, 'dist');
  const resolver = new TemplateResolver(readTemplate(), {
    parameters: { HostedUiDomainPrefix: 'build', IdmeClientId: 'x', IduraDomain: 'x', IduraClientId: 'x' },
  });
  rmSync(outDir, { recursive: true, force: true });
  const built: BuiltFunction[] = [];
  for (const id of resolver.resourcesOfType('AWS::Serverless::Function')) {
    const { Properties, Metadata } = resolver.resource(id);
    const p = Metadata.BuildProperties as {
      EntryPoints: string[];
      Format?: 'esm' | 'cjs';
      Target?: string;
      Minify?: boolean;
      Sourcemap?: boolean;
      KeepNames?: boolean;
      External?: string[];
      OutExtension?: string[];
      /** `sam build` passes it as `--main-fields=<value>`. */
      MainFields?: string;
      /** `sam build` passes it as `--sources-content=<value>`. */
      SourcesContent?: string | boolean;
    };
    const dir = join(outDir, id);
    mkdirSync(dir, { recursive: true });
    const ext = (p.OutExtension ?? []).find((e) => e.startsWith('.js='))?.slice(4) ?? '.js';
    const outfile = join(dir, `handler${ext}`);
    await build({
      entryPoints: p.EntryPoints.map((e) => join(repoRoot, String(Properties.CodeUri ?? '.'), e)),
      bundle: true,
      platform: 'node',
      format: p.Format ?? 'cjs',
      target: p.Target ?? 'es2020',
      minify: p.Minify ?? true,
      sourcemap: p.Sourcemap ?? false,
      sourcesContent: String(p.SourcesContent ?? true) !== 'false',
      keepNames: p.KeepNames ?? false,
      external: [...(options.external ?? (options.bundleEverything ? [] : (p.External ?? [])))],
      ...(p.MainFields ? { mainFields: p.MainFields.split(',') } : {}),
      outfile,
      logLevel: 'warning',
      // ESM output may still meet CommonJS `require` in bundled dependencies.
      banner:
        p.Format === 'esm'
          ? { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" }
          : {},
    });
    built.push({ functionId: id, outfile, bytes: statSync(outfile).size });
  }
  return built;
}

if (import.meta.main) {
  const built = await buildFunctions();
  for (const b of built)
    console.log(`${b.functionId.padEnd(30)} ${(b.bytes / 1024).toFixed(1).padStart(8)} KiB  ${b.outfile}`);
}
