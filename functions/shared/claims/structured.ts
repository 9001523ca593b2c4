/**
 * Reads a structured claim (an array or object) that Cognito stored in a string attribute. Cognito
 * keeps mapped multi-valued claims as one string; what that string looks like is not documented, so
 * every form seen in the wild is accepted, in this order:
 *   1. JSON, possibly JSON-encoded twice (`"[{\"group\":…}]"`);
 *   2. URL-form-encoded JSON (`%5B%7B%22group%22…`, `+` for spaces);
 *   3. the Java `toString()` form (`[{group=military, subgroups=[Veteran], verified=true}]`).
 * Anything else is `undefined`. Never throws.
 */

/** Attributes hold at most 2048 characters; anything far longer is not ours. */
const maxInput = 8192;
const maxDepth = 8;

export function parseStructured(value: unknown): unknown {
  if (typeof value !== 'string') return undefined;
  const raw = value.trim();
  if (raw === '' || raw.length > maxInput) return undefined;
  const json = parseJson(raw);
  if (json !== undefined) return json;
  const decoded = formDecode(raw);
  if (decoded !== undefined && decoded !== raw) {
    const decodedJson = parseJson(decoded);
    if (decodedJson !== undefined) return decodedJson;
  }
  return parseJavaToString(decoded ?? raw);
}

/** JSON objects and arrays only; a JSON string is unwrapped once (double encoding). */
function parseJson(raw: string, unwrap = true): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof parsed === 'string' && unwrap) return parseJson(parsed.trim(), false);
  return typeof parsed === 'object' && parsed !== null ? parsed : undefined;
}

function formDecode(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).trim();
  } catch {
    return undefined;
  }
}

/**
 * A small recursive-descent reader for `{k=v, k2=[a, b]}`. Scalars stay strings (callers already
 * accept `"true"` for booleans); keys and scalars cannot contain `,`, `=`, `[`, `]`, `{` or `}`.
 */
function parseJavaToString(raw: string): unknown {
  if (!raw.startsWith('[') && !raw.startsWith('{')) return undefined;
  let i = 0;
  const skipSpace = () => {
    while (i < raw.length && /\s/.test(raw.charAt(i))) i++;
  };
  const token = (stops: RegExp): string => {
    const start = i;
    while (i < raw.length && !stops.test(raw.charAt(i))) i++;
    return raw.slice(start, i).trim();
  };
  const value = (depth: number): unknown => {
    if (depth > maxDepth) throw new SyntaxError('too deep');
    skipSpace();
    const c = raw.charAt(i);
    if (c === '[') return list(depth);
    if (c === '{') return map(depth);
    return token(/[,\]}]/);
  };
  const list = (depth: number): unknown[] => {
    i++;
    const out: unknown[] = [];
    skipSpace();
    if (raw.charAt(i) === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(value(depth + 1));
      skipSpace();
      const c = raw.charAt(i++);
      if (c === ']') return out;
      if (c !== ',') throw new SyntaxError('expected , or ]');
    }
  };
  const map = (depth: number): Record<string, unknown> => {
    i++;
    const out: Record<string, unknown> = {};
    skipSpace();
    if (raw.charAt(i) === '}') {
      i++;
      return out;
    }
    for (;;) {
      const key = token(/[=,{}[\]]/);
      if (raw.charAt(i++) !== '=' || key === '') throw new SyntaxError('expected key=');
      // Own-property writes only: a key named __proto__ must not reach the prototype.
      Object.defineProperty(out, key, { value: value(depth + 1), enumerable: true, writable: true });
      skipSpace();
      const c = raw.charAt(i++);
      if (c === '}') return out;
      if (c !== ',') throw new SyntaxError('expected , or }');
    }
  };
  try {
    const result = value(0);
    skipSpace();
    return i === raw.length ? result : undefined;
  } catch {
    return undefined;
  }
}
