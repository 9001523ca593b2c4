/**
 * Captures the broker's log lines in this process. functions/shared/log.ts writes one JSON line per
 * call with `process.stdout.write`, and the offline stack runs the functions in the test's process, so
 * patching that method sees every function log line. Anything that is not a log line (the test
 * runner's own output) is passed through untouched.
 */

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

export interface LogCapture {
  /** Every log line since the capture started (or was cleared), parsed. */
  readonly lines: LogLine[];
  /** The same lines exactly as written. */
  readonly raw: string[];
  clear(): void;
  /** Puts the original `process.stdout.write` back. */
  restore(): void;
}

export function captureLogs(options: { echo?: boolean } = {}): LogCapture {
  const original = process.stdout.write;
  const lines: LogLine[] = [];
  const raw: string[] = [];
  let pending = '';
  const take = (text: string): boolean => {
    const candidate = pending + text;
    if (!candidate.startsWith('{"level":')) return false;
    const parts = candidate.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) {
      if (part === '') continue;
      raw.push(part);
      try {
        lines.push(JSON.parse(part) as LogLine);
      } catch {
        lines.push({ level: 'UNPARSEABLE', message: part });
      }
    }
    return true;
  };
  process.stdout.write = function write(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    const text =
      typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString() : '';
    if (take(text) && !options.echo) {
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }
    return original.call(this, chunk as string, ...(rest as []));
  } as typeof process.stdout.write;
  return {
    lines,
    raw,
    clear() {
      lines.length = 0;
      raw.length = 0;
    },
    restore() {
      process.stdout.write = original;
    },
  };
}
