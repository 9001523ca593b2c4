/**
 * What CloudWatch Logs does with the functions' output offline: every line that is an embedded metric
 * format (EMF) document becomes metric datapoints, read by the specification
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * Where the specification leaves room, the strictest reading applies: a line with any invalid part
 * yields no datapoint at all (and is kept in `invalid`, so a test sees it).
 */

export interface Datapoint {
  namespace: string;
  name: string;
  unit: string;
  /** One dimension set, with the values the document gives its dimensions. */
  dimensions: Record<string, string>;
  values: number[];
  /** Epoch milliseconds, from `_aws.Timestamp`. */
  timestamp: number;
  /** Whether this is the first dimension set of its metric in the document (so a document counts once). */
  first: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const validName = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 255;
// CloudWatch's units (the specification's list) and the storage resolutions it accepts.
const units = new Set([
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
]);

/**
 * The datapoints of one log line: `undefined` when the line is no EMF document (not JSON, or no
 * `_aws`), and an Error when it claims to be one but breaks the specification.
 */
export function parseEmf(line: string): Datapoint[] | Error | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(root) || !('_aws' in root)) return undefined;
  const aws = root._aws;
  if (!isObject(aws)) return new Error('_aws is not an object');
  const timestamp = aws.Timestamp;
  if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp < 0)
    return new Error('_aws.Timestamp is not epoch milliseconds');
  if (!Array.isArray(aws.CloudWatchMetrics)) return new Error('_aws.CloudWatchMetrics is not an array');
  const out: Datapoint[] = [];
  for (const directive of aws.CloudWatchMetrics) {
    if (!isObject(directive)) return new Error('a metric directive is not an object');
    const { Namespace: namespace, Dimensions: sets, Metrics: metrics } = directive;
    if (!validName(namespace) || !/\S/.test(namespace)) return new Error('invalid Namespace');
    if (!Array.isArray(sets) || !Array.isArray(metrics)) return new Error('Dimensions or Metrics missing');
    if (metrics.length > 100) return new Error('more than 100 metrics in a directive');
    for (const set of sets) {
      if (!Array.isArray(set) || set.length > 30)
        return new Error('a dimension set is not a list of at most 30');
      for (const dimension of set) {
        if (typeof dimension !== 'string' || typeof root[dimension] !== 'string' || root[dimension] === '')
          return new Error(`dimension ${String(dimension)} has no string value`);
      }
    }
    for (const metric of metrics) {
      if (!isObject(metric) || !validName(metric.Name)) return new Error('a metric has no valid Name');
      const unit = metric.Unit ?? 'None';
      if (typeof unit !== 'string' || !units.has(unit))
        return new Error(`${metric.Name}: unknown Unit ${String(unit)}`);
      const resolution = metric.StorageResolution;
      if (resolution !== undefined && resolution !== 1 && resolution !== 60)
        return new Error(`${metric.Name}: StorageResolution must be 1 or 60`);
      const raw = root[metric.Name];
      const values = Array.isArray(raw) ? raw : [raw];
      if (
        values.length === 0 ||
        values.length > 100 ||
        !values.every((v) => typeof v === 'number' && Number.isFinite(v))
      )
        return new Error(`${metric.Name}: its value is not a number or a list of at most 100 numbers`);
      // No dimension set at all is one datapoint without dimensions.
      for (const [index, set] of (sets.length > 0 ? (sets as string[][]) : [[]]).entries()) {
        out.push({
          first: index === 0,
          namespace,
          name: metric.Name,
          unit,
          dimensions: Object.fromEntries(set.map((d) => [d, root[d] as string])),
          values: values as number[],
          timestamp,
        });
      }
    }
  }
  return out;
}

