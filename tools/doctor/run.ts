/**
 * Puts the checks together for one run of the doctor. Everything with an effect (files, fetch, the
 * Cognito clients, starting an offline stack) comes in through `DoctorDeps`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { CognitoIdentityClient } from '@aws-sdk/client-cognito-identity';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { Env } from '#broker';
import { type LocalConfig, readLocalConfigFile } from '../../local/config.ts';
import type { OfflineStack } from '../../local/stack.ts';
import {
  templatePath as defaultTemplatePath,
  type RawTemplate,
  readTemplate,
  TemplateResolver,
} from '../../local/template.ts';
import type { DoctorOptions } from './args.ts';
import { checkBrokerConfig, checkProviderTable, readEnvFile } from './config-checks.ts';
import {
  type DeployedClients,
  type DeployedIds,
  findStackIds,
  wiringFromDeployed,
} from './deployed-source.ts';
import type { Finding, Report } from './findings.ts';
import { FindingList } from './findings.ts';
import { checkIdp, idpKindOf, iduraUserinfoAdvice } from './idp.ts';
import { type Fetch, issuerFromInput } from './net.ts';
import { checkOfflineStack, targetsFromConfig, targetsFromStack } from './offline.ts';
import { checkCustomDomainParameters, checkSameSiteInTemplate } from './same-site.ts';
import { readSamconfig, type TemplateWiring, wiringFromTemplate } from './template-source.ts';
import { checkWiring, type WiringModel } from './wiring.ts';

export interface DoctorDeps {
  readonly fetch: Fetch;
  readonly readFile: (path: string) => string;
  readonly exists: (path: string) => boolean;
  readonly processEnv: Env;
  readonly deployedClients: (region: string, timeoutMs: number) => DeployedClients;
  readonly startOfflineStack: (config: LocalConfig, template: RawTemplate) => Promise<OfflineStack>;
  /** Starts each function alone with its declared variables (function-env.ts). */
  readonly checkFunctions: (
    templateFile: string,
    parameters: Record<string, string>,
    region: string,
  ) => Promise<Finding[]>;
}

/** The real world: files, global fetch, SDK clients with the default credential chain. */
export function defaultDeps(): DoctorDeps {
  return {
    fetch: (input, init) => fetch(input, init),
    readFile: (path) => readFileSync(path, 'utf8'),
    exists: existsSync,
    processEnv: process.env,
    deployedClients: (region, timeoutMs) => {
      const settings = {
        region,
        maxAttempts: 2,
        requestHandler: { connectionTimeout: Math.min(timeoutMs, 3000), requestTimeout: timeoutMs },
      };
      return {
        userPools: new CognitoIdentityProviderClient(settings),
        identityPools: new CognitoIdentityClient(settings),
      };
    },
    checkFunctions: async (templateFile, parameters, region) => {
      const { checkFunctionEnvironments } = await import('./function-env.ts');
      const resolver = new TemplateResolver(readTemplate(templateFile), { region, parameters });
      return checkFunctionEnvironments(resolver, region);
    },
    startOfflineStack: async (config, template) => {
      // Loaded on demand: the stand-ins bring oidc-provider and the functions' runtimes.
      const { startEphemeralStack } = await import('../../local/stack.ts');
      return startEphemeralStack(config, { template });
    },
  };
}

const defaultLocalConfigPath = join(dirname(defaultTemplatePath), 'local.config.json');

/** A path as the user would type it: relative to the working directory when inside it. */
function shown(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' || rel.startsWith('..') ? path : rel;
}

