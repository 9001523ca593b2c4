import { createIdentityClient, getIdentityId, loginsKeyFor } from '#broker';
import { type LocalConfig, localParameters, offlineFunctionValues } from '../../local/config.ts';
import type { StandIns } from '../../local/stack.ts';
import type { RawTemplate } from '../../local/template.ts';
import { checkBrokerConfig, checkProviderTable } from './config-checks.ts';
import type { Finding } from './findings.ts';
import { FindingList } from './findings.ts';
import { checkIdp, idpKindOf, userinfoAdvice } from './idp.ts';
import { describeFetchError, type Fetch } from './net.ts';
import { wiringFromTemplate } from './template-source.ts';
import { checkWiring } from './wiring.ts';

/** Where the offline stack's parts answer. */
export interface OfflineTargets {
  readonly config: LocalConfig;
  /** The broker's local API; undefined for the stand-ins alone. */
  readonly apiUrl: string | undefined;
  readonly userPoolUrl: string;
  readonly userPoolIssuer: string;
  readonly identityPoolUrl: string;
  readonly idmeIssuer: string;
  readonly iduraIssuer: string;
  /** What the functions are given (env.json for sam local). */
  readonly functionEnv: Readonly<Record<string, string>>;
}

/** A stack started in this process (`--start`, tests). */
export function targetsFromStack(stack: StandIns & { api?: { url: string } }): OfflineTargets {
  return {
    config: stack.config,
    apiUrl: stack.api?.url,
    userPoolUrl: stack.userPool.url,
    userPoolIssuer: stack.userPool.issuer,
    identityPoolUrl: stack.identityPool.url,
    idmeIssuer: stack.idme.issuer,
    iduraIssuer: stack.idura.issuer,
    functionEnv: stack.functionEnv,
  };
}

/**
 * A stack `npm start` runs with the same local.config.json. The function environment is rebuilt
 * the way local/stack.ts builds it (startStandIns), since a running stack cannot be asked for it.
 */
export function targetsFromConfig(config: LocalConfig): OfflineTargets {
  const at = (port: number, host = config.publicHost) => `http://${host}:${port}`;
  const cognitoHost = config.cognitoHost ?? config.publicHost;
  const userPoolUrl = at(config.ports.userPool, cognitoHost);
  const userPoolIssuer = `${userPoolUrl}/${config.userPoolId}`;
  const identityPoolUrl = at(config.ports.identityPool, cognitoHost);
  return {
    config,
    apiUrl: config.publicBaseUrl,
    userPoolUrl,
    userPoolIssuer,
    identityPoolUrl,
    idmeIssuer: `${at(config.ports.idme)}/oidc`,
    iduraIssuer: at(config.ports.idura),
    functionEnv: offlineFunctionValues(config, {
      userPoolUrl,
      userPoolIssuer,
      identityPoolUrl,
      identityProviders: [
        config.idmeEnvironment === 'sandbox' ? 'IDmeSandbox' : 'IDme',
        config.iduraEnvironment === 'test' ? 'IduraTest' : 'Idura',
      ],
    }),
  };
}

export interface OfflineOptions {
  readonly template: RawTemplate;
  readonly fetch: Fetch;
  readonly timeoutMs: number;
  /** Sign in through the user pool stand-in (default true). */
  readonly signIn?: boolean;
}

