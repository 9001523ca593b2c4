/** Helpers for the doctor's tests: finding lookups and a fetch that serves fixed documents. */
import assert from 'node:assert/strict';
import type { Finding, Severity } from '../../../tools/doctor/findings.ts';
import type { Fetch } from '../../../tools/doctor/net.ts';

export function errorsOf(findings: readonly Finding[]): Finding[] {
  return findings.filter((f) => f.severity === 'error');
}

/** The one finding with this id (and subject, when given); fails the test when absent or ambiguous. */
export function findingOf(findings: readonly Finding[], id: string, subject?: string): Finding {
  const matches = findings.filter((f) => f.id === id && (subject === undefined || f.subject === subject));
  assert.equal(
    matches.length,
    1,
    `expected one ${id}${subject ? ` of ${subject}` : ''}, got ${JSON.stringify(matches)}`,
  );
  return matches[0] as Finding;
}

export function assertSeverity(
  findings: readonly Finding[],
  id: string,
  severity: Severity,
  subject?: string,
): Finding {
  const finding = findingOf(findings, id, subject);
  assert.equal(finding.severity, severity, `${id}: ${finding.message}`);
  if (severity !== 'ok') assert.ok(finding.fix && finding.fix.length > 20, `${id} names a fix`);
  return finding;
}

export function assertNoErrors(findings: readonly Finding[]): void {
  assert.deepEqual(
    errorsOf(findings).map((f) => `${f.id} ${f.subject}: ${f.message}`),
    [],
  );
}

/** A fetch answering JSON documents by URL, 404 otherwise; records the URLs asked for. */
export function fakeFetch(documents: Record<string, unknown>): Fetch & { urls: string[] } {
  const urls: string[] = [];
  const fn = async (input: string | URL): Promise<Response> => {
    const url = String(input);
    urls.push(url);
    if (!(url in documents)) return new Response('not found', { status: 404 });
    return Response.json(documents[url]);
  };
  return Object.assign(fn, { urls });
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}
