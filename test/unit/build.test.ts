/**
 * The offline artifacts are sam build's: esbuild gets exactly the flags each function's
 * Metadata.BuildProperties gives (as aws-lambda-builders maps them), and nothing else.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { lambdaFunctions, repoRoot } from '../../local/lambda/functions.ts';
import { readTemplate, TemplateResolver } from '../../local/template.ts';
import { buildParameters, esbuildArgs, functionArtifact } from '../../scripts/build.ts';

const resolver = new TemplateResolver(readTemplate(), { parameters: buildParameters });
const functions = lambdaFunctions(resolver);

/** The template's raw YAML, read without the project's own reader. */
const raw = parse(readFileSync(join(repoRoot, 'template.yaml'), 'utf8'), {
  customTags: ['!Ref', '!Sub', '!GetAtt', '!Join', '!If', '!Equals', '!Not', '!Select', '!Split'].map(
    (tag) => ({
      tag,
      resolve: (value: unknown) => value,
    }),
  ),
}) as {
  Resources: Record<string, { Type: string; Metadata?: { BuildProperties?: Record<string, unknown> } }>;
};

describe('esbuild gets exactly the template’s BuildProperties', () => {
  for (const [id, resource] of Object.entries(raw.Resources)) {
    if (resource.Type !== 'AWS::Serverless::Function') continue;
    it(`${id}: one flag per property, sam build's forced flags and defaults, nothing else`, () => {
      const props = resource.Metadata?.BuildProperties ?? {};
      // aws-lambda-builders (workflows/nodejs_npm_esbuild/esbuild.py): forced, then defaults for unset
      // Target/Format/Minify, then PascalCase → --kebab-case: true → --flag, string → --flag=v, list → --flag:v.
      const expected = ['--bundle', '--platform=node'];
      if (!('Target' in props)) expected.push('--target=es2020');
      if (!('Format' in props)) expected.push('--format=cjs');
      if (!('Minify' in props)) expected.push('--minify');
      for (const [key, value] of Object.entries(props)) {
        if (key === 'EntryPoints' || key === 'UseNpmCi') continue;
        const flag = `--${key.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`;
        if (value === true) expected.push(flag);
        else if (Array.isArray(value)) expected.push(...value.map((v) => `${flag}:${v}`));
        else if (value !== false) expected.push(`${flag}=${value}`);
      }
      expected.push(...(props.EntryPoints as string[]));
      assert.deepEqual(esbuildArgs(props as never), expected);
    });
  }

  it('bundles carry no code the template does not ask for (no createRequire banner), as .mjs with a source map', async () => {
    for (const fn of functions) {
      const artifact = await functionArtifact(fn);
      const bundle = readFileSync(artifact.moduleFile, 'utf8');
      const banner = (fn.buildProperties.Banner as string[] | undefined) ?? [];
      if (banner.length === 0) assert.doesNotMatch(bundle.slice(0, 200), /createRequire/, fn.id);
      assert.ok(artifact.moduleFile.endsWith('.mjs'), `${fn.id}: OutExtension .js=.mjs`);
      assert.equal(fn.buildProperties.Sourcemap, true, `${fn.id}: Sourcemap`);
      assert.ok(readFileSync(`${artifact.moduleFile}.map`, 'utf8').includes('"mappings"'), fn.id);
    }
  });
});
