/**
 * The audit trail: one structured line per sign-in, refresh, credential issue and sign-out. Only
 * identifiers and outcomes are written (provider name, identity id, a reason code), never names,
 * tokens, codes, cookies or national identifiers: the fields are an allow-list, not a spread.
 */
import type { Logger } from '../log.ts';

export type AuditAction = 'sign-in' | 'refresh' | 'credentials' | 'sign-out';
export type AuditOutcome = 'success' | 'failure';

export interface AuditFields {
  /** Cognito provider name, e.g. IDmeSandbox. */
  provider?: string | undefined;
  identityId?: string | undefined;
  /** A stable code: why it failed, or a note on success (e.g. `cached`, `not_revoked`). */
  reason?: string | undefined;
  requestId?: string | undefined;
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
    ...(fields.requestId ? { requestId: fields.requestId } : {}),
  };
  if (outcome === 'success') log.info(`${action} succeeded`, line);
  else log.warn(`${action} failed`, line);
}

/** The stable code of an error, for `reason`. */
export function reasonOf(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' ? code : 'internal_error';
}