/** `Name{a=1,b=2}`: a metric and one of its dimension sets, dimensions sorted, some left out. */
export function metricKey(
  point: Pick<Datapoint, 'name' | 'dimensions'>,
  omit: readonly string[] = [],
): string {
  const dims = Object.entries(point.dimensions)
    .filter(([k]) => !omit.includes(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  return `${point.name}{${dims.join(',')}}`;
}

/** Collects the datapoints of everything written to it, line by line, per source. */
export class MetricsCollector {
  readonly datapoints: Datapoint[] = [];
  /** Lines that claimed to be EMF but were invalid, with why. */
  readonly invalid: Array<{ line: string; error: string }> = [];

  /** A line-buffered writer for one source (one function's stdout): chunks may split lines. */
  writer(): (chunk: string | Uint8Array) => void {
    let pending = '';
    return (chunk) => {
      const text = pending + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const lines = text.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.ingest(line);
    };
  }

  /**
   * Reads the lines of one write to this process's stdout: each function writes whole lines, and what
   * others write (the test runner's own protocol) must not run into them, so nothing carries over.
   */
  ingestWrite(chunk: string | Uint8Array): void {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const line of text.split('\n')) this.ingest(line);
  }

  /** Reads one complete line; returns whether it was an EMF document. */
  ingest(line: string): boolean {
    const parsed = parseEmf(line);
    if (parsed === undefined) return false;
    if (parsed instanceof Error) this.invalid.push({ line, error: parsed.message });
    else this.datapoints.push(...parsed);
    return true;
  }

  clear(): void {
    this.datapoints.length = 0;
    this.invalid.length = 0;
  }

  /**
   * Totals by metric and dimension set (`metricKey`), as CloudWatch's statistics give them: the Sum
   * of a Count metric, the SampleCount of any other (a latency's values are not deterministic).
   */
  totals(
    options: { omit?: readonly string[]; since?: number; namespace?: string } = {},
  ): Record<string, number> {
    const out: Record<string, number> = {};
    for (const point of this.datapoints) {
      if (options.since !== undefined && point.timestamp < options.since) continue;
      if (options.namespace !== undefined && point.namespace !== options.namespace) continue;
      const key = metricKey(point, options.omit);
      const value = point.unit === 'Count' ? point.values.reduce((a, b) => a + b, 0) : point.values.length;
      out[key] = (out[key] ?? 0) + value;
    }
    return out;
  }

  /** One line for a person: each Count metric's total (each document counted once), by name. */
  summary(since?: number): string {
    const totals = new Map<string, number>();
    for (const point of this.datapoints) {
      if (!point.first || point.unit !== 'Count' || (since !== undefined && point.timestamp < since))
        continue;
      totals.set(point.name, (totals.get(point.name) ?? 0) + point.values.reduce((a, b) => a + b, 0));
    }
    const parts = [...totals]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, total]) => `${name}=${total}`);
    return parts.length === 0 ? 'no metrics' : parts.join(' ');
  }
}

/** Taps removed while a later one still called through them: what each one wrapped. */
const removedTaps = new Map<typeof process.stdout.write, typeof process.stdout.write>();

/**
 * Feeds everything this process writes to stdout to `write` as well (for functions run in this
 * process, which write their EMF lines there, as in Lambda; the offline stack's runtimes pass their
 * lines to its own collector instead). Returns the function that removes the tap, in any order.
 */
export function tapStdout(write: (chunk: string | Uint8Array) => void): () => void {
  const original = process.stdout.write;
  let active = true;
  const tap = function tapped(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    if (active && (typeof chunk === 'string' || chunk instanceof Uint8Array)) write(chunk);
    return original.call(this, chunk as string, ...(rest as []));
  } as typeof process.stdout.write;
  process.stdout.write = tap;
  return () => {
    if (!active) return;
    active = false;
    if (process.stdout.write !== tap) {
      // A later tap calls through this one: it stays a pass-through until that one goes.
      removedTaps.set(tap, original);
      return;
    }
    let restored = original;
    for (let next = removedTaps.get(restored); next !== undefined; next = removedTaps.get(restored)) {
      removedTaps.delete(restored);
      restored = next;
    }
    process.stdout.write = restored;
  };
}
