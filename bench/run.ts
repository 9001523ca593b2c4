/**
 * `npm run bench`: builds the functions as template.yaml builds them, measures every figure of the
 * README's Performance section against a baseline measured in the same run, prints a table and writes bench/out/latest.json.
 *
 * Options: --runs <n> cold starts per case (default and minimum 15), --requests <n> warm requests per
 * scenario (default and minimum 10000), --out <file>, --quick (3 runs, 2000 requests: a smoke test whose
 * figures are not the README's). Takes a few minutes on a 2-core machine.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  cookieSpecs,
  type IdTokenClaims,
  parseSessionFunctionConfig,
  sealSession,
  sessionCookieBudget,
  startSession,
} from '#broker';
import { repoRoot } from '../local/api.ts';
import { realisticRefreshToken } from '../local/fixtures.ts';
import { readTemplate } from '../local/template.ts';
import type { InProcessInput, Timings } from './in-process-child.ts';
import { buildBaselines, buildTemplateFunctions, outRoot } from './lib/build.ts';
import { type ColdCase, measureColdStarts } from './lib/cold-start.ts';
import { firstRequests, keyring } from './lib/events.ts';
import { kib, mib, ms, ratio, round, table } from './lib/stats.ts';
import {
  benchClientId,
  benchCookieKeys,
  benchIdentityPoolId,
  createSigner,
  startUpstreams,
  userClaims,
} from './lib/upstreams.ts';

const usage = `npm run bench [-- options]

  --runs <n>       cold starts per case (default and minimum 15)
  --requests <n>   warm requests per scenario (default and minimum 10000)
  --out <file>     where the JSON goes (default bench/out/latest.json)
  --quick          3 runs and 2000 requests: a smoke test, not the README's figures
  --help           this text
`;
let args: { runs: string; requests: string; out: string; quick: boolean; help: boolean };
try {
  ({ values: args } = parseArgs({
    options: {
      runs: { type: 'string', default: '15' },
      requests: { type: 'string', default: '10000' },
      out: { type: 'string', default: join(outRoot, 'latest.json') },
      quick: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n\n${usage}`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(usage);
  process.exit(0);
}
for (const name of ['runs', 'requests'] as const) {
  if (!/^\d+$/.test(args[name])) {
    process.stderr.write(`--${name} must be a whole number, not "${args[name]}"\n\n${usage}`);
    process.exit(2);
  }
}
const runs = args.quick ? 3 : Math.max(15, Number(args.runs));
const requests = args.quick ? 2_000 : Math.max(10_000, Number(args.requests));

const log = (message: string) => process.stderr.write(`${message}\n`);
const section = (title: string, rows: string[][]) => console.log(`\n${title}\n${table(rows)}`);
mkdirSync(outRoot, { recursive: true });

// ---------------------------------------------------------------- builds and sizes
log('building the functions and the baselines…');
const functions = await buildTemplateFunctions();
const baselines = await buildBaselines();
const naiveBaseline = baselines.find((b) => b.name === 'naive');
const emptyBaseline = baselines.find((b) => b.name === 'empty');
if (!naiveBaseline || !emptyBaseline) throw new Error('baselines missing');
const builtOf = (functionId: string) => {
  const f = functions.find((x) => x.functionId === functionId);
  if (f === undefined) throw new Error(`${functionId} was not built`);
  return f;
};

// ---------------------------------------------------------------- cold starts
const upstreams = await startUpstreams();
const cases: ColdCase[] = [];
const requestsByLabel = await firstRequests(upstreams);
const bearerRequest = requestsByLabel.find((r) => r.label === 'CredentialsFunction (bearer)');
if (bearerRequest === undefined) throw new Error('no bearer request');
cases.push({
  key: 'empty',
  handlerFile: emptyBaseline.handlerFile,
  request: { ...bearerRequest, expect: { statusCode: 200 } },
  nodeOptions: '',
});
cases.push({
  key: 'naive',
  handlerFile: naiveBaseline.handlerFile,
  request: { ...bearerRequest, expect: { statusCode: 200, bodyIncludes: 'AccessKeyId' } },
  nodeOptions: '',
});
for (const request of requestsByLabel) {
  const built = builtOf(request.functionId);
  cases.push({ key: request.label, handlerFile: built.handlerFile, request, nodeOptions: built.nodeOptions });
}
log(`cold starts: ${cases.length} cases × ${runs} runs (+1 unmeasured round), round-robin…`);
let lastShown = 0;
const cold = await measureColdStarts(cases, runs, (done, total) => {
  const pct = Math.floor((done / total) * 10);
  if (pct > lastShown) {
    lastShown = pct;
    log(`  ${pct * 10}%`);
  }
});
const identityCalls = { ...upstreams.identityPool.calls };
await upstreams.close();

// ---------------------------------------------------------------- in-process benchmarks
log('signing tokens for the warm benchmarks…');
const issuer = 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_BenchPool1';
const signer = createSigner(issuer);
const refreshToken = await realisticRefreshToken();
const missCount = 12_000;
const hitToken = await signer.idToken(userClaims(0));
const missTokens = await Promise.all(
  Array.from({ length: missCount }, (_, i) => signer.idToken(userClaims(i + 1))),
);
const input: InProcessInput = {
  issuer,
  userPoolId: 'us-east-1_BenchPool1',
  clientId: benchClientId,
  identityPoolId: benchIdentityPoolId,
  jwks: signer.jwks,
  hitToken,
  missTokens,
  refreshToken,
  cookieKeys: benchCookieKeys,
  requests,
};
const inputFile = join(outRoot, 'in-process-input.json');
writeFileSync(inputFile, JSON.stringify(input));

async function inProcess<T>(mode: string, nodeArgs: string[] = []): Promise<T> {
  const resultFile = join(outRoot, `in-process-${mode}.json`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...nodeArgs, join(repoRoot, 'bench', 'in-process-child.ts'), mode, inputFile, resultFile],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: process.env.PATH ?? '', TZ: ':UTC' } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${mode} benchmark failed (${code}): ${stderr.slice(0, 3000)}`)),
    );
  });
  return JSON.parse(readFileSync(resultFile, 'utf8')) as T;
}

// V8's heap limits as Lambda's Node.js bootstrap sets them for the template's MemorySize:
// new space = memory/10, semi-space = half of it, old space = the rest.
const memorySize = Number(
  (readTemplate().Globals?.Function as { MemorySize?: unknown } | undefined)?.MemorySize ?? 128,
);
const lambdaHeapFlags = [
  `--max-semi-space-size=${Math.floor(memorySize / 10 / 2)}`,
  `--max-old-space-size=${memorySize - Math.floor(memorySize / 10)}`,
];

log(`warm /credentials: ${requests} requests per scenario…`);
const warm = await inProcess<{
  hit: Timings;
  miss: Timings;
  session: Timings;
  naive: Timings;
  callsPerRequest: { newIdentity: number; knownFresh: number; knownExpiring: number; secondNew: number };
}>('warm', lambdaHeapFlags);
log('memory: 50 000 requests, each a new identity…');
const memory = await inProcess<{
  start: { rss: number; heapUsed: number; maxRss: number };
  at10k: { rss: number; heapUsed: number; maxRss: number };
  at50k: { rss: number; heapUsed: number; maxRss: number };
  series: { requests: number; rss: number; heapTotal: number }[];
}>('memory', ['--expose-gc', ...lambdaHeapFlags]);

// ---------------------------------------------------------------- session cookie size
const deployedLike = parseSessionFunctionConfig({
  AWS_REGION: 'us-east-1',
  USER_POOL_ID: 'us-east-1_Bench',
  USER_POOL_CLIENT_ID: 'bench-client',
  COGNITO_DOMAIN_URL: 'https://bench.auth.us-east-1.amazoncognito.com',
  USER_POOL_CLIENT_SECRET: 'bench-secret',
  PUBLIC_BASE_URL: 'https://api.example.com',
  COOKIE_KEYS: JSON.stringify(benchCookieKeys),
  ALLOWED_ORIGINS: 'https://app.example.com',
});
const idClaims = JSON.parse(
  Buffer.from(hitToken.split('.')[1] ?? '', 'base64url').toString(),
) as IdTokenClaims;
const nowSeconds = Math.floor(Date.now() / 1000);
const sealed = await sealSession(
  startSession({
    claims: idClaims,
    refreshToken,
    provider: 'IDmeSandbox',
    identityId: 'us-east-1:0b3e5c1a-1111-4222-8333-444455556666',
    nowSeconds,
    maxAgeSeconds: 43_200, // the template's SESSION_MAX_AGE_SECONDS
  }),
  keyring,
  cookieSpecs(deployedLike).session,
  nowSeconds,
);

// ---------------------------------------------------------------- report
const coldOf = (key: string) => {
  const c = cold.get(key);
  if (c === undefined) throw new Error(`no cold start for ${key}`);
  return c;
};
const naiveCold = coldOf('naive');
const emptyCold = coldOf('empty');

section('Bundle size (handler.mjs, minified) and deployment package (bundle and source map)', [
  ['function', 'bundle', 'vs naive bundle', 'package', 'zipped'],
  ...functions.map((f) => [
    f.functionId,
    kib(f.bundle.bytes),
    ratio(f.bundle.bytes, naiveBaseline.bundle.bytes),
    kib(f.pkg.bytes),
    kib(f.pkg.zipped),
  ]),
  [
    'baseline: naive handler (SDK + jose, esbuild defaults)',
    kib(naiveBaseline.bundle.bytes),
    '1.00×',
    '',
    '',
  ],
]);

section(`Cold start: fresh process, import + first request (median of ${runs})`, [
  [
    'case',
    'import',
    'first request',
    'import+first',
    'CPU',
    'vs empty',
    'vs naive',
    'CPU vs naive',
    'process',
    'process vs empty',
  ],
  ...[...cold.values()].map((c) => [
    c.key,
    ms(c.importMs),
    ms(c.firstRequestMs),
    ms(c.coldStartMs),
    ms(c.coldStartCpuMs),
    ratio(c.coldStartMs, emptyCold.coldStartMs),
    ratio(c.coldStartMs, naiveCold.coldStartMs),
    ratio(c.coldStartCpuMs, naiveCold.coldStartCpuMs),
    ms(c.processMs),
    ratio(c.processMs, emptyCold.processMs),
  ]),
]);

const credentialsBuilt = builtOf('CredentialsFunction');
const credentialsCold = coldOf('CredentialsFunction (bearer)');
// A person's first sign-in when every function is cold: login, callback, session, then credentials
// with the session cookie (the upstreams answer on loopback, so their time is next to nothing).
const signInPath = ['LoginFunction', 'CallbackFunction', 'SessionFunction', 'CredentialsFunction (session)'];
const firstSignInMs = signInPath.reduce((sum, key) => sum + coldOf(key).coldStartMs, 0);
section('A first sign-in with every function cold (sum of the four cold starts)', [
  ['path', 'import+first', 'vs one naive cold start'],
  [signInPath.join(' → '), ms(firstSignInMs), ratio(firstSignInMs, naiveCold.coldStartMs)],
]);
section(
  `Warm /credentials in one process, upstreams answered in-process at zero latency (${requests} requests)`,
  [
    ['scenario', 'p50', 'p99', 'mean', 'Cognito calls/req', 'token calls/req', 'p99 vs naive'],
    ...(
      [
        ['cache hit (same user)', warm.hit],
        ['cache miss (new identity each request)', warm.miss],
        ['session cookie (refresh_token grant each call)', warm.session],
        ['baseline: naive handler (no cache)', warm.naive],
      ] as const
    ).map(([name, t]) => [
      name,
      ms(t.p50Ms),
      ms(t.p99Ms),
      ms(t.meanMs),
      String(round(t.cognitoCallsPerRequest, 3)),
      String(round(t.tokenCallsPerRequest, 3)),
      ratio(t.p99Ms, warm.naive.p99Ms),
    ]),
  ],
);

section('Cognito Identity calls per /credentials request (baseline: naive handler, 2 every time)', [
  ['request', 'calls', 'vs naive'],
  ['new identity', String(warm.callsPerRequest.newIdentity), ratio(warm.callsPerRequest.newIdentity, 2)],
  [
    'known identity, cached credentials > 5 min left',
    String(warm.callsPerRequest.knownFresh),
    ratio(warm.callsPerRequest.knownFresh, 2),
  ],
  [
    'known identity, cached credentials ≤ 5 min left',
    String(warm.callsPerRequest.knownExpiring),
    ratio(warm.callsPerRequest.knownExpiring, 2),
  ],
  [
    'all cold-start runs (identity pool stand-in totals)',
    Object.entries(identityCalls)
      .map(([op, n]) => `${op} ${n}`)
      .join(', '),
    '',
  ],
]);

section('Session cookie with realistic Cognito tokens (ID.me veteran claims, ~1.8 KB refresh token)', [
  ['figure', 'bytes', 'vs 4096-byte browser limit'],
  ['ID token', String(hitToken.length), ratio(hitToken.length, 4096)],
  ['refresh token', String(refreshToken.length), ratio(refreshToken.length, 4096)],
  [
    `Set-Cookie line${sealed.session.claimsTrimmed ? ' (claims trimmed)' : ''}`,
    String(sealed.bytes),
    ratio(sealed.bytes, 4096),
  ],
  ['budget (sessionCookieBudget)', String(sessionCookieBudget), ratio(sessionCookieBudget, 4096)],
]);

const growth = (memory.at50k.rss - memory.at10k.rss) / memory.at10k.rss;
section(
  `Memory (each request a new identity; V8 limits as Lambda sets them for ${memorySize} MB: ${lambdaHeapFlags.join(' ')}; RSS after a full GC every 5 000 requests)`,
  [
    ['point', 'RSS', 'heap used', 'peak RSS', 'vs 10 000'],
    [
      'start (module loaded)',
      mib(memory.start.rss),
      mib(memory.start.heapUsed),
      mib(memory.start.maxRss),
      '',
    ],
    [
      'after 10 000 requests',
      mib(memory.at10k.rss),
      mib(memory.at10k.heapUsed),
      mib(memory.at10k.maxRss),
      '1.00×',
    ],
    [
      'after 50 000 requests',
      mib(memory.at50k.rss),
      mib(memory.at50k.heapUsed),
      mib(memory.at50k.maxRss),
      ratio(memory.at50k.rss, memory.at10k.rss),
    ],
    [
      'RSS every 5 000 requests (MiB)',
      memory.series.map((x) => (x.rss / 1024 / 1024).toFixed(0)).join(' '),
      '',
      '',
      '',
    ],
  ],
);

// Lambda's arm64 prices in us-east-1 (first 6 billion GB-s a month); duration is billed per 1 ms,
// rounded up, and the init phase of a cold start is billed like the invocation.
const pricing = { perGbSecond: 0.0000133334, perMillionRequests: 0.2 };
const costPerMillion = (billedMs: number) =>
  pricing.perMillionRequests + 1e6 * (memorySize / 1024) * (billedMs / 1000) * pricing.perGbSecond;
const costRows = [
  ['cache hit (in-process p50)', warm.hit.p50Ms],
  ['cache miss (in-process p50, Cognito latency not included)', warm.miss.p50Ms],
  ['session cookie (in-process p50, token endpoint and Cognito latency not included)', warm.session.p50Ms],
  ['cold start: import + first request, bearer', credentialsCold.coldStartMs],
  ['baseline: naive handler cold start', naiveCold.coldStartMs],
] as const;
section(
  `Lambda cost per million /credentials requests at these durations (${memorySize} MB arm64, $${pricing.perGbSecond}/GB-s, $${pricing.perMillionRequests}/M requests)`,
  [
    ['request', 'duration', 'billed', '$ per million'],
    ...costRows.map(([name, duration]) => [
      name,
      ms(duration),
      `${Math.ceil(duration)} ms`,
      costPerMillion(Math.ceil(duration)).toFixed(3),
    ]),
  ],
);

const targets = [
  {
    target: '/credentials (bearer) cold start ≤ 0.35× naive (aim 0.3×)',
    measured: credentialsCold.coldStartMs / naiveCold.coldStartMs,
    shown: ratio(credentialsCold.coldStartMs, naiveCold.coldStartMs),
    met: credentialsCold.coldStartMs / naiveCold.coldStartMs <= 0.35,
  },
  ...[
    'LoginFunction',
    'CallbackFunction',
    'SessionFunction',
    'LogoutFunction',
    'CredentialsFunction (session)',
  ].map((key) => ({
    target: `${key} cold start ≤ 0.5× naive`,
    measured: coldOf(key).coldStartMs / naiveCold.coldStartMs,
    shown: ratio(coldOf(key).coldStartMs, naiveCold.coldStartMs),
    met: coldOf(key).coldStartMs / naiveCold.coldStartMs <= 0.5,
  })),
  {
    target: 'first sign-in, every function cold ≤ 1.5× one naive cold start',
    measured: firstSignInMs / naiveCold.coldStartMs,
    shown: ratio(firstSignInMs, naiveCold.coldStartMs),
    met: firstSignInMs / naiveCold.coldStartMs <= 1.5,
  },
  {
    target: 'pre-token-generation trigger cold start < 50 ms',
    measured: coldOf('PreTokenGenerationFunction').coldStartMs,
    shown: ms(coldOf('PreTokenGenerationFunction').coldStartMs),
    met: coldOf('PreTokenGenerationFunction').coldStartMs < 50,
  },
  {
    target: '/credentials bundle ≤ 250 KB',
    measured: credentialsBuilt.bundle.bytes,
    shown: `${(credentialsBuilt.bundle.bytes / 1000).toFixed(1)} KB`,
    met: credentialsBuilt.bundle.bytes <= 250_000,
  },
  {
    target: 'warm p99 ≤ 1 ms (cache hit)',
    measured: warm.hit.p99Ms,
    shown: ms(warm.hit.p99Ms),
    met: warm.hit.p99Ms <= 1,
  },
  {
    target: 'warm p99 ≤ 2 ms (cache miss)',
    measured: warm.miss.p99Ms,
    shown: ms(warm.miss.p99Ms),
    met: warm.miss.p99Ms <= 2,
  },
  {
    target: '≤ 1 Cognito call per warm request, known identity',
    measured: warm.callsPerRequest.knownExpiring,
    shown: String(warm.callsPerRequest.knownExpiring),
    met: warm.callsPerRequest.knownExpiring <= 1,
  },
  {
    target: '0 Cognito calls while cached credentials have > 5 min',
    measured: warm.hit.cognitoCallsPerRequest,
    shown: String(warm.hit.cognitoCallsPerRequest),
    met: warm.hit.cognitoCallsPerRequest === 0 && warm.callsPerRequest.knownFresh === 0,
  },
  {
    target: 'RSS growth 10k → 50k < 10 %',
    measured: growth,
    shown: `${(growth * 100).toFixed(1)} %`,
    met: growth < 0.1,
  },
];
section('Targets', [
  ['target', 'measured', 'met'],
  ...targets.map((t) => [t.target, t.shown, t.met ? 'yes' : 'NO']),
]);

const gitCommit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot }).toString().trim();
  } catch {
    return 'unknown';
  }
})();
const result = {
  date: new Date().toISOString(),
  commit: gitCommit,
  machine: {
    node: process.version,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
  },
  settings: { coldStartRuns: runs, warmRequests: requests, quick: args.quick, lambdaHeapFlags },
  baselines: Object.fromEntries(baselines.map((b) => [b.name, { bundle: b.bundle }])),
  functions: Object.fromEntries(functions.map((f) => [f.functionId, { bundle: f.bundle, package: f.pkg }])),
  coldStart: Object.fromEntries([...cold.values()].map((c) => [c.key, c])),
  firstSignIn: { path: signInPath, coldStartMs: firstSignInMs },
  warm,
  sessionCookie: {
    idTokenBytes: hitToken.length,
    refreshTokenBytes: refreshToken.length,
    setCookieBytes: sealed.bytes,
    claimsTrimmed: sealed.session.claimsTrimmed,
    budget: sessionCookieBudget,
  },
  memory: { ...memory, growth10kTo50k: growth },
  lambdaCost: {
    memorySize,
    pricing,
    perMillion: Object.fromEntries(
      costRows.map(([name, d]) => [name, { durationMs: d, dollars: costPerMillion(Math.ceil(d)) }]),
    ),
  },
  targets,
};
mkdirSync(join(args.out, '..'), { recursive: true });
writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
log(`\nwritten ${args.out}`);