export async function runDoctor(options: DoctorOptions, deps: DoctorDeps): Promise<Report> {
  const sources: string[] = [];
  const notes: string[] = [];
  const findings: Finding[] = [];
  const templateFile = options.templatePath ?? defaultTemplatePath;
  const template = readTemplateFinding(templateFile, deps, findings);
  const envSources: string[] = [];
  const env = readEnv(options, deps, findings, envSources);

  if (options.mode === 'offline') {
    if (template !== undefined) await runOffline(options, deps, template, env, { findings, sources, notes });
  } else {
    const samconfigFile = options.samconfigPath ?? join(dirname(templateFile), 'samconfig.toml');
    const samconfig = deps.exists(samconfigFile)
      ? readSamconfig(deps.readFile(samconfigFile), options.configEnv)
      : { parameters: {}, region: undefined, stackName: undefined };
    const parameters = { ...samconfig.parameters, ...options.parameters };
    const region = options.region ?? samconfig.region ?? deps.processEnv.AWS_REGION ?? 'us-east-1';
    const fromTemplate =
      template === undefined
        ? undefined
        : wiringFromTemplate(template, {
            parameters,
            region,
            ...((options.stack ?? samconfig.stackName)
              ? { stackName: options.stack ?? samconfig.stackName }
              : {}),
          });
    const parameterSource = [
      deps.exists(samconfigFile)
        ? `${shown(samconfigFile)} [${options.configEnv}] parameter_overrides`
        : 'parameter defaults',
      ...(Object.keys(options.parameters).length > 0 ? ['--parameter'] : []),
    ].join(' and ');
    if (options.mode === 'template') {
      if (fromTemplate !== undefined) {
        sources.push(`${shown(templateFile)} resolved with ${parameterSource} (region ${region})`);
        await runTemplate(options, deps, fromTemplate, env, { findings, notes });
        findings.push(...(await deps.checkFunctions(templateFile, parameters, region)));
      }
    } else {
      await runDeployed(
        options,
        deps,
        { fromTemplate, env, region, parameters },
        { findings, sources, notes },
      );
    }
  }

  sources.push(...envSources);
  for (const issuer of options.issuers) {
    const normalized = issuerFromInput(issuer);
    sources.push(`IdP issuer ${normalized} (live)`);
    findings.push(
      ...(await checkIdp(
        { name: normalized, issuer: normalized },
        { fetch: deps.fetch, timeoutMs: options.timeoutMs, offline: options.mode === 'offline' },
      )),
    );
    if (idpKindOf('', normalized) === 'idura') findings.push(iduraUserinfoAdvice(normalized));
  }
  for (const file of options.discoveryFiles) {
    sources.push(
      `saved discovery document ${file}${options.jwksFile ? ` with JWKS ${options.jwksFile}` : ''}`,
    );
    const document = readJsonFinding(file, deps, findings, 'idp.discovery');
    const jwks =
      options.jwksFile === undefined
        ? undefined
        : readJsonFinding(options.jwksFile, deps, findings, 'idp.jwks.fetch');
    if (document === undefined) continue;
    findings.push(
      ...(await checkIdp(
        { name: file, document, ...(jwks === undefined ? {} : { jwks }) },
        { fetch: deps.fetch, timeoutMs: options.timeoutMs, offline: options.mode === 'offline' },
      )),
    );
  }
  return { sources, findings, notes };
}

interface Sink {
  readonly findings: Finding[];
  readonly notes: string[];
  readonly sources?: string[];
}

async function runTemplate(
  options: DoctorOptions,
  deps: DoctorDeps,
  fromTemplate: TemplateWiring,
  env: Env | undefined,
  sink: Sink,
): Promise<void> {
  const { wiring } = fromTemplate;
  sink.findings.push(...fromTemplate.findings);
  const config =
    env === undefined
      ? undefined
      : checkBrokerConfig(env, { offline: false, defaultRegion: wiring.region, wiring, compareIds: false });
  if (config !== undefined) sink.findings.push(...config.findings);
  else sink.findings.push(...checkSameSiteInTemplate(fromTemplate.resolver));
  sink.findings.push(...checkCustomDomainParameters(fromTemplate.resolver));
  sink.findings.push(
    ...checkWiring(wiring, {
      publicBaseUrl: options.publicBaseUrl ?? config?.publicBaseUrl ?? fromTemplate.publicBaseUrl,
      trustedClientIds: config?.trustedClientIds ?? [],
    }),
  );
  sink.findings.push(...providerTableFindings(wiring, env, fromTemplate));
  await checkConfiguredIdps(wiring, options, deps, sink, options.fetchIdps);
}