/** Every offline check against one stack. */
export async function checkOfflineStack(
  targets: OfflineTargets,
  options: OfflineOptions,
): Promise<Finding[]> {
  const { config } = targets;
  const template = wiringFromTemplate(options.template, {
    parameters: localParameters(config),
    region: config.region,
    ids: {
      userPool: config.userPoolId,
      client: config.appClient.clientId,
      identityPool: config.identityPoolId,
    },
  });
  const findings: Finding[] = [...template.findings];
  findings.push(...checkWiring(template.wiring, { publicBaseUrl: config.publicBaseUrl, offline: true }));
  const providerNames = template.wiring.providers.map((p) => p.name);
  if (template.triggerEnvironment !== undefined) {
    findings.push(...checkProviderTable(providerNames, template.triggerEnvironment, 'template.yaml'));
  }
  findings.push(
    ...checkBrokerConfig(targets.functionEnv, {
      offline: true,
      defaultRegion: config.region,
      wiring: template.wiring,
      compareIds: true,
    }).findings,
  );

  const reach = await checkReachable(targets, options);
  findings.push(...reach.findings);
  const issuerOf = (name: string): string | undefined => {
    const kind = idpKindOf(name);
    return kind === 'idme' ? targets.idmeIssuer : kind === 'idura' ? targets.iduraIssuer : undefined;
  };
  for (const name of providerNames) {
    const issuer = issuerOf(name);
    if (issuer === undefined || !reach.up.has(issuer)) continue;
    findings.push(
      ...(await checkIdp(
        { name, issuer },
        { fetch: options.fetch, timeoutMs: options.timeoutMs, offline: true },
      )),
    );
  }
  if (options.signIn === false || !reach.up.has(targets.userPoolUrl)) return findings;

  let code: string | undefined;
  const provenPlainJson = new Set<string>();
  for (const name of providerNames) {
    const issuer = issuerOf(name);
    if (issuer === undefined || !reach.up.has(issuer)) continue;
    const outcome = await probeSignIn(targets, name, options);
    findings.push(...signInFindings(name, outcome));
    if (outcome.kind === 'code') provenPlainJson.add(name);
    if (outcome.kind === 'code') code ??= outcome.code;
  }
  if (code !== undefined && reach.up.has(targets.identityPoolUrl)) {
    findings.push(...(await probeIdentityPool(targets, code, options)));
  }
  // A sign-in that got a code proves the user info Cognito read was plain JSON: the advertised
  // signing is not used for this client.
  return findings.map((f) =>
    f.id === 'idp.userinfo.signing' && f.severity === 'warning' && provenPlainJson.has(f.subject)
      ? {
          id: f.id,
          severity: 'ok' as const,
          group: f.group,
          subject: f.subject,
          message: 'discovery advertises signed user info, but this client got plain JSON during the sign-in',
        }
      : f,
  );
}

async function checkReachable(
  targets: OfflineTargets,
  options: OfflineOptions,
): Promise<{ findings: Finding[]; up: Set<string> }> {
  const parts: Array<[string, string, string]> = [
    [
      'Cognito user pool stand-in',
      targets.userPoolUrl,
      `${targets.userPoolIssuer}/.well-known/openid-configuration`,
    ],
    ['Cognito identity pool stand-in', targets.identityPoolUrl, targets.identityPoolUrl],
    ['ID.me stand-in', targets.idmeIssuer, `${targets.idmeIssuer}/.well-known/openid-configuration`],
    ['Idura stand-in', targets.iduraIssuer, `${targets.iduraIssuer}/.well-known/openid-configuration`],
  ];
  if (targets.apiUrl !== undefined)
    parts.unshift(['broker API', targets.apiUrl, `${targets.apiUrl}/auth/session`]);
  const up = new Set<string>();
  const findings: Finding[] = [];
  await Promise.all(
    parts.map(async ([label, key, url]) => {
      const list = new FindingList('offline', label);
      try {
        const response = await options.fetch(url, { signal: AbortSignal.timeout(options.timeoutMs) });
        await response.body?.cancel();
        up.add(key);
        list.ok('offline.reachable', `answers at ${key}`);
      } catch (error) {
        list.error(
          'offline.reachable',
          `nothing answers at ${key}: ${describeFetchError(error, options.timeoutMs)}`,
          'Start the offline stack (npm start) with the same local.config.json, or let the doctor start one: --offline --start.',
        );
      }
      findings.push(...list.findings);
    }),
  );
  const order = parts.map(([label]) => label);
  findings.sort((a, b) => order.indexOf(a.subject) - order.indexOf(b.subject));
  return { findings, up };
}

