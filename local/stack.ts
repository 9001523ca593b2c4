/**
 * The whole federation on one machine: ID.me and Idura stand-ins, the Cognito user pool and
 * identity pool stand-ins, and the local API serving template.yaml's functions. Everything is
 * derived from template.yaml plus `LocalConfig`; the broker's functions only see configuration.
 * Used by `npm start` and by the integration and browser tests (with ephemeral ports).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type LocalApi, startLocalApi } from './api.ts';
import {
  type IdentityPoolStandIn,
  readIdentityPoolTemplate,
  startIdentityPoolStandIn,
} from './cognito/identity-pool.ts';
import { startUserPoolStandIn, type UserPoolStandIn } from './cognito/user-pool.ts';
import { ephemeralConfig, type LocalConfig, localParameters, offlineFunctionValues } from './config.ts';
import { demoPages } from './demo/serve.ts';
import { MetricsCollector } from './emf.ts';
import { sampleSession } from './fixtures.ts';
import { type IdmeStandIn, startIdmeStandIn } from './idps/idme.ts';
import { type IduraStandIn, startIduraStandIn } from './idps/idura.ts';
import { onFreePort } from './net.ts';
import { type RawTemplate, readTemplate, TemplateResolver } from './template.ts';

export interface StandIns {
  config: LocalConfig;
  template: TemplateResolver;
  userPool: UserPoolStandIn;
  identityPool: IdentityPoolStandIn;
  idme: IdmeStandIn;
  idura: IduraStandIn;
  /** The environment given to the functions (what env.json holds for `sam local`). */
  functionEnv: Record<string, string>;
  /** The functions' EMF metrics, as CloudWatch would extract them from their logs (local/emf.ts). */
  metrics: MetricsCollector;
  close(): Promise<void>;
}

export interface OfflineStack extends StandIns {
  api: LocalApi;
  /**
   * Moves the whole stack's clock (stand-ins and every function runtime's Date) `ms` ahead of the real
   * time: token expiry without waiting. Timers are not affected.
   */
  setClockOffset(ms: number): void;
}

export interface StackOptions {
  /** Overrides of environment variables for the functions (e.g. a shorter clock skew in a test). */
  functionEnv?: Record<string, string>;
  /** Hostname → address entries for the function runtimes, like `sam local --add-host`. */
  functionHosts?: Record<string, string>;
  /** Clock of the stand-ins (epoch ms); the stack's own clock (real time + its offset) by default. */
  now?: () => number;
  quiet?: boolean;
  /** The SAM template (the doctor's `--template`); template.yaml by default. */
  template?: RawTemplate;
}

