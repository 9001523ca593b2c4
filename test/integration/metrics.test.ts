/**
 * The broker's metrics over the offline stack, read from the functions' output as CloudWatch Logs
 * reads EMF (local/emf.ts): the exact metrics of a full sign-in, a refused token, a throttled identity
 * pool and a failing trigger. Totals leave out the `service` dimension (one value everywhere) and
 * count a latency by its samples (its values vary).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { OfflineStack } from '../../local/stack.ts';
import { startEphemeralStack } from '../../local/stack.ts';
import { captureLogs } from '../helpers/log-capture.ts';
import { Browser } from '../helpers/web.ts';

let stack: OfflineStack;

before(async () => {
  stack = await startEphemeralStack();
});
after(async () => {
  await stack?.close();
});

/**
 * Totals by metric and dimensions. A runtime answers an invocation only once the lines it wrote
 * have been passed on (local/lambda/runtime.ts), so nothing is still on its way.
 */
async function emitted(): Promise<Record<string, number>> {
  assert.deepEqual(stack.metrics.invalid, [], 'every EMF line is valid');
  const totals = stack.metrics.totals({ omit: ['service'], namespace: 'FederationBroker' });
  for (const point of stack.metrics.datapoints) assert.equal(point.dimensions.service, 'federation-broker');
  return totals;
}

async function signIn(identity = 'veteran'): Promise<Browser> {
  const browser = new Browser();
  await browser.navigate(`${stack.api.url}/auth/login?provider=IDmeSandbox&return_to=/`, {
    identity,
    stopAt: stack.api.url,
  });
  return browser;
}

async function sessionCredentials(browser: Browser): Promise<number> {
  const response = await browser.request(`${stack.api.url}/credentials`, {
    method: 'POST',
    headers: { origin: stack.api.url, accept: 'application/json' },
  });
  await response.arrayBuffer();
  return response.status;
}

/** Keys of metrics whose values vary (latencies): present, counted by samples. */
const upstream = (target: string, outcome: string, n = 1) => ({
  [`UpstreamCalls{target=${target}}`]: n,
  [`UpstreamCalls{outcome=${outcome},target=${target}}`]: n,
  [`UpstreamLatency{target=${target}}`]: n,
  [`UpstreamLatency{outcome=${outcome},target=${target}}`]: n,
});
const response = (route: string, status: number, error?: string) => ({
  [`Responses{route=${route}}`]: 1,
  [`ServerError{route=${route}}`]: status >= 500 ? 1 : 0,
  ...(error
    ? { [`ErrorResponses{error=${error}}`]: 1, [`ErrorResponses{error=${error},route=${route}}`]: 1 }
    : {}),
});

