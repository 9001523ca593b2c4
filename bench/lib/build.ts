/**
 * Everything the cold-start runs load: each function built as `sam build` builds it (scripts/build.ts
 * reads template.yaml), and the two baselines (an empty handler, and the naive SDK + jose handler with
 * esbuild's defaults).
 */
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { repoRoot } from '../../local/api.ts';
import { readTemplate, TemplateResolver } from '../../local/template.ts';
import { buildFunctions } from '../../scripts/build.ts';

export const outRoot = join(repoRoot, 'bench', 'out');

interface Sizes {
  /** Uncompressed bytes. */
  bytes: number;
  /** Bytes after DEFLATE, about what the file adds to a deployment .zip. */
  zipped: number;
  files: number;
}

/** Sizes of every file under `path` (symlinks are not followed). */
function sizesOf(path: string): Sizes {
  const out: Sizes = { bytes: 0, zipped: 0, files: 0 };
  const visit = (p: string) => {
    const stat = lstatSync(p, { throwIfNoEntry: false });
    if (stat === undefined) return;
    if (stat.isDirectory()) {
      for (const name of readdirSync(p)) visit(join(p, name));
      return;
    }
    if (!stat.isFile()) return;
    const content = readFileSync(p);
    out.bytes += content.length;
    out.zipped += deflateRawSync(content).length;
    out.files += 1;
  };
  visit(path);
  return out;
}

export interface BuiltFunction {
  functionId: string;
  /** The directory Lambda would unpack the function to (/var/task). */
  dir: string;
  handlerFile: string;
  bundle: Sizes;
  /** The function's package: bundle and source map. */
  pkg: Sizes;
  /** NODE_OPTIONS as `sam build` sets them (Sourcemap: true adds --enable-source-maps). */
  nodeOptions: string;
}

/** Whether each function's BuildProperties ask for a source map. */
function sourcemaps(): Map<string, boolean> {
  const resolver = new TemplateResolver(readTemplate(), {
    parameters: { HostedUiDomainPrefix: 'build', IdmeClientId: 'x', IduraDomain: 'x', IduraClientId: 'x' },
  });
  const out = new Map<string, boolean>();
  for (const id of resolver.resourcesOfType('AWS::Serverless::Function')) {
    const props = (resolver.resource(id).Metadata.BuildProperties ?? {}) as { Sourcemap?: boolean };
    out.set(id, props.Sourcemap === true);
  }
  return out;
}

/** Builds every function as template.yaml builds it. */
export async function buildTemplateFunctions(): Promise<BuiltFunction[]> {
  const sourcemap = sourcemaps();
  const built = await buildFunctions({ outDir: join(outRoot, 'build', 'functions') });
  return built.map((b) => {
    const dir = dirname(b.outfile);
    return {
      functionId: b.functionId,
      dir,
      handlerFile: b.outfile,
      bundle: sizesOf(b.outfile),
      pkg: sizesOf(dir),
      nodeOptions: sourcemap.get(b.functionId) ? '--enable-source-maps' : '',
    };
  });
}

export interface Baseline {
  name: 'empty' | 'naive';
  handlerFile: string;
  bundle: Sizes;
}

/** The baselines, bundled with `sam build`'s defaults (`--bundle --platform=node --format=cjs --target=es2020 --minify`). */
export async function buildBaselines(): Promise<Baseline[]> {
  const out: Baseline[] = [];
  for (const name of ['empty', 'naive'] as const) {
    const dir = join(outRoot, 'build', 'baselines', name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    // Lambda reads handler.js as CommonJS unless a package.json says otherwise; the repository's says module.
    writeFileSync(join(dir, 'package.json'), '{"type":"commonjs"}\n');
    const handlerFile = join(dir, 'handler.js');
    await build({
      entryPoints: [join(repoRoot, 'bench', 'fixtures', `${name}-handler.ts`)],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'es2020',
      minify: true,
      outfile: handlerFile,
      logLevel: 'warning',
    });
    out.push({ name, handlerFile, bundle: sizesOf(handlerFile) });
  }
  return out;
}
