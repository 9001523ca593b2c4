/**
 * The audit trail: one structured line per sign-in, refresh, credential issue and sign-out. Only
 * identifiers and outcomes are written (provider name, identity id, a reason code), never names,
 * tokens, codes, cookies or national identifiers: the fields are an allow-list, not a spread. The
 * request id comes from the logger's invocation context (Logger.setInvocation). Each line
 * is also counted as a metric (metrics.ts), so the dashboard and the audit trail cannot disagree.
 */
import type { Logger } from '../log.ts';
import { recordCredentialsIssued, recordRefresh, recordSignIn, recordSignOut } from '../metrics.ts';

export type AuditAction = 'sign-in' | 'refresh' | 'credentials' | 'sign-out';
export type AuditOutcome = 'success' | 'failure';

export interface AuditFields {
  /** Cognito provider name, e.g. IDmeSandbox. */
  provider?: string | undefined;
  identityId?: string | undefined;
  /** A stable code: why it failed, or a note on success (e.g. `cached`, `not_revoked`). */
  reason?: string | undefined;
  /** How the caller authenticated (credentials only). */
  via?: 'bearer' | 'session' | undefined;
}

/** @example audit(log, 'sign-in', 'success', { provider: 'IDmeSandbox', identityId }); */
export function audit(
  log: Logger,
  action: AuditAction,
  outcome: AuditOutcome,
  fields: AuditFields = {},
): void {
  const line = {
    audit: action,
    outcome,
    provider: fields.provider ?? null,
    identityId: fields.identityId ?? null,
    reason: fields.reason ?? null,
    ...(fields.via ? { via: fields.via } : {}),
  };
  if (outcome === 'success') log.info(`${action} succeeded`, line);
  else log.warn(`${action} failed`, line);
  count(action, outcome, fields);
}

function count(action: AuditAction, outcome: AuditOutcome, fields: AuditFields): void {
  const ok = outcome === 'success';
  if (action === 'sign-in') recordSignIn(ok ? 'succeeded' : 'failed', fields.provider, fields.reason);
  // Refused credentials are counted by the HTTP answer (ErrorResponses, by error code).
  else if (action === 'credentials' && ok && fields.via !== undefined)
    recordCredentialsIssued(fields.via, fields.reason === 'cached');
  else if (action === 'refresh') recordRefresh(ok ? 'ok' : (fields.reason ?? 'internal_error'));
  else if (action === 'sign-out')
    recordSignOut(ok ? (fields.reason ?? 'revoked') : (fields.reason ?? 'revoke_failed'));
}

/** The stable code of an error, for `reason`. */
export function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'internal_error';
}
