/**
 * Everything the cold-start runs load: each function built as `sam build` builds it (scripts/build.ts
 * reads template.yaml), once with the runtime layer's packages External and once with everything
 * bundled; the layer itself, installed as `sam build` installs it (`npm install --omit=dev`); and the
 * two baselines (an empty handler, and the naive SDK + jose handler with esbuild's defaults).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { build } from 'esbuild';
import { repoRoot } from '../../local/api.ts';
import { readTemplate, TemplateResolver } from '../../local/template.ts';
import { buildFunctions } from '../../scripts/build.ts';

export const outRoot = join(repoRoot, 'bench', 'out');

export interface Sizes {
  /** Uncompressed bytes. */
  bytes: number;
  /** Bytes after DEFLATE, about what the file adds to a deployment .zip. */
  zipped: number;
  files: number;
}

/** Sizes of every file under `path` (symlinks are not followed). */
export function sizesOf(path: string): Sizes {
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

export interface Layer {
  packages: string[];
  /** The layer's `nodejs/` directory (Lambda mounts it at /opt/nodejs). */
  dir: string;
  nodeModules: string;
  sizes: Sizes;
  /** How node_modules was made. */
  installedWith: string;
}

/**
 * `npm install --omit=dev` of layers/runtime into bench/out/layer (cached by the package.json's hash).
 * `--prefer-offline` uses npm's cache, which `npm ci` filled, so no network is needed after setup.
 */
export function installLayer(): Layer {
  const manifest = readFileSync(join(repoRoot, 'layers/runtime/package.json'), 'utf8');
  const packages = Object.keys(
    (JSON.parse(manifest) as { dependencies: Record<string, string> }).dependencies,
  );
  const hash = createHash('sha256').update(manifest).digest('hex').slice(0, 12);
  const dir = join(outRoot, `layer-${hash}`, 'nodejs');
  const nodeModules = join(dir, 'node_modules');
  let installedWith = 'npm install --omit=dev --prefer-offline (cached)';
  if (!existsSync(join(dir, '.installed'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), manifest);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(
      npm,
      ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'],
      {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
        // npm itself runs on the project's Node (node_modules/.bin first on PATH).
        env: { ...process.env, PATH: `${join(repoRoot, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
      },
    );
    writeFileSync(join(dir, '.installed'), new Date().toISOString());
    installedWith = 'npm install --omit=dev --prefer-offline';
  }
  return { packages, dir, nodeModules, sizes: sizesOf(nodeModules), installedWith };
}

export type Variant = 'layer' | 'bundled';

export interface BuiltVariant {
  functionId: string;
  variant: Variant;
  /** The directory Lambda would unpack the function to (/var/task). */
  dir: string;
  handlerFile: string;
  bundle: Sizes;
  /** The function's package: bundle and source map. */
  pkg: Sizes;
  /** Whether template.yaml builds the function this way (what `sam build` deploys). */
  isTemplateDefault: boolean;
  /** Whether the function uses the layer at run time (imports one of its packages). */
  importsLayer: boolean;
  /** NODE_OPTIONS as `sam build` sets them (Sourcemap: true adds --enable-source-maps). */
  nodeOptions: string;
}

interface TemplateFunction {
  usesLayer: boolean;
  external: string[];
  sourcemap: boolean;
}

function templateFunctions(): Map<string, TemplateFunction> {
  const resolver = new TemplateResolver(readTemplate(), {
    parameters: { HostedUiDomainPrefix: 'build', IdmeClientId: 'x', IduraDomain: 'x', IduraClientId: 'x' },
  });
  const out = new Map<string, TemplateFunction>();
  for (const id of resolver.resourcesOfType('AWS::Serverless::Function')) {
    const { Properties, Metadata } = resolver.resource(id);
    const props = (Metadata.BuildProperties ?? {}) as { External?: string[]; Sourcemap?: boolean };
    out.set(id, {
      usesLayer: JSON.stringify(Properties.Layers ?? []).includes('RuntimeLayer'),
      external: props.External ?? [],
      sourcemap: props.Sourcemap === true,
    });
  }
  return out;
}

/**
 * Builds every function twice: "layer" (the layer's packages External; node_modules beside the
 * bundle is a symlink to the layer's, as Lambda resolves /opt/nodejs/node_modules) and "bundled".
 */
export async function buildVariants(layer: Layer): Promise<BuiltVariant[]> {
  const template = templateFunctions();
  const out: BuiltVariant[] = [];
  for (const variant of ['layer', 'bundled'] as const) {
    const root = join(outRoot, 'build', variant);
    const built = await buildFunctions({
      outDir: root,
      ...(variant === 'layer' ? { external: layer.packages } : { bundleEverything: true }),
    });
    for (const b of built) {
      const fn = template.get(b.functionId);
      const dir = dirname(b.outfile);
      const source = readFileSync(b.outfile, 'utf8');
      const importsLayer =
        variant === 'layer' &&
        layer.packages.some((p) => source.includes(`"${p}"`) || source.includes(`"${p}/`));
      if (importsLayer) symlinkSync(layer.nodeModules, join(dir, 'node_modules'), 'dir');
      const templateUsesLayer = fn?.usesLayer === true && (fn.external.length ?? 0) > 0;
      out.push({
        functionId: b.functionId,
        variant,
        dir,
        handlerFile: b.outfile,
        bundle: sizesOf(b.outfile),
        pkg: sizesOf(dir),
        isTemplateDefault: variant === 'layer' ? templateUsesLayer : !templateUsesLayer,
        importsLayer,
        nodeOptions: fn?.sourcemap ? '--enable-source-maps' : '',
      });
    }
  }
  return out;
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
