/**
 * Golden fixtures: every event in events/pre-token-generation/ gives the response stored in
 * expected/<scenario>.json, under every event version and every trigger source.
 *
 * After an intended change of the claim set, regenerate with
 *   UPDATE_GOLDEN=1 ./node_modules/.bin/node --test test/unit/pre-token-generation/golden.test.ts
 * and review the diff of expected/ like code.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { clientCredentialsSource, userTriggerSources } from '../../../functions/shared/claims/types.ts';
import { eventFiles, expectedDir, loadEvent, scenarioOf, testHandler, withVersion } from './support.ts';

type Expected = { v1?: unknown; v2?: unknown };

const handler = testHandler();
const update = process.env.UPDATE_GOLDEN === '1';
const files = eventFiles();
const scenarios = [...new Set(files.map(scenarioOf))];

function expectedFor(scenario: string): Expected {
  const url = new URL(`${scenario}.json`, expectedDir);
  return existsSync(url) ? (JSON.parse(readFileSync(url, 'utf8')) as Expected) : {};
}

if (update) {
  for (const scenario of scenarios) {
    const base = loadEvent(`${scenario}.json`);
    const out: Expected = {};
    if (base.triggerSource !== clientCredentialsSource) {
      out.v1 = (await handler(withVersion(base, '1', base.triggerSource))).response;
    }
    out.v2 = (
      await handler(withVersion(base, base.version === '3' ? '3' : '2', base.triggerSource))
    ).response;
    writeFileSync(new URL(`${scenario}.json`, expectedDir), `${JSON.stringify(out, null, 2)}\n`);
  }
}

describe('golden fixtures', () => {
  it('has an expected output for every scenario', () => {
    for (const scenario of scenarios) {
      assert.ok(existsSync(new URL(`${scenario}.json`, expectedDir)), `expected/${scenario}.json is missing`);
    }
  });

  for (const file of files) {
    it(`${file} gives its golden response`, async () => {
      const event = loadEvent(file);
      const expected = expectedFor(scenarioOf(file));
      const result = await handler(structuredClone(event));
      assert.deepEqual(result.response, event.version === '1' ? expected.v1 : expected.v2);
    });
  }

  for (const scenario of scenarios.filter(
    (s) => loadEvent(`${s}.json`).triggerSource !== clientCredentialsSource,
  )) {
    describe(`${scenario} under every version and user trigger source`, () => {
      const base = loadEvent(`${scenario}.json`);
      const expected = expectedFor(scenario);
      for (const version of ['1', '2', '3'] as const) {
        for (const source of userTriggerSources) {
          it(`V${version} ${source}`, async () => {
            const result = await handler(withVersion(base, version, source));
            assert.deepEqual(result.response, version === '1' ? expected.v1 : expected.v2);
          });
        }
      }
    });
  }

  it('returns the event object it was given, with the rest of the envelope untouched', async () => {
    const event = loadEvent('idme-veteran.json');
    const before = structuredClone(event);
    const result = await handler(event);
    assert.equal(result, event);
    assert.deepEqual({ ...result, response: null }, { ...before, response: null });
  });
});