async function runDeployed(
  options: DoctorOptions,
  deps: DoctorDeps,
  input: {
    fromTemplate: TemplateWiring | undefined;
    env: Env | undefined;
    region: string;
    parameters: Record<string, string>;
  },
  sink: Sink & { sources: string[] },
): Promise<void> {
  const clients = deps.deployedClients(input.region, options.timeoutMs);
  let ids: DeployedIds | undefined;
  if (options.userPoolId !== undefined && options.clientId !== undefined) {
    ids = {
      userPoolId: options.userPoolId,
      clientId: options.clientId,
      identityPoolId: options.identityPoolId,
    };
  } else {
    const found = await findStackIds(clients, input.fromTemplate?.names ?? {}, {
      ...(options.userPoolId ? { userPoolId: options.userPoolId } : {}),
      ...(options.clientId ? { clientId: options.clientId } : {}),
      ...(options.identityPoolId ? { identityPoolId: options.identityPoolId } : {}),
    });
    sink.findings.push(...found.findings);
    ids = found.ids;
  }
  sink.sources.push(
    `deployed stack${options.stack ? ` ${options.stack}` : ''} in ${input.region}${ids ? `: user pool ${ids.userPoolId}, app client ${ids.clientId}, identity pool ${ids.identityPoolId ?? '(not given)'}` : ''}`,
  );
  if (ids === undefined) return;
  const deployed = await wiringFromDeployed(clients, ids, input.region);
  sink.findings.push(...deployed.findings);
  const wiring = deployed.wiring;
  if (wiring === undefined) return;
  const config =
    input.env === undefined
      ? undefined
      : checkBrokerConfig(input.env, {
          offline: false,
          defaultRegion: input.region,
          wiring,
          compareIds: true,
        });
  if (config !== undefined) sink.findings.push(...config.findings);
  const publicBaseUrl =
    options.publicBaseUrl ??
    config?.publicBaseUrl ??
    (input.parameters.ApiDomainName
      ? `https://${input.parameters.ApiDomainName}`
      : input.parameters.PublicBaseUrl);
  if (ids.identityPoolId === undefined) {
    sink.notes.push(
      'the identity pool was not checked: pass --identity-pool-id (stack output IdentityPoolId)',
    );
  }
  sink.findings.push(
    ...checkWiring(wiring, {
      publicBaseUrl,
      loginsKey: config?.loginsKey,
      trustedClientIds: config?.trustedClientIds ?? [],
      checkIdentityPool: ids.identityPoolId !== undefined,
      ...(input.fromTemplate
        ? { templateProviderNames: input.fromTemplate.wiring.providers.map((p) => p.name) }
        : {}),
    }),
  );
  sink.findings.push(...providerTableFindings(wiring, input.env, input.fromTemplate));
  await checkConfiguredIdps(wiring, options, deps, sink, true);
}

async function runOffline(
  options: DoctorOptions,
  deps: DoctorDeps,
  template: RawTemplate,
  env: Env | undefined,
  sink: Sink & { sources: string[] },
): Promise<void> {
  const configFile = options.localConfigPath ?? defaultLocalConfigPath;
  if (options.localConfigPath !== undefined && !deps.exists(configFile)) {
    const list = new FindingList('offline', configFile);
    list.error(
      'offline.config',
      `${configFile} does not exist`,
      'Pass an existing file to --local-config (see local.config.example.json).',
    );
    sink.findings.push(...list.findings);
    return;
  }
  let config: LocalConfig;
  try {
    config = readLocalConfigFile(configFile);
  } catch (error) {
    const list = new FindingList('offline', configFile);
    list.error('offline.config', (error as Error).message, 'Fix the JSON (see local.config.example.json).');
    sink.findings.push(...list.findings);
    return;
  }
  const configLabel = deps.exists(configFile) ? shown(configFile) : 'the default offline configuration';
  if (env !== undefined) {
    // An env.json for sam local (npm run start:stand-ins) is checked like the stack's own environment.
    sink.findings.push(...checkBrokerConfig(env, { offline: true, defaultRegion: config.region }).findings);
  }
  const checkOptions = { template, fetch: deps.fetch, timeoutMs: options.timeoutMs };
  if (options.start) {
    const stack = await deps.startOfflineStack(config, template);
    try {
      sink.sources.push(
        `an offline stack started for this check (${configLabel}, free ports; API ${stack.api.url})`,
      );
      sink.findings.push(...(await checkOfflineStack(targetsFromStack(stack), checkOptions)));
    } finally {
      await stack.close();
    }
  } else {
    const targets = targetsFromConfig(config);
    sink.sources.push(`the running offline stack (${configLabel}; API ${targets.apiUrl})`);
    sink.findings.push(...(await checkOfflineStack(targets, checkOptions)));
  }
  sink.notes.push(
    'loopback http endpoints are accepted offline and marked [offline only]; Cognito in AWS requires https on port 443',
  );
}

