import { containsNationalId } from './privacy.ts';

/**
 * Small pure helpers shared by the provider normalizers. Every helper takes `unknown` (attributes
 * are strings in practice, but the trigger must survive anything) and returns `undefined` when the
 * input is missing or does not pass its checks: the caller then omits the claim.
 */

/** Longest name part we emit; Cognito attributes allow 2048, but a "name" that long is not a name. */
const maxNameLength = 256;
const maxEmailLength = 254;

/** Lone UTF-16 surrogates: not text, and they break the token's JSON for some consumers. */
const brokenText = /\p{Cs}/u;

/** The attribute as a trimmed, NFC-normalized string, or undefined when missing, blank or not well-formed. */
export function text(value: unknown): string | undefined {
  if (typeof value !== 'string' || brokenText.test(value)) return undefined;
  const trimmed = value.normalize('NFC').trim();
  return trimmed === '' ? undefined : trimmed;
}

// Control characters and line/paragraph separators become spaces; invisible format characters
// (zero-width space, bidi controls, BOM) are removed, so equal-looking names are equal.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point.
const controls = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const invisible = /[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;

/**
 * A person's name part: Unicode NFC, trimmed, inner whitespace collapsed, case kept as delivered
 * (ID.me and the German eID send upper case; UIs format, tokens do not). Must contain a letter and
 * nothing shaped like a national identifier.
 *
 * @example normalizeName('  Åse   Ødegård ') // 'Åse Ødegård'
 */
export function normalizeName(value: unknown): string | undefined {
  if (typeof value !== 'string' || brokenText.test(value)) return undefined;
  const cleaned = value
    .replace(controls, ' ')
    .replace(invisible, '')
    .normalize('NFC')
    .replace(/\s+/gu, ' ')
    .trim();
  if (cleaned.length > maxNameLength || !/\p{L}/u.test(cleaned) || containsNationalId(cleaned))
    return undefined;
  return cleaned;
}

/** Joins name parts with single spaces, skipping missing ones; undefined when none is left. */
export function joinName(...parts: (string | undefined)[]): string | undefined {
  const present = parts.filter((p): p is string => p !== undefined);
  return present.length === 0 ? undefined : present.join(' ');
}

/**
 * An email address: trimmed, NFC, the domain lower-cased (the local part is case-sensitive by
 * RFC 5321, so it is kept). Rejects anything that is not one local part, one `@`, one dotted domain,
 * and addresses carrying something shaped like a national identifier (nine digits in a row are
 * indistinguishable from an SSN mapped into the wrong attribute).
 *
 * @example normalizeEmail(' Gary.Twinkle@Example.COM ') // 'Gary.Twinkle@example.com'
 */
export function normalizeEmail(value: unknown): string | undefined {
  const raw = text(value);
  if (raw === undefined || raw.length > maxEmailLength || containsNationalId(raw)) return undefined;
  const at = raw.lastIndexOf('@');
  if (at <= 0 || raw.indexOf('@') !== at) return undefined;
  const local = raw.slice(0, at);
  const domain = raw.slice(at + 1).toLowerCase();
  if (local.length > 64 || /[\s"(),:;<>[\\\]]/u.test(local) || local.startsWith('.') || local.endsWith('.')) {
    return undefined;
  }
  const labels = domain.split('.');
  const isLabel = (label: string) => /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u.test(label);
  if (labels.length < 2 || !labels.every(isLabel)) return undefined;
  return `${local}@${domain}`;
}

/**
 * A boolean that arrived as a string (all user attributes do): `"true"`/`"false"` in any case, or a
 * real boolean from parsed JSON. Anything else ("1", "yes", "") is not a boolean: undefined.
 */
export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const lower = value.trim().toLowerCase();
  if (lower === 'true') return true;
  if (lower === 'false') return false;
  return undefined;
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
/** Region codes ICU knows that are not countries. */
const notCountries = new Set(['EU', 'EZ', 'UN', 'QO', 'ZZ', 'XA', 'XB']);
/** Codes seen upstream that are not ISO 3166-1 alpha-2 (the German eID's address uses `D`). */
const countryAliases: Readonly<Record<string, string>> = {
  D: 'DE',
  DEU: 'DE',
  DNK: 'DK',
  SWE: 'SE',
  NOR: 'NO',
  FIN: 'FI',
  USA: 'US',
};

/**
 * An ISO 3166-1 alpha-2 country code, upper-cased; known aliases (`D`, alpha-3 Nordic codes) are
 * mapped. Anything else is dropped, not guessed.
 *
 * @example normalizeCountry('dk') // 'DK'
 */
export function normalizeCountry(value: unknown): string | undefined {
  const raw = text(value)?.toUpperCase();
  if (raw === undefined) return undefined;
  const code = countryAliases[raw] ?? raw;
  if (!/^[A-Z]{2}$/.test(code) || notCountries.has(code)) return undefined;
  return regionNames.of(code) === undefined ? undefined : code;
}

/**
 * A lower-case ASCII slug (`Service Member` -> `service_member`) for vocabulary values such as
 * ID.me community groups. Values with digits or without letters are rejected, so nothing
 * number-like can travel through an affiliation.
 */
export function slug(value: unknown): string | undefined {
  if (typeof value !== 'string' || /\d/.test(value)) return undefined;
  const folded = value
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return /^[a-z]+(?:_[a-z]+)*$/.test(folded) && folded.length <= 40 ? folded : undefined;
}

/** A table row by key, never an inherited property (`constructor`, `__proto__`). */
export function lookup<T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}
