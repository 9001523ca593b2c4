/**
 * The in-process benchmarks, each in a fresh process so one cannot warm or bloat another:
 * - `warm`: /credentials per-request time (cache hit, cache miss, session cookie) and Cognito calls
 *   per request, with upstreams answered in-process at zero latency; the naive handler as baseline.
 * - `memory`: RSS after 10 000 and 50 000 requests that each bring a new identity.
 * Every security check stays on: the broker's handler and verifier run exactly as deployed.
 *
 * Usage: node bench/in-process-child.ts <warm|memory> <input json> <result json>
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { createLocalJWKSet } from 'jose';
import { createIdentityClient } from '#broker';
import { apiEvent } from '../local/fixtures.ts';
import {
  type CallCounter,
  fakeFetch,
  newCounter,
  sdkClientAnsweredInProcess,
  transportAnsweredInProcess,
} from './lib/fakes.ts';
import { median, percentile } from './lib/stats.ts';

export interface InProcessInput {
  issuer: string;
  userPoolId: string;
  clientId: string;
  identityPoolId: string;
  jwks: { keys: unknown[] };
  /** One user's token, presented on every cache-hit request. */
  hitToken: string;
  /** A new user per token. */
  missTokens: string[];
  refreshToken: string;
  cookieKeys: { current: string; k1: string };
  requests: number;
}

export interface Timings {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Cognito Identity calls per request (GetId + GetCredentialsForIdentity). */
  cognitoCallsPerRequest: number;
  /** User-pool token endpoint calls per request (session path). */
  tokenCallsPerRequest: number;
}

const [mode, inputFile, resultFile] = process.argv.slice(2);
const input = JSON.parse(readFileSync(inputFile ?? '', 'utf8')) as InProcessInput;
const domain = 'https://bench.auth.us-east-1.amazoncognito.com';
const frontend = 'https://app.example.com';
const env: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  USER_POOL_ID: input.userPoolId,
  USER_POOL_CLIENT_ID: input.clientId,
  USER_POOL_ISSUER: input.issuer,
  IDENTITY_POOL_ID: input.identityPoolId,
  ALLOWED_ORIGINS: frontend,
  COGNITO_DOMAIN_URL: domain,
  PUBLIC_BASE_URL: 'https://api.example.com',
  USER_POOL_CLIENT_SECRET: 'bench-client-secret-0123456789',
  COOKIE_KEYS: JSON.stringify(input.cookieKeys),
  // Lambda's application log level in template.yaml: every request writes its audit line.
  LOG_LEVEL: 'info',
};
Object.assign(process.env, env);
// Lambda sends the function's stdout to CloudWatch; here it goes nowhere, but is still written.
const context = {
  awsRequestId: 'bench-warm',
  functionName: 'bench',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
} as unknown as Context;

type Handler = (event: unknown, context: Context) => Promise<{ statusCode?: number }>;

const bearer = (token: string) => apiEvent({ headers: { authorization: `Bearer ${token}` } });

async function time(
  handler: Handler,
  eventFor: (i: number) => unknown,
  n: number,
  counter: CallCounter,
): Promise<Timings> {
  const times = new Float64Array(n);
  const before = { ...counter };
  for (let i = 0; i < n; i++) {
    const event = eventFor(i);
    const t0 = performance.now();
    const result = await handler(event, context);
    times[i] = performance.now() - t0;
    if (result.statusCode !== 200) {
      throw new Error(`request ${i} answered ${result.statusCode}: ${JSON.stringify(result).slice(0, 500)}`);
    }
  }
  const all = [...times];
  return {
    requests: n,
    p50Ms: median(all),
    p99Ms: percentile(all, 99),
    meanMs: all.reduce((a, b) => a + b, 0) / n,
    maxMs: Math.max(...all),
    cognitoCallsPerRequest:
      (counter.GetId - before.GetId + counter.GetCredentialsForIdentity - before.GetCredentialsForIdentity) /
      n,
    tokenCallsPerRequest: (counter.token - before.token) / n,
  };
}

/** The broker's /credentials handler with zero-latency upstreams, as the container builds it. */
async function brokerHandler(
  counter: CallCounter,
  options: { now?: () => number; idToken?: () => string } = {},
) {
  const { createCredentialsHandler, parseCredentialsConfig } = await import('#broker');
  return createCredentialsHandler({
    config: parseCredentialsConfig(env),
    // The container's client, with only the network exchange answered in-process.
    identityClient: createIdentityClient({
      region: 'us-east-1',
      timeoutMs: 3_000,
      transport: transportAnsweredInProcess(counter),
    }),
    fetch: fakeFetch({
      jwksUri: `${input.issuer}/.well-known/jwks.json`,
      jwks: input.jwks,
      tokenEndpoint: `${domain}/oauth2/token`,
      idToken: options.idToken ?? (() => input.hitToken),
      counter,
    }),
    ...(options.now ? { now: options.now } : {}),
  }) as unknown as Handler;
}