/**
 * Redeems a code from probeSignIn at the user pool stand-in's /oauth2/token as the broker's app
 * client: the ID token, or the status and OAuth error of the refusal.
 */
export async function redeemCode(
  targets: Pick<OfflineTargets, 'config' | 'userPoolUrl'>,
  code: string,
  options: { fetch: Fetch; timeoutMs: number },
): Promise<{ status: number; idToken: string | undefined; error: string | undefined }> {
  const { config } = targets;
  const response = await options.fetch(`${targets.userPoolUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: `${config.publicBaseUrl}/auth/callback`,
      client_id: config.appClient.clientId,
      client_secret: config.appClient.clientSecret,
    }),
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const body = (await response.json().catch(() => ({}))) as { id_token?: unknown; error?: unknown };
  return {
    status: response.status,
    idToken: typeof body.id_token === 'string' ? body.id_token : undefined,
    error: typeof body.error === 'string' ? body.error : undefined,
  };
}

type SignInOutcome =
  | { kind: 'code'; code: string }
  | { kind: 'error'; error: string; description: string }
  | { kind: 'broken'; reason: string };

/**
 * Signs a test identity in through the user pool stand-in's `/oauth2/authorize?identity_provider=…`:
 * the IdP's sign-in page (the given test identity, else the first), then redirects until the broker's
 * callback URL.
 */
export async function probeSignIn(
  targets: OfflineTargets,
  providerName: string,
  options: {
    fetch: Fetch;
    timeoutMs: number;
    /** The test identity to choose (default: the first the IdP's page offers). */
    identity?: string;
    /** Sent to /oauth2/authorize, which forwards it to the IdP (Idura reads `acr_values:<urn>` there). */
    loginHint?: string;
  },
): Promise<SignInOutcome> {
  const callback = `${targets.config.publicBaseUrl}/auth/callback`;
  const cookies = new Map<string, string>();
  const go = async (url: URL, form?: Record<string, string>): Promise<Response> => {
    const response = await options.fetch(url, {
      redirect: 'manual',
      method: form === undefined ? 'GET' : 'POST',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
      },
      ...(form === undefined ? {} : { body: new URLSearchParams(form) }),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      const at = pair.indexOf('=');
      if (at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return response;
  };
  let url = new URL(`${targets.userPoolUrl}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: targets.config.appClient.clientId,
    redirect_uri: callback,
    scope: 'openid email profile',
    identity_provider: providerName,
    state: 'doctor',
    ...(options.loginHint === undefined ? {} : { login_hint: options.loginHint }),
  }).toString();
  try {
    let response = await go(url);
    for (let hop = 0; hop < 20; hop += 1) {
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location !== null) {
        await response.body?.cancel();
        url = new URL(location, url);
        if (url.href.startsWith(callback)) {
          const code = url.searchParams.get('code');
          if (code !== null) return { kind: 'code', code };
          return {
            kind: 'error',
            error: url.searchParams.get('error') ?? 'unknown',
            description: url.searchParams.get('error_description') ?? '',
          };
        }
        response = await go(url);
        continue;
      }
      const html = await response.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');
      const identity = html.includes('name="identity"')
        ? (options.identity ?? /name="identity" value="([^"]+)"/.exec(html)?.[1])
        : undefined;
      if (action !== undefined && identity !== undefined) {
        url = new URL(action, url);
        response = await go(url, { identity });
        continue;
      }
      const alert = /role="alert"[^>]*>([^<]*)</.exec(html)?.[1];
      return {
        kind: 'broken',
        reason: `${url.origin}${url.pathname} answered ${response.status}${alert ? `: ${alert}` : ''}`,
      };
    }
    return { kind: 'broken', reason: 'too many redirects' };
  } catch (error) {
    return { kind: 'broken', reason: describeFetchError(error, options.timeoutMs) };
  }
}

