/**
 * Builds functions as `sam build` does (aws-lambda-builders' esbuild workflow): the esbuild command
 * line comes from the template's Metadata.BuildProperties and nothing else.
 *
 * `npm run build` writes dist/<FunctionId>/ (what .aws-sam/build/<FunctionId>/ holds) and prints each
 * bundle's size. The offline stack and the bench use `functionArtifact`, cached by content outside
 * the repository (see `artifactRoot`), so a bundle never finds the repository's node_modules.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type LambdaFunction, lambdaFunctions, repoRoot } from '../local/lambda/functions.ts';
import type { Json } from '../local/template.ts';
import { readTemplate, TemplateResolver } from '../local/template.ts';

const run = promisify(execFile);
const esbuildBin = join(repoRoot, 'node_modules', '.bin', 'esbuild');

/** BuildProperties that are not esbuild flags (aws-lambda-builders reads them itself). */
const notFlags = new Set(['EntryPoints', 'UseNpmCi']);

const kebab = (pascal: string): string => pascal.replace(/(?<!^)([A-Z])/g, '-$1').toLowerCase();

/**
 * The esbuild arguments `sam build` derives from BuildProperties (aws-lambda-builders,
 * workflows/nodejs_npm_esbuild/esbuild.py): `--bundle --platform=node`, then `--target=es2020`,
 * `--format=cjs` and `--minify` when the template does not set them, then each property as a flag:
 * `true` as `--flag`, a string as `--flag=value`, a list as `--flag:item` per item. The entry points
 * come last. `--outdir` is added by the caller.
 *
 * @throws Error for a value esbuild's command line cannot take (aws-lambda-builders refuses it too).
 */
export function esbuildArgs(props: Record<string, Json>): string[] {
  const entryPoints = props.EntryPoints;
  if (!Array.isArray(entryPoints) || entryPoints.length === 0) {
    throw new Error('BuildProperties.EntryPoints must be a non-empty list');
  }
  const args = ['--bundle', '--platform=node'];
  if (!('Target' in props)) args.push('--target=es2020');
  if (!('Format' in props)) args.push('--format=cjs');
  if (!('Minify' in props)) args.push('--minify');
  for (const [key, value] of Object.entries(props)) {
    if (notFlags.has(key)) continue;
    const flag = `--${kebab(key)}`;
    if (value === true) args.push(flag);
    else if (value === false) continue;
    else if (typeof value === 'string' || typeof value === 'number') args.push(`${flag}=${value}`);
    else if (Array.isArray(value)) for (const item of value) args.push(`${flag}:${String(item)}`);
    else
      throw new Error(`BuildProperties.${key}: ${JSON.stringify(value)} is not a flag value esbuild takes`);
  }
  return [...args, ...entryPoints.map(String)];
}

/** The module file esbuild writes for a single entry point (`handler.ts` + OutExtension). */
export function outputFile(props: Record<string, Json>): string {
  const entry = String((props.EntryPoints as Json[])[0]);
  const mapping = (Array.isArray(props.OutExtension) ? props.OutExtension : [])
    .map(String)
    .find((m) => m.startsWith('.js='));
  return `${parse(entry).name}${mapping ? mapping.slice(4) : '.js'}`;
}

/** Runs esbuild as `sam build` would, into `outDir`; returns the files it read (from the metafile). */
async function runEsbuild(fn: LambdaFunction, outDir: string): Promise<string[]> {
  if (fn.buildMethod !== 'esbuild') throw new Error(`${fn.id}: Metadata.BuildMethod is not esbuild`);
  const cwd = resolve(repoRoot, fn.codeUri);
  const metafile = join(dirname(outDir), 'meta.json');
  // --metafile and --log-level only describe the build; the bundle is what the template's flags make.
  await run(
    esbuildBin,
    [...esbuildArgs(fn.buildProperties), `--outdir=${outDir}`, `--metafile=${metafile}`],
    {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
    },
  ).catch((error: { stderr?: string; message: string }) => {
    throw new Error(`${fn.id}: esbuild failed: ${error.stderr ?? error.message}`);
  });
  const meta = JSON.parse(readFileSync(metafile, 'utf8')) as { inputs: Record<string, unknown> };
  rmSync(metafile);
  return Object.keys(meta.inputs).map((p) => resolve(cwd, p));
}

