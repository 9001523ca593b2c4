/**
 * What the doctor reports: findings with a stable id, a severity, what is wrong and how to fix it.
 * Check functions return plain arrays of findings; the report groups and renders them.
 */

const severities = ['error', 'warning', 'ok'] as const;
export type Severity = (typeof severities)[number];

/** Where a finding belongs: an upstream IdP, the broker's Cognito wiring, its own configuration, the offline stack. */
export const groups = ['idp', 'wiring', 'config', 'offline'] as const;
export type Group = (typeof groups)[number];

export interface Finding {
  /** Stable, e.g. `idp.jwks.kid`; docs/doctor.md lists every id. */
  readonly id: string;
  readonly severity: Severity;
  readonly group: Group;
  /** What the finding is about: a provider name, an issuer, a resource, a variable. */
  readonly subject: string;
  readonly message: string;
  /** What to do; present on every error and warning. */
  readonly fix?: string;
  /** Passed only because the offline stack's loopback http is accepted (Cognito in AWS would refuse it). */
  readonly offlineOnly?: boolean;
}

export interface Report {
  /** What was examined, e.g. "template.yaml with samconfig.toml [default]". */
  readonly sources: readonly string[];
  readonly findings: readonly Finding[];
  /** Things worth saying that are not findings (what was skipped and why). */
  readonly notes: readonly string[];
}

export interface Summary {
  readonly errors: number;
  readonly warnings: number;
  readonly ok: number;
}

/** Collects findings about one subject of one group. */
export class FindingList {
  readonly findings: Finding[] = [];
  readonly group: Group;
  readonly subject: string;

  constructor(group: Group, subject: string) {
    this.group = group;
    this.subject = subject;
  }

  ok(id: string, message: string, extra: { offlineOnly?: boolean } = {}): void {
    this.findings.push({
      id,
      severity: 'ok',
      group: this.group,
      subject: this.subject,
      message,
      ...(extra.offlineOnly ? { offlineOnly: true } : {}),
    });
  }

  warning(id: string, message: string, fix: string): void {
    this.findings.push({ id, severity: 'warning', group: this.group, subject: this.subject, message, fix });
  }

  error(id: string, message: string, fix: string): void {
    this.findings.push({ id, severity: 'error', group: this.group, subject: this.subject, message, fix });
  }
}

export function summarize(findings: readonly Finding[]): Summary {
  return {
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warning').length,
    ok: findings.filter((f) => f.severity === 'ok').length,
  };
}

/** 1 when any finding is an error, else 0. */
export function exitCodeOf(report: Report): number {
  return report.findings.some((f) => f.severity === 'error') ? 1 : 0;
}
