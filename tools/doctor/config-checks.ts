/**
 * The broker's own configuration: the same parse functions the functions run at container start
 * (each function's config.ts, and parseProviderTable), plus what they cannot know alone:
 * USER_POOL_ISSUER against USER_POOL_ID and AWS_REGION, and the ids and IdP names against the pools.
 */

import {
  ConfigError,
  type Env,
  isLoopback,
  loginsKeyFor,
  parseCallbackConfig,
  parseCredentialsConfig,
  parseLoginConfig,
  parseProviderTable,
} from '#broker';
import type { Finding } from './findings.ts';
import { FindingList } from './findings.ts';
import { checkSameSite } from './same-site.ts';
import type { WiringModel } from './wiring.ts';

/**
 * An env file: a flat JSON object of strings, or SAM's env.json (`{"Parameters": {…}, "<Function>": {…}}`,
 * whose sections are merged, Parameters first).
 *
 * @throws TypeError when the JSON is not an object.
 */
export function readEnvFile(text: string): Record<string, string> {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError('the env file must hold a JSON object of variables (or SAM env.json sections)');
  }
  const out: Record<string, string> = {};
  const entries = Object.entries(raw as Record<string, unknown>);
  const sections = entries.filter(([, v]) => typeof v === 'object' && v !== null && !Array.isArray(v));
  const ordered = [
    ...sections.filter(([k]) => k === 'Parameters'),
    ...sections.filter(([k]) => k !== 'Parameters'),
  ];
  for (const [, section] of ordered) {
    for (const [k, v] of Object.entries(section as Record<string, unknown>)) {
      if (v !== null && typeof v !== 'object') out[k] = String(v);
    }
  }
  for (const [k, v] of entries) if (v !== null && typeof v !== 'object') out[k] = String(v);
  return out;
}

export interface ConfigCheckContext {
  readonly offline: boolean;
  /** AWS_REGION when the env lacks it (Lambda sets it; env files usually do not have it). */
  readonly defaultRegion?: string | undefined;
  /** The wiring to compare ids and provider names with; ids are compared only when they are real. */
  readonly wiring?: WiringModel | undefined;
  readonly compareIds?: boolean;
}

export interface ConfigCheckResult {
  readonly findings: Finding[];
  /** The logins key the broker derives from its issuer, when the configuration says. */
  readonly loginsKey: string | undefined;
  readonly trustedClientIds: readonly string[];
  readonly publicBaseUrl: string | undefined;
}

const authVariables = ['COGNITO_DOMAIN_URL', 'PUBLIC_BASE_URL', 'COOKIE_KEYS', 'COOKIE_KEYS_SECRET_ID'];

function subjectOf(problem: string): string {
  return /^[A-Z][A-Z0-9_]*(\[\d+\])?/.exec(problem)?.[0] ?? 'environment';
}

function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
}