async function sessionEvent(): Promise<unknown> {
  const { cookieSpecs, deriveKeyring, parseCallbackConfig, sealSession, startSession } = await import(
    '#broker'
  );
  const config = parseCallbackConfig(env);
  const claims = JSON.parse(Buffer.from(input.hitToken.split('.')[1] ?? '', 'base64url').toString());
  const now = Math.floor(Date.now() / 1000);
  const session = startSession({
    claims,
    refreshToken: input.refreshToken,
    provider: 'IDmeSandbox',
    identityId: 'us-east-1:0b3e5c1a-1111-4222-8333-000000000001',
    nowSeconds: now,
    maxAgeSeconds: 43_200,
  });
  const keyring = deriveKeyring({ current: input.cookieKeys.current, secrets: { k1: input.cookieKeys.k1 } });
  const sealed = await sealSession(session, keyring, cookieSpecs(config).session, now);
  return apiEvent({
    headers: { origin: frontend, 'sec-fetch-site': 'same-site' },
    cookies: [sealed.setCookie.split(';')[0] ?? ''],
  });
}

async function warm() {
  const n = input.requests;
  const warmup = Math.min(2_000, Math.floor(n / 5));
  const counter = newCounter();
  const broker = await brokerHandler(counter);

  // Cache hit: one user, the same token every time.
  await time(broker, () => bearer(input.hitToken), warmup, counter);
  const hit = await time(broker, () => bearer(input.hitToken), n, counter);

  // Cache miss: a new identity every request (more identities than the caches hold).
  const missTokens = input.missTokens;
  await time(broker, (i) => bearer(missTokens[(i + n) % missTokens.length] as string), warmup, counter);
  const miss = await time(broker, (i) => bearer(missTokens[i % missTokens.length] as string), n, counter);

  // Session cookie: the refresh_token grant, then the (cached) credentials.
  const session = await sessionEvent();
  await time(broker, () => session, Math.floor(warmup / 4), counter);
  const sessionTimings = await time(broker, () => session, Math.floor(n / 4), counter);

  // The naive handler: SDK client + jose, no cache, same zero-latency upstream.
  const naiveCounter = newCounter();
  // Imported here: the fixture reads the environment at module scope, as a Lambda handler does.
  const { createNaiveHandler } = await import('./fixtures/naive-handler.ts');
  const naive = createNaiveHandler({
    client: sdkClientAnsweredInProcess(naiveCounter),
    keys: createLocalJWKSet(input.jwks as Parameters<typeof createLocalJWKSet>[0]),
    issuer: input.issuer,
    audience: input.clientId,
    identityPoolId: input.identityPoolId,
  }) as unknown as Handler;
  await time(naive, () => bearer(input.hitToken), warmup, naiveCounter);
  const naiveTimings = await time(
    naive,
    (i) => bearer(missTokens[i % missTokens.length] as string),
    n,
    naiveCounter,
  );

  // Cognito calls per request for a known identity, step by step, on a clock this test moves.
  let clock = Date.now();
  const stepCounter = newCounter();
  const stepped = await brokerHandler(stepCounter, { now: () => clock });
  const calls = async (token: string) => {
    const before = stepCounter.GetId + stepCounter.GetCredentialsForIdentity;
    const result = await stepped(bearer(token), context);
    if (result.statusCode !== 200) throw new Error(`answered ${result.statusCode}`);
    return stepCounter.GetId + stepCounter.GetCredentialsForIdentity - before;
  };
  const [first, second] = input.missTokens as [string, string];
  const newIdentity = await calls(first);
  const knownFresh = await calls(first);
  clock += 56 * 60_000; // the cached credentials (1 hour) now have 4 minutes left
  const knownExpiring = await calls(first);
  const secondNew = await calls(second);
  return {
    hit,
    miss,
    session: sessionTimings,
    naive: naiveTimings,
    callsPerRequest: { newIdentity, knownFresh, knownExpiring, secondNew },
  };
}

async function memory() {
  const gc = (globalThis as { gc?: () => void }).gc;
  const counter = newCounter();
  const broker = await brokerHandler(counter);
  const tokens = input.missTokens;
  const run = async (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const result = await broker(bearer(tokens[i % tokens.length] as string), context);
      if (result.statusCode !== 200) throw new Error(`request ${i} answered ${result.statusCode}`);
    }
  };
  const reading = () => {
    gc?.();
    const usage = process.memoryUsage();
    return {
      rss: usage.rss,
      heapUsed: usage.heapUsed,
      heapTotal: usage.heapTotal,
      external: usage.external,
      maxRss: process.resourceUsage().maxRSS * 1024,
    };
  };
  const start = reading();
  const series: { requests: number; rss: number; heapTotal: number }[] = [];
  let at10k = start;
  for (let done = 0; done < 50_000; done += 5_000) {
    await run(done, done + 5_000);
    const r = reading();
    series.push({ requests: done + 5_000, rss: r.rss, heapTotal: r.heapTotal });
    if (done + 5_000 === 10_000) at10k = r;
  }
  const at50k = reading();
  return { start, at10k, at50k, series, cognitoCalls: counter.GetId + counter.GetCredentialsForIdentity };
}

const modes = { warm, memory } as const;
const run = modes[mode as keyof typeof modes];
if (run === undefined) throw new Error(`unknown mode ${mode}`);
writeFileSync(resultFile ?? '', JSON.stringify(await run()));
process.exit(0);
