/**
 * functions/shared/metrics.ts: each event is one valid EMF line (read back with local/emf.ts, as
 * CloudWatch reads it) with exactly its documented dimension sets, dimension values come only from
 * fixed lists, and an upstream call's outcome follows the error it ended with.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { BadRequestError, ThrottledError, UpstreamError } from '../../../functions/shared/errors.ts';
import {
  providerDimension,
  reasonCodes,
  reasonDimension,
  recordCredentialsIssued,
  recordResponse,
  recordSignIn,
  recordSignOut,
  recordTriggerDecision,
  routeDimension,
  upstreamCall,
} from '../../../functions/shared/metrics.ts';
import { UpstreamTimeoutError } from '../../../functions/shared/upstream-http.ts';
import { repoRoot } from '../../../local/api.ts';
import { MetricsCollector, metricKey, parseEmf, tapStdout } from '../../../local/emf.ts';

const collector = new MetricsCollector();
let untap: () => void;
beforeEach(() => {
  collector.clear();
  untap = tapStdout((chunk) => collector.ingestWrite(chunk));
});
afterEach(() => untap());

/** The keys written since the test started, without `service`. */
const keys = () => {
  untap();
  assert.deepEqual(collector.invalid, []);
  return collector.datapoints.map((p) => `${metricKey(p, ['service'])}=${p.values.join(',')}`).sort();
};

describe('metrics.ts events', () => {
  it('writes nothing to stderr: dimension sets sharing a key are on purpose, not worth a warning per line', async () => {
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    try {
      await upstreamCall('GetId', async () => 1);
      recordSignIn('failed', 'IduraTest', 'state_mismatch');
      recordResponse('GET /credentials', 502, 'upstream_error');
      recordTriggerDecision('Idura', 'normalized');
    } finally {
      process.stderr.write = write;
    }
    assert.deepEqual(written, []);
    assert.ok(keys().length > 0, 'the metrics were written');
  });

  it('a sign-in step: the service total and the provider (and reason) split', () => {
    recordSignIn('started', 'IDmeSandbox');
    recordSignIn('failed', 'IduraTest', 'state_mismatch');
    assert.deepEqual(keys(), [
      'SignInFailed{provider=IduraTest,reason=state_mismatch}=1',
      'SignInFailed{}=1',
      'SignInStarted{provider=IDmeSandbox}=1',
      'SignInStarted{}=1',
    ]);
    assert.ok(collector.datapoints.every((p) => p.namespace === 'FederationBroker' && p.dimensions.service));
  });

  it('credentials by path and cache, sign-outs and trigger decisions', () => {
    recordCredentialsIssued('bearer', true);
    recordSignOut('revoke_failed:invalid_client');
    recordTriggerDecision('Idura', 'normalized');
    assert.deepEqual(keys(), [
      'CredentialsIssued{cache=hit,path=bearer}=1',
      'CredentialsIssued{path=bearer}=1',
      'SignOuts{outcome=revoke_failed}=1',
      'TriggerDecisions{decision=normalized,provider=Idura}=1',
      'TriggerDecisions{decision=normalized}=1',
    ]);
  });

  it('an answer: Responses and ServerError by route, ErrorResponses by code from 400 on', () => {
    recordResponse('GET /auth/session', 200);
    recordResponse('POST /credentials', 503, 'keys_unavailable');
    assert.deepEqual(keys(), [
      'ErrorResponses{error=keys_unavailable,route=/credentials}=1',
      'ErrorResponses{error=keys_unavailable}=1',
      'Responses{route=/auth/session}=1',
      'Responses{route=/credentials}=1',
      'ServerError{route=/auth/session}=0',
      'ServerError{route=/credentials}=1',
    ]);
  });
});

describe('metrics.ts upstream calls', () => {
  const outcomeOf = async (error: unknown) => {
    collector.clear();
    await assert.rejects(
      upstreamCall('GetId', () => Promise.reject(error)),
      (e) => e === error,
    );
    return collector.datapoints.find(
      (p) => p.name === 'UpstreamCalls' && 'outcome' in p.dimensions && 'target' in p.dimensions,
    )?.dimensions.outcome;
  };

  it('records ok with the latency in milliseconds, and passes the result through', async () => {
    assert.equal(await upstreamCall('SecretsManager', async () => 'value'), 'value');
    const latency = collector.datapoints.find((p) => p.name === 'UpstreamLatency');
    assert.equal(latency?.unit, 'Milliseconds');
    assert.deepEqual(
      keys().filter((k) => k.startsWith('UpstreamCalls')),
      [
        'UpstreamCalls{outcome=ok,target=SecretsManager}=1',
        'UpstreamCalls{outcome=ok}=1',
        'UpstreamCalls{target=SecretsManager}=1',
      ],
    );
  });

  it('names the outcome from the error and rethrows it', async () => {
    assert.equal(await outcomeOf(new ThrottledError('slow down', 1)), 'throttled');
    assert.equal(
      await outcomeOf(new ThrottledError('limit', 5, { code: 'limit_exceeded' })),
      'limit_exceeded',
    );
    assert.equal(
      await outcomeOf(new UpstreamError('late', { statusCode: 504, code: 'upstream_timeout' })),
      'timeout',
    );
    assert.equal(await outcomeOf(new UpstreamTimeoutError('no answer')), 'timeout');
    assert.equal(await outcomeOf(new BadRequestError('refused', { code: 'invalid_grant' })), 'refused');
    assert.equal(await outcomeOf(new UpstreamError('down')), 'failed');
    assert.equal(await outcomeOf(new Error('ECONNRESET')), 'failed');
  });
});