function signInFindings(providerName: string, outcome: SignInOutcome): Finding[] {
  const kind = idpKindOf(providerName);
  const idp = new FindingList('idp', providerName);
  const offline = new FindingList('offline', providerName);
  if (outcome.kind === 'code') {
    offline.ok('offline.sign-in', 'a test identity signed in through the user pool stand-in (code issued)');
    idp.ok('idp.userinfo.plain-json', 'user info answered plain JSON during the sign-in');
  } else if (outcome.kind === 'error' && /token_type/.test(outcome.description)) {
    idp.error(
      'idp.userinfo.plain-json',
      `the sign-in failed with "${outcome.description}": user info is not plain JSON`,
      `${userinfoAdvice(kind)} Offline: stack.${kind === 'idme' ? 'idme' : 'idura'}.setUserinfoStrategy('plainJson'), or restart the stack.`,
    );
  } else {
    const what = outcome.kind === 'error' ? `${outcome.error}: ${outcome.description}` : outcome.reason;
    offline.error(
      'offline.sign-in',
      `the sign-in through the user pool stand-in failed (${what})`,
      /not available/i.test(what)
        ? 'Enable the provider on the app client (SupportedIdentityProviders) and check its name.'
        : /required/i.test(what)
          ? 'Remove the required attribute from the pool schema, or map a claim the IdP sends.'
          : 'Read the description above; the user pool stand-in uses the same wording as Cognito (docs/sign-in.md, "Callback errors").',
    );
  }
  return [...idp.findings, ...offline.findings];
}

/** Redeems the code at the user pool stand-in and trades the ID token at the identity pool stand-in (GetId). */
async function probeIdentityPool(
  targets: OfflineTargets,
  code: string,
  options: OfflineOptions,
): Promise<Finding[]> {
  const list = new FindingList('offline', 'identity pool');
  const { config } = targets;
  let idToken: string | undefined;
  try {
    const redeemed = await redeemCode(targets, code, options);
    idToken = redeemed.idToken;
    if (idToken === undefined) {
      list.error(
        'offline.identity-pool',
        `the user pool's token endpoint answered ${redeemed.status} ${redeemed.error ?? ''} to the code exchange`,
        'Check the app client id and secret in local.config.json (appClient) against the running stack.',
      );
      return list.findings;
    }
  } catch (error) {
    list.error(
      'offline.identity-pool',
      `the code exchange failed: ${describeFetchError(error, options.timeoutMs)}`,
      'Check that the user pool stand-in is running.',
    );
    return list.findings;
  }
  const payload = JSON.parse(Buffer.from(idToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    iss?: string;
  };
  const loginsKey = loginsKeyFor(String(payload.iss ?? ''));
  const expected = targets.functionEnv.USER_POOL_ISSUER;
  if (expected !== undefined && expected !== '' && payload.iss !== expected) {
    list.error(
      'offline.identity-pool',
      `the ID token's iss ${payload.iss} is not USER_POOL_ISSUER ${expected}`,
      'Make USER_POOL_ISSUER the user pool stand-in issuer (<pool URL>/<userPoolId>).',
    );
    return list.findings;
  }
  const client = createIdentityClient({
    region: config.region,
    endpoint: targets.identityPoolUrl,
    timeoutMs: options.timeoutMs,
  });
  try {
    const identityId = await getIdentityId(client, {
      identityPoolId: targets.functionEnv.IDENTITY_POOL_ID ?? config.identityPoolId,
      loginsKey,
      idToken,
    });
    list.ok(
      'offline.identity-pool',
      `GetId accepted the ID token under the logins key ${loginsKey} (${identityId})`,
    );
  } catch (error) {
    const e = error as { message?: string; hint?: string };
    list.error(
      'offline.identity-pool',
      `GetId refused the ID token under the logins key ${loginsKey}: ${e.message ?? String(error)}`,
      e.hint ??
        'The identity pool must list the user pool (its issuer without the scheme) and the app client.',
    );
  } finally {
    client.destroy();
  }
  return list.findings;
}