function hashFiles(files: readonly string[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort()) {
    hash.update(file).update('\0');
    hash.update(existsSync(file) ? readFileSync(file) : 'missing').update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 16);

/**
 * Where built artifacts are cached: this user's directory in the system's temporary directory
 * (the stack and the tests run what they find there, so it is refused unless it is a real
 * directory of this user's that nobody else may write to), never under the repository, whose
 * node_modules Node would otherwise find from a bundle by walking up directories.
 *
 * @throws Error when the directory is someone else's, a link, or group- or world-writable.
 */
export function artifactRoot(base = tmpdir()): string {
  const uid = process.getuid?.();
  const own = join(base, `federation-broker-artifacts-${uid ?? 'user'}`);
  try {
    mkdirSync(own, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stat = lstatSync(own);
  if (!stat.isDirectory() || (uid !== undefined && stat.uid !== uid) || (stat.mode & 0o022) !== 0) {
    throw new Error(
      `${own} is not a directory of this user's that only this user may write to: remove it (built functions are cached there)`,
    );
  }
  const root = join(own, sha(repoRoot));
  for (let dir = root; dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) {
      throw new Error(
        `${join(dir, 'node_modules')} exists: bundles under ${root} would resolve packages from it`,
      );
    }
  }
  return root;
}

/** Moves a finished temporary directory to `target` unless another process got there first. */
function publish(temp: string, target: string): void {
  try {
    renameSync(temp, target);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    if (!existsSync(target)) throw error;
  }
}

export interface Artifact {
  functionId: string;
  /** The unpacked function (Lambda: /var/task, LAMBDA_TASK_ROOT). */
  taskRoot: string;
  /** The handler module, absolute. */
  moduleFile: string;
  exportName: string;
  /** The esbuild arguments used (without --outdir). */
  args: string[];
}

interface Manifest {
  inputs: string[];
  build: string;
}

/**
 * The function's artifact: `<dir>/task/` holds the bundle (Lambda's /var/task), in a directory with no
 * node_modules above it, so an import esbuild left out fails as it would in Lambda
 * (ERR_MODULE_NOT_FOUND, Runtime.ImportModuleError). Rebuilt only when the template's flags or a file
 * esbuild read changed.
 *
 * @throws Error when the function lists layers: the template has none, and they are not emulated.
 */
export async function functionArtifact(fn: LambdaFunction): Promise<Artifact> {
  if (fn.layers.length > 0) throw new Error(`${fn.id}: layers are not emulated offline`);
  const args = esbuildArgs(fn.buildProperties);
  const dir = join(artifactRoot(), 'functions', fn.id, sha(JSON.stringify({ args, codeUri: fn.codeUri })));
  const dot = fn.handler.lastIndexOf('.');
  const exportName = fn.handler.slice(dot + 1);
  const result = (build: string): Artifact => ({
    functionId: fn.id,
    taskRoot: join(dir, build, 'task'),
    moduleFile: join(dir, build, 'task', outputFile(fn.buildProperties)),
    exportName,
    args,
  });
  const manifestFile = join(dir, 'manifest.json');
  if (existsSync(manifestFile)) {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
    if (hashFiles(manifest.inputs) === manifest.build.slice(2)) return result(manifest.build);
  }
  const temp = join(dir, `tmp-${process.pid}-${Date.now()}`);
  mkdirSync(temp, { recursive: true });
  let inputs: string[];
  try {
    inputs = await runEsbuild(fn, join(temp, 'task'));
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  const build = `b-${hashFiles(inputs)}`;
  publish(temp, join(dir, build));
  const manifestTemp = `${manifestFile}.${process.pid}`;
  writeFileSync(manifestTemp, JSON.stringify({ inputs, build } satisfies Manifest));
  renameSync(manifestTemp, manifestFile);
  return result(build);
}

/** Template values that have no default, for builds that resolve nothing but BuildProperties. */
export const buildParameters = {
  HostedUiDomainPrefix: 'build',
  IdmeClientId: 'x',
  IduraDomain: 'x',
  IduraClientId: 'x',
};

export interface BuiltFunction {
  functionId: string;
  outfile: string;
  bytes: number;
}

/** `npm run build`: every function into `<outDir>/<FunctionId>/`, as .aws-sam/build holds them. */
export async function buildFunctions(options: { outDir?: string } = {}): Promise<BuiltFunction[]> {
  const outDir = options.outDir ?? join(repoRoot, 'dist');
  const resolver = new TemplateResolver(readTemplate(), { parameters: buildParameters });
  rmSync(outDir, { recursive: true, force: true });
  const built: BuiltFunction[] = [];
  for (const fn of lambdaFunctions(resolver)) {
    const dir = join(outDir, fn.id);
    await runEsbuild(fn, dir);
    const outfile = join(dir, outputFile(fn.buildProperties));
    built.push({ functionId: fn.id, outfile, bytes: statSync(outfile).size });
  }
  return built;
}

if (import.meta.main) {
  const built = await buildFunctions();
  for (const b of built)
    console.log(`${b.functionId.padEnd(30)} ${(b.bytes / 1024).toFixed(1).padStart(8)} KiB  ${b.outfile}`);
}
