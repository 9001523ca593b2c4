/**
 * A tiny structured logger: one JSON line per call, message first, context second. Not Powertools
 * Logger: measured as the functions run (a bundle imported by a fresh Node 24 process), Powertools
 * Logger adds about 15 ms to every cold start, more than a tenth of /credentials' (README "Operating
 * it"); what the broker needs of it is below: the invocation's request id and function context on
 * every line (`setInvocation`, once per invocation), and redaction.
 *
 * Logs are decisions, not data. The redaction below is a safety net for mistakes, not a licence to
 * pass tokens in: any key that looks like it carries a secret is replaced before it is written.
 */

type LogLevel = 'debug' | 'info' | 'warn' | 'error';
type LogContext = Record<string, unknown>;

export interface Logger {
  debug(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext): void;
  error(message: string, context?: LogContext): void;
  /** A logger that adds `context` to every line. It shares the invocation context of its parent. */
  child(context: LogContext): Logger;
  /**
   * Starts an invocation: `context` (the request id, the function) goes on every line of this logger
   * and its children until the next call; `undefined` ends it.
   */
  setInvocation(context: LogContext | undefined): void;
}

const levels: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const sensitiveKey =
  /token|secret|password|passwd|authorization|cookie|credential|session|code_verifier|verifier|nonce|^code$|assertion|accesskey|secretkey|ssn|cpr|socialno|hetu|personnummer/i;
/**
 * A compact JWS (three parts) or JWE (five parts, the second empty for `alg: dir`): Cognito's refresh
 * tokens and the broker's own cookies are JWEs, so the match runs over every part, empty ones too.
 */
const jwtLike = /eyJ[\w-]{5,}(?:\.[\w-]*){2,4}/g;
/** An error's `code` is logged when it is an identifier (ECONNREFUSED, invalid_grant), never free text. */
const errorCode = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** Replaces values of sensitive keys, and anything shaped like a JWT, with a marker. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.replace(jwtLike, '[redacted-jwt]');
  if (value === null || typeof value !== 'object') return value;
  if (depth > 6) return '[truncated]';
  if (value instanceof Error) {
    // An error's own `code` (ECONNREFUSED, an OAuth error) and its cause are what an operator needs
    // to tell a wrong endpoint from an outage; the `code` key filter below is for values, not errors.
    const { code, cause } = value as { code?: unknown; cause?: unknown };
    return {
      name: value.name,
      message: redact(value.message, depth + 1),
      ...(typeof code === 'string' && errorCode.test(code) ? { code } : {}),
      ...(cause !== undefined ? { cause: redact(cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = sensitiveKey.test(key) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

function parseLevel(value: string | undefined): LogLevel {
  const lower = value?.toLowerCase();
  if (lower === 'trace' || lower === 'debug') return 'debug';
  if (lower === 'warn' || lower === 'error' || lower === 'info') return lower;
  if (lower === 'fatal') return 'error';
  return 'info';
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; defaults to stdout. Tests capture lines here. */
  write?: (line: string) => void;
  base?: LogContext;
}

/** What a logger and its children share: the current invocation's context. */
interface InvocationState {
  context: LogContext;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return build(options, options.base ?? {}, { context: {} });
}

function build(options: LoggerOptions, base: LogContext, state: InvocationState): Logger {
  const threshold = levels[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit = (level: LogLevel, message: string, context?: LogContext) => {
    if (levels[level] < threshold) return;
    const line = {
      level: level.toUpperCase(),
      timestamp: new Date().toISOString(),
      message,
      ...state.context,
      ...base,
      ...context,
    };
    write(JSON.stringify(redact(line)));
  };
  return {
    debug: (m, c) => emit('debug', m, c),
    info: (m, c) => emit('info', m, c),
    warn: (m, c) => emit('warn', m, c),
    error: (m, c) => emit('error', m, c),
    child: (context) => build(options, { ...base, ...context }, state),
    setInvocation(context) {
      state.context = context ?? {};
    },
  };
}

/**
 * The container's logger. Lambda sets AWS_LAMBDA_LOG_LEVEL from the template's LoggingConfig;
 * LOG_LEVEL is the local equivalent.
 */
export const log: Logger = createLogger({
  level: parseLevel(process.env.AWS_LAMBDA_LOG_LEVEL ?? process.env.LOG_LEVEL),
});
