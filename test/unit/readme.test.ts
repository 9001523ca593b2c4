/**
 * The README's configuration table against what the template sets and the functions read, and its
 * error tables against the broker's error codes, so that the docs and the code cannot drift apart
 * unnoticed.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { errorCodes } from '../../functions/shared/errors.ts';
import { repoRoot } from '../../local/api.ts';
import { readTemplate } from '../../local/template.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const configSection = readme.slice(
  readme.indexOf('## Configuration'),
  readme.indexOf('## Deploying with SAM'),
);
const documented = new Set(
  [...configSection.matchAll(/^\| `([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1] as string),
);

/** Every variable the template sets on a function (Globals included). */
function templateVariables(): Set<string> {
  const template = readTemplate();
  const names = new Set<string>();
  const add = (properties: Record<string, unknown> | undefined) => {
    const environment = properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
    for (const name of Object.keys(environment?.Variables ?? {})) names.add(name);
  };
  add(template.Globals?.Function as Record<string, unknown> | undefined);
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type === 'AWS::Serverless::Function') add(resource.Properties as Record<string, unknown>);
  }
  return names;
}

/** The functions' source, where a documented variable must be read. */
function functionSource(dir = join(repoRoot, 'functions')): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return functionSource(path);
      return entry.name.endsWith('.ts') ? readFileSync(path, 'utf8') : '';
    })
    .join('\n');
}

/** Function names of the "Used by" column, by template logical id. */
const shortNames: Record<string, string> = {
  CredentialsFunction: 'credentials',
  LoginFunction: 'login',
  CallbackFunction: 'callback',
  SessionFunction: 'session',
  LogoutFunction: 'logout',
  PreTokenGenerationFunction: 'pre-token-generation',
};

describe('README configuration table', () => {
  it('names, for each template variable, exactly the functions whose Environment declares it', () => {
    const usedBy = new Map(
      [...configSection.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([^|]+) \|/gm)].map((m) => [
        m[1] as string,
        (m[2] as string)
          .split(',')
          .map((name) => name.trim())
          .flatMap((name) => (name === 'sign-in' ? ['login', 'callback', 'session', 'logout'] : [name]))
          .sort(),
      ]),
    );
    const declaredBy = new Map<string, string[]>();
    for (const [id, resource] of Object.entries(readTemplate().Resources)) {
      if (resource.Type !== 'AWS::Serverless::Function') continue;
      const variables = (resource.Properties as { Environment?: { Variables?: object } }).Environment
        ?.Variables;
      for (const name of Object.keys(variables ?? {})) {
        declaredBy.set(name, [...(declaredBy.get(name) ?? []), shortNames[id] ?? id].sort());
      }
    }
    for (const [name, functions] of declaredBy) assert.deepEqual(usedBy.get(name), functions, name);
  });

  it('is found and lists variables', () => {
    assert.ok(documented.size >= 10, `only ${documented.size} variables found in the table`);
  });

  it('documents every variable template.yaml sets', () => {
    const missing = [...templateVariables()].filter((name) => !documented.has(name));
    assert.deepEqual(missing, [], 'add these to the README configuration table');
  });

  it('documents only variables the functions read', () => {
    const source = functionSource();
    const unread = [...documented].filter(
      (name) => !source.includes(`'${name}'`) && !source.includes(`.${name}`),
    );
    assert.deepEqual(unread, [], 'the README documents variables no function reads');
  });
});

/** The codes in the `error` column of every README table whose header has one. */
function documentedErrorCodes(): Set<string> {
  const codes = new Set<string>();
  for (const table of readme.split(/\n(?!\|)/)) {
    const rows = table.split('\n').filter((line) => line.startsWith('|'));
    const header = rows[0]?.split('|').map((cell) => cell.trim());
    const column = header?.indexOf('`error`') ?? -1;
    if (column < 0) continue;
    for (const row of rows.slice(2)) {
      const cell = row.split('|')[column] ?? '';
      for (const m of cell.matchAll(/`([a-z_]+)`/g)) codes.add(m[1] as string);
    }
  }
  return codes;
}

describe('README error tables', () => {
  const documented = documentedErrorCodes();

  it('document every error code of the broker (errorCodes)', () => {
    const missing = errorCodes.filter((code) => !documented.has(code));
    assert.deepEqual(missing, [], 'add these codes to the README "Error codes" table');
  });

  it('document only codes the broker has', () => {
    const unknown = [...documented].filter((code) => !(errorCodes as readonly string[]).includes(code));
    assert.deepEqual(unknown, [], 'the README names error codes that errorCodes does not have');
  });
});
