/**
 * Cognito pre token generation trigger: the Lambda entry. The provider table is read from the
 * environment once per container; an invalid one is logged and the defaults apply, because a trigger
 * that fails would fail every sign-in.
 */
import { parseProviderTable } from '../shared/claims/providers.ts';
import { log } from '../shared/log.ts';
import { createHandler } from './app.ts';

const parsed = parseProviderTable(process.env);
if (parsed.problems.length > 0) {
  log.error('PROVIDER_TABLE ignored; using the default provider table', { problems: parsed.problems });
}

export const handler = createHandler({ config: { providers: parsed.table }, log, now: () => new Date() });