/** Adds up several expectations (the same key twice adds). */
function sum(...parts: Array<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of parts) for (const [k, v] of Object.entries(part)) out[k] = (out[k] ?? 0) + v;
  return out;
}
const sorted = (o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

describe('metrics of the offline stack', { concurrency: false }, () => {
  beforeEach(() => {
    stack.identityPool.setFault();
    stack.userPool.setFault();
    stack.metrics.clear();
  });

  it('a full sign-in: login, the trigger, the callback, then credentials through the session', async () => {
    const browser = await signIn();
    assert.ok(browser.cookies.has('broker-session'), 'signed in');
    assert.equal(await sessionCredentials(browser), 200);
    const upstreamOk = (target: string) => upstream(target, 'ok');
    const outcomeOk = (n: number) => ({ 'UpstreamCalls{outcome=ok}': n, 'UpstreamLatency{outcome=ok}': n });
    assert.deepEqual(
      sorted(await emitted()),
      sorted(
        sum(
          // /auth/login
          { 'SignInStarted{}': 1, 'SignInStarted{provider=IDmeSandbox}': 1 },
          response('/auth/login', 302),
          // the pre-token-generation trigger, at the code exchange and again at the refresh
          {
            'TriggerDecisions{decision=normalized}': 2,
            'TriggerDecisions{decision=normalized,provider=IDmeSandbox}': 2,
          },
          // /auth/callback: code exchange, the pool's keys (cold container), GetId
          upstreamOk('TokenEndpoint'),
          upstreamOk('Jwks'),
          upstreamOk('GetId'),
          { 'SignInSucceeded{}': 1, 'SignInSucceeded{provider=IDmeSandbox}': 1 },
          response('/auth/callback', 302),
          // /credentials with the session: refresh grant, its own keys and identity cache (cold), then
          // GetId and GetCredentialsForIdentity
          upstreamOk('TokenEndpoint'),
          { 'SessionRefreshes{outcome=ok}': 1 },
          upstreamOk('Jwks'),
          upstreamOk('GetId'),
          upstreamOk('GetCredentialsForIdentity'),
          { 'CredentialsIssued{path=session}': 1, 'CredentialsIssued{cache=miss,path=session}': 1 },
          response('/credentials', 200),
          outcomeOk(7),
        ),
      ),
    );
    assert.match(stack.metrics.summary(), /SignInStarted=1 SignInSucceeded=1/);
  });

  it('a refused token: 401 malformed_token, counted by route and code, no upstream call', async () => {
    const result = await fetch(`${stack.api.url}/credentials`, {
      headers: { authorization: 'Bearer not.a.token' },
    });
    await result.arrayBuffer();
    assert.equal(result.status, 401);
    assert.deepEqual(sorted(await emitted()), sorted(response('/credentials', 401, 'malformed_token')));
  });

  it('a throttled identity pool: 429 throttled, GetId counted as throttled', async () => {
    const browser = await signIn('ial2');
    stack.metrics.clear();
    stack.identityPool.setFault({ error: 'TooManyRequestsException' });
    assert.equal(await sessionCredentials(browser), 429);
    assert.deepEqual(
      sorted(await emitted()),
      sorted(
        sum(
          upstream('TokenEndpoint', 'ok'),
          { 'UpstreamCalls{outcome=ok}': 1, 'UpstreamLatency{outcome=ok}': 1 },
          { 'SessionRefreshes{outcome=ok}': 1 },
          {
            'TriggerDecisions{decision=normalized}': 1,
            'TriggerDecisions{decision=normalized,provider=IDmeSandbox}': 1,
          },
          // A user this container has not seen: GetId first, and it is throttled.
          upstream('GetId', 'throttled'),
          { 'UpstreamCalls{outcome=throttled}': 1, 'UpstreamLatency{outcome=throttled}': 1 },
          response('/credentials', 429, 'throttled'),
        ),
      ),
    );
  });

  it('a failing trigger: the sign-in fails with trigger_failed, counted by provider and reason', async () => {
    stack.userPool.setFault({ trigger: 'crash' });
    const browser = await signIn();
    assert.ok(!browser.cookies.has('broker-session'), 'not signed in');
    assert.deepEqual(
      sorted(await emitted()),
      sorted(
        sum(
          { 'SignInStarted{}': 1, 'SignInStarted{provider=IDmeSandbox}': 1 },
          response('/auth/login', 302),
          { 'SignInFailed{}': 1, 'SignInFailed{provider=IDmeSandbox,reason=trigger_failed}': 1 },
          response('/auth/callback', 502, 'trigger_failed'),
        ),
      ),
    );
  });
});

describe('two stacks in one process', () => {
  it('each counts only its own functions’ lines', async () => {
    const other = await startEphemeralStack();
    try {
      stack.metrics.clear();
      const result = await fetch(`${stack.api.url}/credentials`, {
        headers: { authorization: 'Bearer not.a.token' },
      });
      await result.arrayBuffer();
      assert.equal(result.status, 401);
      assert.deepEqual(sorted(await emitted()), sorted(response('/credentials', 401, 'malformed_token')));
      assert.deepEqual(other.metrics.datapoints, [], 'the other stack saw none of them');
    } finally {
      await other.close();
    }
  });
});

describe('log lines of an invocation', () => {
  it('carry the request id, the function and coldStart without any call passing them', async () => {
    const logs = captureLogs();
    try {
      await signIn('student');
    } finally {
      logs.restore();
    }
    const audit = logs.lines.find((l) => l.audit === 'sign-in');
    assert.ok(audit, JSON.stringify(logs.lines.map((l) => l.message)));
    assert.match(String(audit.requestId), /^[0-9a-f-]{36}$/);
    assert.equal(audit.function, 'CallbackFunction');
    assert.equal(typeof audit.coldStart, 'boolean');
  });
});
