/**
 * A node:test reporter that ends the run with one line per test folder: how many tests ran, passed,
 * failed and were skipped, and how long they took. Product tests (unit, integration, security,
 * browser) and tooling tests (the offline stack's, the doctor's) are told apart and timed.
 * `npm test` uses it beside the spec reporter.
 */
import { relative } from 'node:path';

/** Folders reported on their own, most specific first. */
const folders = [
  ['test/unit/local', 'offline stack (emulator)'],
  ['test/unit/doctor', 'doctor'],
  ['test/unit', 'unit'],
  ['test/integration', 'integration'],
  ['test/security', 'security'],
  ['test/browser', 'browser'],
] as const;

interface Tally {
  tests: number;
  failed: number;
  skipped: number;
  /** Sum of the top-level tests' and suites' durations. */
  inTestsMs: number;
}

interface TestEvent {
  type: string;
  data: {
    file?: string;
    nesting: number;
    skip?: unknown;
    todo?: unknown;
    details?: { type?: string; duration_ms?: number };
  };
}

function folderOf(file: string): string {
  const path = relative(process.cwd(), file).replaceAll('\\', '/');
  return folders.find(([prefix]) => path.startsWith(`${prefix}/`))?.[0] ?? 'other';
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export default async function* perFolder(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const tallies = new Map<string, Tally>();
  const tally = (file: string) => {
    const folder = folderOf(file);
    let t = tallies.get(folder);
    if (t === undefined) {
      t = { tests: 0, failed: 0, skipped: 0, inTestsMs: 0 };
      tallies.set(folder, t);
    }
    return t;
  };
  for await (const event of source) {
    const { file } = event.data ?? {};
    if (file === undefined) continue;
    if (event.type === 'test:start') tally(file);
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const t = tally(file);
    if (event.data.nesting === 0) t.inTestsMs += event.data.details?.duration_ms ?? 0;
    if (event.data.details?.type === 'suite') continue;
    t.tests += 1;
    if (event.type === 'test:fail') t.failed += 1;
    else if (event.data.skip !== undefined || event.data.todo !== undefined) t.skipped += 1;
  }
  const rows = [...folders.map(([prefix, name]) => [prefix, name] as const), ['other', 'other'] as const]
    .filter(([prefix]) => tallies.has(prefix))
    .map(([prefix, name]) => {
      const t = tallies.get(prefix) as Tally;
      const passed = t.tests - t.failed - t.skipped;
      return `  ${`${prefix}/`.padEnd(20)} ${name.padEnd(25)} ${String(t.tests).padStart(5)} tests  ${String(passed).padStart(5)} passed  ${String(t.failed).padStart(3)} failed  ${String(t.skipped).padStart(3)} skipped  ${seconds(t.inTestsMs).padStart(8)}`;
    });
  yield `\nTests by folder (time: the folder's top-level tests and suites, summed over its files, which run in parallel):\n${rows.join('\n')}\n`;
}
