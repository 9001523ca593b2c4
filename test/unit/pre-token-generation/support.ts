/** Fixtures and factories shared by the pre-token-generation tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { createHandler } from '../../../functions/pre-token-generation/app.ts';
import { defaultProviderTable, type ProviderTable } from '../../../functions/shared/claims/providers.ts';
import type { Idp, Origin, PreTokenEvent } from '../../../functions/shared/claims/types.ts';
import { createLogger, type Logger } from '../../../functions/shared/log.ts';

export const eventsDir = new URL('../../../events/pre-token-generation/', import.meta.url);
export const expectedDir = new URL('expected/', eventsDir);

/** A fixed "today" so that golden files do not change with the calendar. */
export const now = new Date('2026-06-01T12:00:00Z');

export function eventFiles(): string[] {
  return readdirSync(eventsDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function loadEvent(file: string): PreTokenEvent {
  return JSON.parse(readFileSync(new URL(file, eventsDir), 'utf8')) as PreTokenEvent;
}

/** `idme-veteran.v1-hosted-auth.json` -> `idme-veteran`. */
export function scenarioOf(file: string): string {
  return file.slice(0, file.indexOf('.'));
}

/** A logger that keeps its lines for assertions. */
export function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

export function testHandler(providers: ProviderTable = defaultProviderTable, logger?: Logger) {
  return createHandler({ config: { providers }, log: logger ?? captureLogger().logger, now: () => now });
}

/** The event with another version and trigger source, and the empty response Cognito sends for it. */
export function withVersion(event: PreTokenEvent, version: '1' | '2' | '3', source: string): PreTokenEvent {
  const copy = structuredClone(event) as PreTokenEvent;
  copy.version = version;
  copy.triggerSource = source as PreTokenEvent['triggerSource'];
  copy.response = version === '1' ? { claimsOverrideDetails: null } : { claimsAndScopeOverrideDetails: null };
  if (version === '1') delete copy.request.scopes;
  return copy;
}

/** The `identities` attribute Cognito writes for a federated user. */
export function identitiesFor(
  providerName: string,
  userId: string,
  extra: Record<string, unknown> = {},
): string {
  return JSON.stringify([
    {
      userId,
      providerName,
      providerType: 'OIDC',
      issuer: null,
      primary: 'true',
      dateCreated: '1751492486000',
      ...extra,
    },
  ]);
}

/** A V2 hosted-auth event for a user with these attributes. */
export function userEvent(attributes: Record<string, string>, version: '1' | '2' | '3' = '2'): PreTokenEvent {
  return withVersion(
    {
      version: '2',
      triggerSource: 'TokenGeneration_HostedAuth',
      region: 'us-east-1',
      userPoolId: 'us-east-1_AbC123',
      userName: 'IDme_7e9bdcc2c79247fda1e4973e24c9dcaf',
      callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: '7h778muira8dkr69dt35jhbjo8' },
      request: {
        userAttributes: { sub: '44e8b438-a061-70ca-faa7-3d3e93c015cb', ...attributes },
        groupConfiguration: { groupsToOverride: [], iamRolesToOverride: [], preferredRole: null },
        scopes: ['openid'],
      },
      response: { claimsAndScopeOverrideDetails: null },
    },
    version,
    'TokenGeneration_HostedAuth',
  );
}

export function origin(idp: Idp, userId = 'subject-1', env = 'production'): Origin {
  return { providerName: idp === 'idme' ? 'IDme' : 'Idura', idp, env, userId };
}

/** Sample national identifiers in the formats each country writes them (all fictitious). */
export const nationalIdSamples = [
  ['US SSN', '796104437'],
  ['US SSN with dashes', '796-10-4437'],
  ['Danish CPR', '0101701234'],
  ['Danish CPR with dash', '010170-1234'],
  ['Swedish personnummer (12 digits)', '191212121212'],
  ['Swedish personnummer with dash', '19121212-1212'],
  ['Swedish personnummer (short)', '121212-1212'],
  ['Swedish personnummer, over 100 years old', '121212+1212'],
  ['Norwegian fødselsnummer', '01017012345'],
  ['Finnish HETU', '070770-905D'],
  ['Finnish HETU, 2000s', '010105A123N'],
  ['Finnish HETU, new century sign', '010105Y123N'],
] as const;
