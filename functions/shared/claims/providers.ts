/**
 * Which upstream provider a user came from: the primary entry of the `identities` attribute (a JSON
 * string Cognito maintains and users cannot edit), looked up in a table from Cognito provider name
 * to canonical `idp` and environment.
 */
import { type Env, EnvReader } from '../config.ts';
import { isNationalId } from './privacy.ts';
import { type Idp, idps, type Origin, type UserAttributes } from './types.ts';
import { parseBoolean } from './values.ts';

interface ProviderEntry {
  idp: Idp;
  env: string;
}

export type ProviderTable = Readonly<Record<string, Readonly<ProviderEntry>>>;

/** Cognito provider names used by the template (see template.yaml and docs/claims.md). */
export const defaultProviderTable: ProviderTable = Object.freeze({
  IDme: { idp: 'idme', env: 'production' },
  IDmeSandbox: { idp: 'idme', env: 'sandbox' },
  Idura: { idp: 'idura', env: 'production' },
  IduraTest: { idp: 'idura', env: 'test' },
});

export interface ParsedProviderTable {
  table: ProviderTable;
  /** Empty when PROVIDER_TABLE was absent or valid; otherwise why it was ignored. */
  problems: readonly string[];
}

const envPattern = /^[a-z][a-z0-9-]{0,31}$/;
// Cognito provider names: 1-32 characters, no whitespace.
const providerNamePattern = /^[^\s]{1,32}$/;

/**
 * Reads the optional `PROVIDER_TABLE` (a JSON object like the default table). A valid table
 * *replaces* the defaults, so a deployment can drop a provider (e.g. `IDmeSandbox` in production).
 * An invalid one is ignored as a whole and the defaults apply: a typo in configuration must not
 * stop every sign-in, and a half-applied table would be harder to reason about. The caller logs
 * `problems` once.
 *
 * @example parseProviderTable({ PROVIDER_TABLE: '{"IDme":{"idp":"idme","env":"production"}}' })
 */
export function parseProviderTable(env: Env): ParsedProviderTable {
  const r = new EnvReader(env);
  const raw = r.json('PROVIDER_TABLE', 'a JSON object like {"IDme":{"idp":"idme","env":"production"}}');
  if (raw === undefined) return { table: defaultProviderTable, problems: r.problems };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    r.problems.push('PROVIDER_TABLE must be a JSON object keyed by Cognito provider name');
  }
  const table: Record<string, ProviderEntry> = {};
  const entries = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? Object.entries(raw) : [];
  for (const [name, entry] of entries) {
    const where = `PROVIDER_TABLE["${name}"]`;
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const idp = idps.find((known) => known === e.idp);
    const envName = typeof e.env === 'string' && envPattern.test(e.env) ? e.env : undefined;
    if (!providerNamePattern.test(name)) r.problems.push(`${where}: provider names have 1-32 characters`);
    if (idp === undefined) r.problems.push(`${where}.idp must be one of ${idps.join(', ')}`);
    if (envName === undefined) r.problems.push(`${where}.env must be a lower-case word like "production"`);
    if (idp !== undefined && envName !== undefined) {
      Object.defineProperty(table, name, { value: Object.freeze({ idp, env: envName }), enumerable: true });
    }
  }
  if (r.problems.length === 0 && Object.keys(table).length === 0) {
    r.problems.push('PROVIDER_TABLE lists no provider');
  }
  return r.problems.length > 0
    ? { table: defaultProviderTable, problems: r.problems }
    : { table: Object.freeze(table), problems: [] };
}

/** One entry of the `identities` attribute. */
export interface LinkedIdentity {
  providerName: string;
  userId: string | undefined;
  isPrimary: boolean;
  /** Milliseconds since the epoch; Infinity when absent, so dated entries sort first. */
  dateCreated: number;
}

/**
 * Parses the `identities` attribute. Entries without a provider name are skipped; malformed JSON
 * gives an empty list (the user is then treated as not federated).
 */
export function parseIdentities(value: unknown): LinkedIdentity[] {
  if (typeof value !== 'string' || value.length > 16_384) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return [];
  }
  const entries = Array.isArray(parsed) ? parsed : [parsed];
  const out: LinkedIdentity[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null) continue;
    const e = entry as Record<string, unknown>;
    if (typeof e.providerName !== 'string' || e.providerName === '') continue;
    const created =
      typeof e.dateCreated === 'number' ||
      (typeof e.dateCreated === 'string' && /^\d{1,15}$/.test(e.dateCreated))
        ? Number(e.dateCreated)
        : Number.POSITIVE_INFINITY;
    out.push({
      providerName: e.providerName,
      userId: typeof e.userId === 'string' ? e.userId : undefined,
      isPrimary: parseBoolean(e.primary) === true,
      dateCreated: Number.isFinite(created) ? created : Number.POSITIVE_INFINITY,
    });
  }
  return out;
}

/**
 * The identity that speaks for the user: the one marked primary; otherwise the oldest (the one
 * that created the profile), ties broken by position. Deterministic, so refreshes agree with
 * sign-ins.
 */
export function selectPrimaryIdentity(identities: readonly LinkedIdentity[]): LinkedIdentity | undefined {
  const primary = identities.find((i) => i.isPrimary);
  if (primary !== undefined) return primary;
  let oldest: LinkedIdentity | undefined;
  for (const identity of identities) {
    if (oldest === undefined || identity.dateCreated < oldest.dateCreated) oldest = identity;
  }
  return oldest;
}

export type Detection =
  | { kind: 'federated'; origin: Origin }
  | { kind: 'not-federated' }
  | { kind: 'unknown-provider' };

/**
 * Where the user comes from. Only `identities` is consulted, never an attribute a user or an
 * upstream provider could set.
 *
 * @example detectProvider(event.request.userAttributes, defaultProviderTable)
 */
export function detectProvider(attributes: UserAttributes, table: ProviderTable): Detection {
  const identity = selectPrimaryIdentity(parseIdentities(attributes.identities));
  if (identity === undefined) return { kind: 'not-federated' };
  const entry = Object.hasOwn(table, identity.providerName) ? table[identity.providerName] : undefined;
  if (entry === undefined) return { kind: 'unknown-provider' };
  return {
    kind: 'federated',
    origin: {
      providerName: identity.providerName,
      idp: entry.idp,
      env: entry.env,
      userId: subjectOf(identity.userId),
    },
  };
}

/** The upstream subject, verbatim (Idura's braces included), if it is a plausible opaque id. */
function subjectOf(userId: string | undefined): string | undefined {
  if (userId === undefined || !/^[\x21-\x7e]{1,255}$/.test(userId)) return undefined;
  return isNationalId(userId) ? undefined : userId;
}