const value = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/** Every configuration check on one environment. */
export function checkBrokerConfig(rawEnv: Env, context: ConfigCheckContext): ConfigCheckResult {
  const findings: Finding[] = [];
  const env: Env = {
    ...rawEnv,
    ...(value(rawEnv, 'AWS_REGION') === undefined && context.defaultRegion !== undefined
      ? { AWS_REGION: context.defaultRegion }
      : {}),
    // Offline the functions run as sam local runs them, which sets AWS_SAM_LOCAL (the parsers then
    // accept plain http to the stand-ins' *.localhost names, as in `npm run start:stand-ins`).
    ...(context.offline ? { AWS_SAM_LOCAL: 'true' } : {}),
  };
  const seen = new Set<string>();
  const report = (id: string, problems: string[], what: string): void => {
    const fresh = problems.filter((p) => !seen.has(p) && !p.startsWith('ALLOWED_ORIGINS entry'));
    for (const p of fresh) seen.add(p);
    for (const problem of fresh) {
      const list = new FindingList('config', subjectOf(problem));
      list.error(
        id,
        problem,
        `Fix the variable in the function's Environment (template.yaml, or env.json for sam local): ${what} refuses to start with a ConfigError until then.`,
      );
      findings.push(...list.findings);
    }
    if (problems.length === 0) {
      const list = new FindingList('config', 'environment');
      list.ok(id, `${what} accepts the configuration`);
      findings.push(...list.findings);
    }
  };
  report(
    'config.credentials',
    problemsOf(() => parseCredentialsConfig(env)),
    'parseCredentialsConfig',
  );
  if (authVariables.some((name) => value(env, name) !== undefined)) {
    // The callback's parser reads every sign-in setting but the login's two; problems are reported once.
    const problems = problemsOf(() => parseCallbackConfig(env));
    if (value(env, 'IDENTITY_PROVIDERS') !== undefined)
      problems.push(...problemsOf(() => parseLoginConfig(env)));
    report('config.auth', [...new Set(problems)], 'parseCallbackConfig');
  }
  if (value(env, 'PROVIDER_TABLE') !== undefined) {
    const { problems } = parseProviderTable(env);
    const list = new FindingList('config', 'PROVIDER_TABLE');
    if (problems.length > 0) {
      list.warning(
        'config.provider-table',
        `PROVIDER_TABLE is ignored and the default table applies: ${problems.join('; ')}`,
        'Fix PROVIDER_TABLE (a JSON object {"<Cognito provider name>": {"idp": "idme"|"idura", "env": "<env>"}}) or remove it.',
      );
    }
    findings.push(...list.findings);
  }

  const region = value(env, 'AWS_REGION');
  const poolId = value(env, 'USER_POOL_ID');
  const identityPoolId = value(env, 'IDENTITY_POOL_ID');
  findings.push(...checkRegions(region, poolId, identityPoolId));
  const issuerResult = checkIssuer(env, region, poolId, context.offline);
  findings.push(...issuerResult.findings);
  findings.push(...checkOrigins(env));
  findings.push(...checkSameSite(env));
  if (context.wiring !== undefined)
    findings.push(...checkAgainstWiring(env, context.wiring, context.compareIds ?? false));

  return {
    findings,
    loginsKey: issuerResult.loginsKey,
    trustedClientIds: (value(env, 'TRUSTED_CLIENT_IDS') ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    publicBaseUrl: value(env, 'PUBLIC_BASE_URL'),
  };
}

function checkRegions(
  region: string | undefined,
  poolId: string | undefined,
  identityPoolId: string | undefined,
): Finding[] {
  const list = new FindingList('config', 'AWS_REGION');
  if (region === undefined) return [];
  const wrong: string[] = [];
  const poolRegion = poolId?.split('_')[0];
  if (poolId?.includes('_') && poolRegion !== region) {
    wrong.push(`USER_POOL_ID ${poolId} is in ${poolRegion}`);
  }
  const identityRegion = identityPoolId?.split(':')[0];
  if (identityPoolId?.includes(':') && identityRegion !== region) {
    wrong.push(`IDENTITY_POOL_ID ${identityPoolId} is in ${identityRegion}`);
  }
  if (wrong.length > 0) {
    list.error(
      'config.region',
      `${region}, but ${wrong.join(' and ')}`,
      "Deploy the broker in the pools' region (the user pool id and identity pool id start with it), or fix the ids: Cognito answers ResourceNotFoundException from another region.",
    );
  } else if (poolId !== undefined || identityPoolId !== undefined) {
    list.ok('config.region', `the pools are in ${region}`);
  }
  return list.findings;
}

function checkIssuer(
  env: Env,
  region: string | undefined,
  poolId: string | undefined,
  offline: boolean,
): { findings: Finding[]; loginsKey: string | undefined } {
  const list = new FindingList('config', 'USER_POOL_ISSUER');
  const issuer = value(env, 'USER_POOL_ISSUER');
  const standard = region && poolId ? `https://cognito-idp.${region}.amazonaws.com/${poolId}` : undefined;
  if (issuer === undefined) {
    if (standard !== undefined) list.ok('config.issuer', `the broker expects tokens from ${standard}`);
    return {
      findings: list.findings,
      loginsKey: standard === undefined ? undefined : loginsKeyFor(standard),
    };
  }
  const loginsKey = loginsKeyFor(issuer.replace(/\/+$/, ''));
  let host = '';
  try {
    host = new URL(issuer).hostname;
  } catch {
    // parseCredentialsConfig reports it
    return { findings: [], loginsKey: undefined };
  }
  if (isLoopback(host)) {
    if (!offline) {
      list.error(
        'config.issuer',
        `${issuer} is a loopback URL (the offline stack's user pool)`,
        'Leave USER_POOL_ISSUER empty in AWS: the broker derives https://cognito-idp.<region>.amazonaws.com/<USER_POOL_ID>.',
      );
    } else if (poolId !== undefined && !issuer.replace(/\/+$/, '').endsWith(`/${poolId}`)) {
      list.error(
        'config.issuer',
        `${issuer} does not end with /${poolId} (USER_POOL_ID)`,
        'The user pool issuer is <pool URL>/<USER_POOL_ID>: make USER_POOL_ID and the issuer name the same pool.',
      );
    } else {
      list.ok('config.issuer', `offline user pool issuer ${issuer}`, { offlineOnly: true });
    }
    return { findings: list.findings, loginsKey };
  }
  if (standard !== undefined && issuer === standard) {
    list.ok('config.issuer', `${issuer} is the pool's issuer`);
  } else if (
    standard !== undefined &&
    issuer === standard.replace('//cognito-idp.', '//issuer-cognito-idp.')
  ) {
    list.warning(
      'config.issuer',
      `${issuer} is the pool's "updated issuer"`,
      'Which logins key an identity pool expects for the updated issuer is unconfirmed: keep the default issuer (leave USER_POOL_ISSUER empty) until it is tested.',
    );
  } else {
    list.error(
      'config.issuer',
      `${issuer} is not the issuer of USER_POOL_ID ${poolId ?? '(unset)'} in ${region ?? '(no region)'}${standard ? ` (${standard})` : ''}`,
      'Leave USER_POOL_ISSUER empty in AWS (the broker derives the issuer from AWS_REGION and USER_POOL_ID), or set it to exactly that issuer: every token is otherwise rejected as untrusted_issuer, and the logins key will not match the identity pool.',
    );
  }
  return { findings: list.findings, loginsKey };
}

function checkOrigins(env: Env): Finding[] {
  const findings: Finding[] = [];
  const entries = (value(env, 'ALLOWED_ORIGINS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const list = new FindingList('config', 'ALLOWED_ORIGINS');
    let url: URL | undefined;
    try {
      url = new URL(entry);
    } catch {
      url = undefined;
    }
    if (url === undefined || url.origin === 'null' || url.origin !== entry.replace(/\/$/, '')) {
      list.error(
        'config.allowed-origins',
        `"${entry}" is not an origin`,
        'List origins only: scheme://host[:port], no path, query or wildcard (e.g. https://app.example.com).',
      );
    } else if (url.protocol !== 'https:' && !isLoopback(url.hostname)) {
      list.error(
        'config.allowed-origins',
        `"${entry}" is not https`,
        'Frontends must be served over https (plain http only on localhost).',
      );
    } else if (entry.endsWith('/')) {
      list.warning(
        'config.allowed-origins',
        `"${entry}" ends with "/"`,
        `Write the origin without the slash (${url.origin}): browsers send Origin without it, and CORS (FrontendOrigins) compares exactly.`,
      );
    } else {
      list.ok('config.allowed-origins', `${entry} is an origin`);
    }
    findings.push(...list.findings);
  }
  return findings;
}

function checkAgainstWiring(env: Env, wiring: WiringModel, compareIds: boolean): Finding[] {
  const findings: Finding[] = [];
  if (compareIds) {
    const list = new FindingList('config', 'ids');
    const pairs: Array<[string, string | undefined, string | undefined]> = [
      ['USER_POOL_ID', value(env, 'USER_POOL_ID'), wiring.userPool.id],
      ['USER_POOL_CLIENT_ID', value(env, 'USER_POOL_CLIENT_ID'), wiring.client?.clientId],
      ['IDENTITY_POOL_ID', value(env, 'IDENTITY_POOL_ID'), wiring.identityPool?.id],
    ];
    const wrong = pairs.filter(([, have, want]) => have !== undefined && want !== undefined && have !== want);
    if (wrong.length > 0) {
      list.error(
        'config.ids',
        wrong.map(([name, have, want]) => `${name} is ${have}, the stack's is ${want}`).join('; '),
        'Set the variables to the stack outputs (UserPoolId, UserPoolClientId, IdentityPoolId); in template.yaml they are !Ref of the resources.',
      );
    } else {
      list.ok('config.ids', 'USER_POOL_ID, USER_POOL_CLIENT_ID and IDENTITY_POOL_ID name the checked pools');
    }
    findings.push(...list.findings);
  }
  const names = (value(env, 'IDENTITY_PROVIDERS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length > 0 && wiring.client !== undefined) {
    const list = new FindingList('config', 'IDENTITY_PROVIDERS');
    const enabled = new Set(wiring.client.supportedProviders);
    const defined = new Set(wiring.providers.map((p) => p.name));
    const bad = names.filter((n) => !enabled.has(n) || !defined.has(n));
    if (bad.length > 0) {
      list.error(
        'config.identity-providers',
        `${bad.join(', ')} is not a provider enabled on the app client (enabled: ${[...enabled].join(', ') || 'none'})`,
        'IDENTITY_PROVIDERS must name the Cognito provider names exactly (case-sensitive), e.g. !Join [",", [!Ref IdmeProvider, !Ref IduraProvider]]; Cognito answers "Login option is not available" otherwise.',
      );
    } else {
      list.ok('config.identity-providers', `${names.join(', ')} are enabled on the app client`);
    }
    findings.push(...list.findings);
  }
  return findings;
}

/**
 * Every provider a user can come from must be in the pre-token-generation trigger's provider
 * table, or the trigger cannot tell which IdP it was (no canonical claims).
 */
export function checkProviderTable(
  providerNames: readonly string[],
  triggerEnv: Env,
  source: string,
): Finding[] {
  const list = new FindingList('config', 'PROVIDER_TABLE');
  const { table } = parseProviderTable(triggerEnv);
  const unknown = providerNames.filter((n) => !Object.hasOwn(table, n));
  if (unknown.length > 0) {
    list.error(
      'config.provider-table',
      `the trigger's provider table (${source}) does not know ${unknown.join(', ')}`,
      `Add them to PROVIDER_TABLE of PreTokenGenerationFunction, e.g. {"${unknown[0]}":{"idp":"idme","env":"production"}}: their users get no canonical claims (idp, assurance, principal tags).`,
    );
  } else if (providerNames.length > 0) {
    list.ok(
      'config.provider-table',
      `the trigger's provider table (${source}) knows ${providerNames.join(', ')}`,
    );
  }
  return list.findings;
}
