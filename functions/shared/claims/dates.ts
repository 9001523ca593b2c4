/**
 * Birthdates to OIDC's `YYYY-MM-DD`. Each provider names the formats it sends; nothing is guessed
 * from the shape of the value (`03/04/1970` is March 4 for ID.me and simply invalid for Idura).
 */

export type DateFormat = 'iso' | 'us' | 'basic';

const patterns: Readonly<Record<DateFormat, { pattern: RegExp; order: readonly [number, number, number] }>> =
  {
    /** `1970-10-10`, the OIDC format; ID.me `birth_date` and Idura `birthdate`. */
    iso: { pattern: /^(\d{4})-(\d{2})-(\d{2})$/, order: [1, 2, 3] },
    /** `10/10/1970` (month first), seen in ID.me's IAL2 profiles. */
    us: { pattern: /^(\d{2})\/(\d{2})\/(\d{4})$/, order: [3, 1, 2] },
    /** `19701010`, the compact ISO 8601 form. */
    basic: { pattern: /^(\d{4})(\d{2})(\d{2})$/, order: [1, 2, 3] },
  };

/** No living person was born earlier; it also rules out OIDC's `0000` "year unknown" form. */
const earliestYear = 1870;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Parses a birthdate strictly in one of the given formats and returns `YYYY-MM-DD`, or undefined
 * for anything else: impossible dates (month 82, 29 February of a common year), partial dates
 * (German eIDs may lack the day), years before 1870, and dates after `now`.
 *
 * @example normalizeBirthdate('10/04/1950', ['iso', 'us'], new Date()) // '1950-10-04'
 */
export function normalizeBirthdate(
  value: unknown,
  formats: readonly DateFormat[],
  now: Date,
): string | undefined {
  if (typeof value !== 'string') return undefined;
  const raw = value.trim();
  for (const format of formats) {
    const { pattern, order } = patterns[format];
    const match = pattern.exec(raw);
    if (match === null) continue;
    const [year, month, day] = order.map((i) => Number(match[i]));
    if (year === undefined || month === undefined || day === undefined) return undefined;
    return validDate(year, month, day, now);
  }
  return undefined;
}

function validDate(year: number, month: number, day: number, now: Date): string | undefined {
  if (year < earliestYear || month < 1 || month > 12 || day < 1) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  if (date.getTime() > now.getTime()) return undefined;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}