/** Everything but the broker's API: what `sam local start-api` needs beside it. */
export async function startStandIns(config: LocalConfig, options: StackOptions = {}): Promise<StandIns> {
  const started: Array<{ close(): Promise<void> }> = [];
  const quiet = options.quiet ?? true;
  const now = options.now;
  const metrics = new MetricsCollector();
  try {
    const template = new TemplateResolver(options.template ?? readTemplate(), {
      region: config.region,
      parameters: localParameters(config),
    });
    const redirect = (base: string) => [`${base}/oauth2/idpresponse`];
    // The user pool stand-in must exist before the IdPs know its redirect URI; its port is fixed
    // (or chosen) first and the upstreams are attached once the IdPs are listening.
    const cognitoHost = config.cognitoHost ?? config.publicHost;
    const userPool = await startUserPoolStandIn({
      port: config.ports.userPool,
      host: config.host,
      publicHost: cognitoHost,
      region: config.region,
      userPoolId: config.userPoolId,
      template,
      clients: [
        {
          clientId: config.appClient.clientId,
          clientSecret: config.appClient.clientSecret,
          callbackUrls: [`${config.publicBaseUrl}/auth/callback`],
          logoutUrls: config.frontendOrigins,
        },
      ],
      ...(config.tokenLifetimes ? { tokenLifetimes: config.tokenLifetimes } : {}),
      ...(now ? { now } : {}),
      quiet,
      // The trigger's stdout lines, printed or not: its EMF lines.
      triggerOutput: metrics.writer(),
      // events/session/signed-in.json's user (an IDmeSandbox one), so `sam local invoke` of that
      // sample finds its session.
      knownSessions:
        config.idmeEnvironment !== 'sandbox'
          ? []
          : [
              {
                provider: sampleSession.provider,
                claims: sampleSession.idpClaims,
                sub: sampleSession.sub,
                clientId: config.appClient.clientId,
                refreshToken: sampleSession.refreshToken,
                expiresAt: sampleSession.expiresAt,
              },
            ],
    });
    started.push(userPool);
    const idpClient = (clientSecret: string) => ({
      clientId: 'cognito-offline',
      clientSecret,
      redirectUris: redirect(userPool.url),
    });
    const idme = await startIdmeStandIn({
      port: config.ports.idme,
      host: config.host,
      publicHost: config.publicHost,
      clients: [idpClient(config.upstreamSecret)],
      ...(now ? { now } : {}),
      quiet,
    });
    started.push(idme);
    const idura = await startIduraStandIn({
      port: config.ports.idura,
      host: config.host,
      publicHost: config.publicHost,
      clients: [idpClient(config.upstreamSecret)],
      ...(now ? { now } : {}),
      quiet,
    });
    started.push(idura);
    const [idmeName, iduraName] = providerNames(userPool);
    userPool.setUpstream(idmeName, {
      issuer: idme.issuer,
      clientId: 'cognito-offline',
      clientSecret: config.upstreamSecret,
    });
    userPool.setUpstream(iduraName, {
      issuer: idura.issuer,
      clientId: 'cognito-offline',
      clientSecret: config.upstreamSecret,
    });

    const poolSettings = readIdentityPoolTemplate(template);
    const identityPool = await startIdentityPoolStandIn({
      port: config.ports.identityPool,
      host: config.host,
      publicHost: cognitoHost,
      region: config.region,
      identityPoolId: config.identityPoolId,
      providers: [
        {
          providerName: userPool.loginsKey,
          issuer: userPool.issuer,
          clientIds: [config.appClient.clientId],
          // Fetched from this process: the pool's own address, whatever name the URLs carry.
          jwksUri: localUrl(userPool.jwksUri, config.host),
          serverSideTokenCheck: poolSettings.serverSideTokenCheck,
        },
      ],
      serverSideTokenCheck: (claims) => userPool.isTokenActive(claims),
      principalTags: poolSettings.principalTags,
      ...(now ? { now } : {}),
      quiet,
    });
    started.push(identityPool);

    const functionEnv = offlineFunctionValues(config, {
      userPoolUrl: userPool.url,
      userPoolIssuer: userPool.issuer,
      identityPoolUrl: identityPool.url,
      identityProviders: [idmeName, iduraName],
      ...(options.functionEnv ? { overrides: options.functionEnv } : {}),
    });
    return {
      config,
      template,
      userPool,
      identityPool,
      idme,
      idura,
      functionEnv,
      metrics,
      close: () => closeAll(started),
    };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

/** The stand-ins plus the local API serving template.yaml's functions (`npm start`). */
export async function startOfflineStack(
  config: LocalConfig,
  options: StackOptions = {},
): Promise<OfflineStack> {
  const clock = { offset: 0 };
  const standIns = await startStandIns(config, { now: () => Date.now() + clock.offset, ...options });
  try {
    const api = await startLocalApi({
      resolver: standIns.template,
      port: config.ports.api,
      host: config.host,
      region: config.region,
      envVars: { Parameters: standIns.functionEnv },
      fallback: (() => {
        const demo = demoPages(standIns.identityPool);
        return (req: IncomingMessage, res: ServerResponse) =>
          metricsPage(standIns.metrics, req, res) || demo(req, res);
      })(),
      ...(options.functionHosts ? { hosts: options.functionHosts } : {}),
      // The functions' stdout lines (printed as sam local prints them): their EMF lines, this stack's own.
      output: (line) => standIns.metrics.ingestWrite(line),
      quiet: options.quiet ?? true,
    });
    return {
      ...standIns,
      api,
      setClockOffset: (ms: number) => {
        clock.offset = ms;
        for (const runtime of api.functions.values()) runtime.setClockOffset(ms);
        standIns.userPool.setTriggerClockOffset(ms);
      },
      close: async () => {
        await api.close();
        await standIns.close();
      },
    };
  } catch (error) {
    await standIns.close();
    throw error;
  }
}

/** The whole offline stack on free loopback ports (tests, and the doctor's `--offline --start`). */
export async function startEphemeralStack(
  overrides: Partial<LocalConfig> = {},
  options: StackOptions = {},
): Promise<OfflineStack> {
  return onFreePort((port) =>
    startOfflineStack(ephemeralConfig(port, overrides), { quiet: true, ...options }),
  );
}

function providerNames(userPool: UserPoolStandIn): [string, string] {
  const idme = userPool.providerNames.find((n) => n.startsWith('IDme'));
  const idura = userPool.providerNames.find((n) => n.startsWith('Idura'));
  if (!idme || !idura)
    throw new Error(
      `template.yaml must declare an ID.me and an Idura provider (found ${userPool.providerNames})`,
    );
  return [idme, idura];
}

async function closeAll(started: Array<{ close(): Promise<void> }>): Promise<void> {
  await Promise.allSettled(started.reverse().map((s) => s.close()));
}

/** GET /_metrics (local only): the session's metrics as totals by metric and dimensions, as JSON. */
function metricsPage(metrics: MetricsCollector, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://localhost').pathname !== '/_metrics')
    return false;
  const body = JSON.stringify(
    { summary: metrics.summary(), totals: metrics.totals({ omit: ['service'] }), invalid: metrics.invalid },
    null,
    2,
  );
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(body);
  return true;
}

/** `url` at the address the stand-ins listen on (loopback when they listen on every interface). */
function localUrl(url: string, host: string): string {
  const local = new URL(url);
  local.hostname = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return local.href;
}
