/** Renders a report: grouped text for people (one line per finding, the fix indented below), JSON for machines. */
import { type Finding, type Group, groups, type Report, type Severity, summarize } from './findings.ts';

const titles: Record<Group, string> = {
  idp: 'Identity providers (what Cognito requires of an OIDC IdP)',
  wiring: 'Broker wiring (user pool, IdPs, app client, identity pool)',
  config: 'Broker configuration (what the functions parse at start)',
  offline: 'Offline stack (stand-ins, a real sign-in, the logins key)',
};

const marks: Record<Severity, string> = { error: 'ERROR', warning: 'warn ', ok: 'ok   ' };
const colors: Record<Severity, string> = { error: '\x1b[31;1m', warning: '\x1b[33m', ok: '\x1b[32m' };
const dim = '\x1b[2m';
const reset = '\x1b[0m';

export interface TextOptions {
  /** Only errors and warnings. */
  readonly quiet?: boolean;
  /** ANSI colours (a terminal without NO_COLOR). */
  readonly color?: boolean;
}

export function renderText(report: Report, options: TextOptions = {}): string {
  const paint = (code: string, text: string) => (options.color ? `${code}${text}${reset}` : text);
  const shown = report.findings.filter((f) => !options.quiet || f.severity !== 'ok');
  const width = Math.max(0, ...shown.map((f) => f.id.length));
  const lines = ['Federation broker doctor', ...report.sources.map((s) => `  checked: ${s}`)];
  for (const note of report.notes) lines.push(`  note: ${note}`);
  for (const group of groups) {
    const items = shown.filter((f) => f.group === group);
    if (items.length === 0) continue;
    lines.push('', titles[group]);
    for (const f of items) lines.push(...renderFinding(f, width, paint));
  }
  const s = summarize(report.findings);
  const hidden = options.quiet && s.ok > 0 ? ` (ok findings hidden: drop --quiet to see them)` : '';
  lines.push(
    '',
    `Result: ${plural(s.errors, 'error')}, ${plural(s.warnings, 'warning')}, ${s.ok} ok${hidden}`,
  );
  return `${lines.join('\n')}\n`;
}

function renderFinding(f: Finding, width: number, paint: (code: string, text: string) => string): string[] {
  const flag = f.offlineOnly ? ' [offline only]' : '';
  const line = `  ${paint(colors[f.severity], marks[f.severity])} ${f.id.padEnd(width)}  ${f.subject}: ${f.message}${flag}`;
  return f.fix === undefined ? [line] : [line, paint(dim, `        fix: ${f.fix}`)];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function renderJson(report: Report): string {
  const summary = summarize(report.findings);
  return `${JSON.stringify(
    {
      ok: summary.errors === 0,
      summary,
      sources: report.sources,
      notes: report.notes,
      findings: report.findings,
    },
    null,
    2,
  )}\n`;
}