async function checkConfiguredIdps(
  wiring: WiringModel,
  options: DoctorOptions,
  deps: DoctorDeps,
  sink: Sink,
  fetchIdps: boolean,
): Promise<void> {
  for (const provider of wiring.providers) {
    const issuer = provider.details.oidc_issuer;
    if (fetchIdps && issuer) {
      sink.findings.push(
        ...(await checkIdp(
          { name: provider.name, issuer },
          { fetch: deps.fetch, timeoutMs: options.timeoutMs, offline: false },
        )),
      );
    }
    if (idpKindOf(provider.name, issuer) === 'idura') sink.findings.push(iduraUserinfoAdvice(provider.name));
  }
  if (!fetchIdps && wiring.providers.length > 0) {
    sink.notes.push(
      "the template's IdPs were not fetched (add --fetch-idps to check their discovery documents and JWKS)",
    );
  }
}

function providerTableFindings(
  wiring: WiringModel,
  env: Env | undefined,
  fromTemplate: TemplateWiring | undefined,
): Finding[] {
  const names = wiring.providers.map((p) => p.name);
  if (env?.PROVIDER_TABLE !== undefined && env.PROVIDER_TABLE.trim() !== '') {
    return checkProviderTable(names, env, 'PROVIDER_TABLE of --env');
  }
  if (fromTemplate?.triggerEnvironment !== undefined) {
    return checkProviderTable(names, fromTemplate.triggerEnvironment, 'template.yaml');
  }
  return [];
}

function readTemplateFinding(path: string, deps: DoctorDeps, findings: Finding[]): RawTemplate | undefined {
  try {
    if (!deps.exists(path)) throw new Error('no such file');
    return readTemplate(path);
  } catch (error) {
    const list = new FindingList('wiring', path);
    list.error(
      'template.read',
      `cannot read the template: ${(error as Error).message}`,
      'Pass the SAM template with --template <file>.',
    );
    findings.push(...list.findings);
    return undefined;
  }
}

function readEnv(
  options: DoctorOptions,
  deps: DoctorDeps,
  findings: Finding[],
  sources: string[],
): Env | undefined {
  if (options.envFile !== undefined) {
    try {
      const env = readEnvFile(deps.readFile(options.envFile));
      sources.push(`environment from ${options.envFile}`);
      return env;
    } catch (error) {
      const list = new FindingList('config', options.envFile);
      list.error(
        'config.env-file',
        `cannot read the env file: ${(error as Error).message}`,
        'Pass a JSON object of variables, or SAM env.json ({"Parameters": {…}}).',
      );
      findings.push(...list.findings);
      return undefined;
    }
  }
  if (options.processEnv) {
    sources.push('the current environment');
    return deps.processEnv;
  }
  return undefined;
}

function readJsonFinding(path: string, deps: DoctorDeps, findings: Finding[], id: string): unknown {
  try {
    return JSON.parse(deps.readFile(path));
  } catch (error) {
    const list = new FindingList('idp', path);
    list.error(
      id,
      `cannot read ${path}: ${(error as Error).message}`,
      'Pass a JSON file saved from the IdP.',
    );
    findings.push(...list.findings);
    return undefined;
  }
}