describe('metrics.ts dimensions stay low-cardinality', () => {
  it('a reason is a known code or `other`: never free text, a token or an identity', () => {
    assert.equal(reasonDimension('state_mismatch'), 'state_mismatch');
    assert.equal(reasonDimension('revoke_failed:invalid_client'), 'revoke_failed');
    for (const raw of [
      'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln',
      'us-east-1:0b9f1a2c-1111',
      'The token expired',
      undefined,
    ])
      assert.equal(reasonDimension(raw), 'other', String(raw));
  });

  it('a provider is a short name or `other`/`unknown`; a route is a template path or `unknown`', () => {
    assert.equal(providerDimension('IDmeSandbox'), 'IDmeSandbox');
    assert.equal(providerDimension('a provider with spaces'), 'other');
    assert.equal(providerDimension('x'.repeat(33)), 'other');
    assert.equal(providerDimension(undefined), 'unknown');
    assert.equal(routeDimension('GET /auth/callback'), '/auth/callback');
    assert.equal(routeDimension('$default'), 'unknown');
    assert.equal(routeDimension(undefined), 'unknown');
  });

  it('knows every error code the functions define, and no code they do not use', () => {
    const source = (dir: string): string =>
      readdirSync(dir, { withFileTypes: true })
        .map((e) =>
          e.isDirectory()
            ? source(join(dir, e.name))
            : e.name.endsWith('.ts')
              ? readFileSync(join(dir, e.name), 'utf8')
              : '',
        )
        .join('\n');
    const functions = source(join(repoRoot, 'functions'));
    const defined = new Set(
      [...functions.matchAll(/code(?: \?\?|:) '([a-z_]+)'/g)].map((m) => m[1] as string),
    );
    const missing = [...defined].filter((code) => !reasonCodes.has(code));
    assert.deepEqual(missing, [], 'add these codes to reasonCodes in metrics.ts');
    const metricsSource = readFileSync(join(repoRoot, 'functions/shared/metrics.ts'), 'utf8');
    const unused = [...reasonCodes].filter(
      (code) => functions.replace(metricsSource, '').indexOf(`'${code}`) === -1,
    );
    assert.deepEqual(unused, [], 'codes no function uses');
  });
});

describe('local/emf.ts reads EMF as CloudWatch does', () => {
  const line = (root: Record<string, unknown>, directive: Record<string, unknown>) =>
    JSON.stringify({ _aws: { Timestamp: 1_700_000_000_000, CloudWatchMetrics: [directive] }, ...root });
  const directive = {
    Namespace: 'N',
    Dimensions: [['a'], ['a', 'b']],
    Metrics: [{ Name: 'M', Unit: 'Count' }],
  };

  it('gives one datapoint per dimension set', () => {
    const points = parseEmf(line({ a: 'x', b: 'y', M: 2 }, directive));
    assert.ok(Array.isArray(points));
    assert.deepEqual(
      points.map((p) => [metricKey(p), p.values]),
      [
        ['M{a=x}', [2]],
        ['M{a=x,b=y}', [2]],
      ],
    );
  });

  it('ignores lines that are no EMF document, and refuses invalid ones whole', () => {
    assert.equal(parseEmf('{"level":"INFO","message":"hello"}'), undefined);
    assert.equal(parseEmf('not json'), undefined);
    assert.ok(parseEmf(line({ a: 'x', M: 2 }, directive)) instanceof Error, 'a dimension without a value');
    assert.ok(
      parseEmf(line({ a: 'x', b: 'y', M: 'two' }, directive)) instanceof Error,
      'a value that is no number',
    );
    assert.ok(
      parseEmf(
        line({ a: 'x', b: 'y', M: 1 }, { ...directive, Metrics: [{ Name: 'M', Unit: 'Apples' }] }),
      ) instanceof Error,
    );
    assert.ok(parseEmf(JSON.stringify({ _aws: { CloudWatchMetrics: [] } })) instanceof Error, 'no Timestamp');
  });
});
