/**
 * The cookie-key set as stored in configuration, before any key is derived from it. Pure (no jose), so
 * that config.ts can validate a plain `COOKIE_KEYS` value at parse time and secrets.ts can validate the
 * Secrets Manager value with the very same rules.
 *
 * Shape (chosen so that CloudFormation's `GenerateSecretString` can create it: it can only insert one
 * generated string at a top-level key):
 *
 *   {"current":"k1","k1":"<at least 32 random characters>","k0":"<older key, still readable>"}
 *
 * `current` names the key new cookies are sealed with; every other entry is a key id and its secret.
 * Each secret is input keying material for HKDF-SHA256 (see cookies.ts), so any high-entropy string of
 * 32+ characters works: a generated password, or base64url of 32 random bytes.
 */

export interface CookieKeySet {
  /** Key id new cookies are sealed with. */
  current: string;
  /** Key id -> secret (input keying material). Never logged. */
  secrets: Readonly<Record<string, string>>;
}

export const cookieKeysExample = '{"current":"k1","k1":"<32+ random characters>"}';
const minCookieSecretLength = 32;
const kidPattern = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Checks a parsed cookie-key set. Problems never quote secret values.
 *
 * @example parseCookieKeySet(JSON.parse(raw), 'COOKIE_KEYS')
 */
export function parseCookieKeySet(
  raw: unknown,
  where: string,
): { keys: CookieKeySet; problems: [] } | { keys: undefined; problems: string[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { keys: undefined, problems: [`${where} must be a JSON object like ${cookieKeysExample}`] };
  }
  const problems: string[] = [];
  const secrets: Record<string, string> = {};
  const { current, ...rest } = raw as Record<string, unknown>;
  for (const [kid, secret] of Object.entries(rest)) {
    if (!kidPattern.test(kid)) {
      problems.push(`${where}: key id "${kid.slice(0, 40)}" must be 1-32 letters, digits, "_" or "-"`);
    } else if (typeof secret !== 'string' || secret.length < minCookieSecretLength) {
      problems.push(`${where}: the secret of key "${kid}" must be a string of at least 32 characters`);
    } else {
      secrets[kid] = secret;
    }
  }
  if (typeof current !== 'string') {
    problems.push(
      `${where}: "current" must name the key new cookies are sealed with, e.g. ${cookieKeysExample}`,
    );
  } else if (!(current in secrets) && problems.length === 0) {
    problems.push(`${where}: "current" is "${current.slice(0, 40)}" but there is no key with that id`);
  }
  if (problems.length > 0) return { keys: undefined, problems };
  return {
    keys: Object.freeze({ current: current as string, secrets: Object.freeze(secrets) }),
    problems: [],
  };
}
