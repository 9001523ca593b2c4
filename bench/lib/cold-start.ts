/**
 * Cold starts: each case is a fresh Node process (cold-start-child.mjs) that imports one bundle and
 * serves one request against the local upstreams. Cases run round-robin, so drift in the machine's
 * speed spreads over all of them instead of favouring whichever ran first.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../local/api.ts';
import { outRoot } from './build.ts';
import type { FirstRequest } from './events.ts';
import { median } from './stats.ts';

export interface ColdCase {
  /** Unique key, e.g. `CredentialsFunction (bearer)/bundled`. */
  key: string;
  handlerFile: string;
  request: Pick<FirstRequest, 'event' | 'expect' | 'env'>;
  nodeOptions: string;
}

interface Sample {
  importMs: number;
  firstRequestMs: number;
  coldStartMs: number;
  coldStartCpuMs: number;
  bootMs: number;
  /** Spawn to exit, measured by this process. */
  processMs: number;
}

export interface ColdResult {
  key: string;
  runs: number;
  /** Medians, milliseconds. */
  importMs: number;
  firstRequestMs: number;
  /** Import plus first request: what the function itself adds to a cold invoke. */
  coldStartMs: number;
  /** CPU time (user + system) of import and first request: less sensitive to a busy machine. */
  coldStartCpuMs: number;
  bootMs: number;
  processMs: number;
}

const childScript = join(repoRoot, 'bench', 'cold-start-child.mjs');

function runOnce(c: ColdCase, eventFile: string, resultFile: string): Promise<Sample> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    TZ: ':UTC',
    LANG: 'en_US.UTF-8',
    ...c.request.env,
    ...(c.nodeOptions ? { NODE_OPTIONS: c.nodeOptions } : {}),
  };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, c.handlerFile, eventFile, resultFile], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const processMs = performance.now() - started;
      let result: Record<string, unknown>;
      try {
        result = JSON.parse(readFileSync(resultFile, 'utf8')) as Record<string, unknown>;
      } catch {
        reject(new Error(`${c.key}: the child wrote no result (exit ${code}): ${stderr.slice(0, 2000)}`));
        return;
      }
      const { expect } = c.request;
      const body = String(result.body ?? '');
      if (
        result.error !== undefined ||
        (expect.statusCode !== undefined && result.statusCode !== expect.statusCode) ||
        (expect.bodyIncludes !== undefined && !body.includes(expect.bodyIncludes))
      ) {
        reject(
          new Error(
            `${c.key}: the first request did not succeed (status ${String(result.statusCode)}): ${String(result.error ?? body).slice(0, 1500)}\n${stderr.slice(0, 1500)}`,
          ),
        );
        return;
      }
      resolve({
        importMs: Number(result.importMs),
        firstRequestMs: Number(result.firstRequestMs),
        coldStartMs: Number(result.coldStartMs),
        coldStartCpuMs: Number(result.coldStartCpuMs),
        bootMs: Number(result.bootMs),
        processMs,
      });
    });
  });
}

/** Runs every case `runs` times, round-robin, and returns the medians. */
export async function measureColdStarts(
  cases: ColdCase[],
  runs: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, ColdResult>> {
  const dir = join(outRoot, 'cold-start');
  mkdirSync(dir, { recursive: true });
  const eventFiles = cases.map((c, i) => {
    const file = join(dir, `event-${i}.json`);
    writeFileSync(file, JSON.stringify(c.request.event));
    return file;
  });
  const samples = cases.map((): Sample[] => []);
  // One unmeasured round first: the OS file cache, not the function, would otherwise pay for run one.
  for (let round = -1; round < runs; round++) {
    for (const [i, c] of cases.entries()) {
      const sample = await runOnce(c, eventFiles[i] as string, join(dir, `result-${i}.json`));
      if (round >= 0) samples[i]?.push(sample);
      onProgress?.((round + 1) * cases.length + i + 1, (runs + 1) * cases.length);
    }
  }
  const out = new Map<string, ColdResult>();
  for (const [i, c] of cases.entries()) {
    const s = samples[i] ?? [];
    out.set(c.key, {
      key: c.key,
      runs: s.length,
      importMs: median(s.map((x) => x.importMs)),
      firstRequestMs: median(s.map((x) => x.firstRequestMs)),
      coldStartMs: median(s.map((x) => x.coldStartMs)),
      coldStartCpuMs: median(s.map((x) => x.coldStartCpuMs)),
      bootMs: median(s.map((x) => x.bootMs)),
      processMs: median(s.map((x) => x.processMs)),
    });
  }
  return out;
}
