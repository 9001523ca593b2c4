import type { Context } from 'aws-lambda';
import type { ProviderTable } from '../shared/claims/providers.ts';
import { normalizeTokenEvent } from '../shared/claims/trigger.ts';
import type { PreTokenEvent } from '../shared/claims/types.ts';
import type { Logger } from '../shared/log.ts';

export interface TriggerHandlerDeps {
  config: { providers: ProviderTable };
  log: Logger;
  now: () => Date;
}

/**
 * The trigger around its collaborators; tests pass a provider table, a logger and a clock. The
 * invocation's request id and function go on each of its log lines (Logger.setInvocation).
 */
export function createHandler({ config, log, now }: TriggerHandlerDeps) {
  let coldStart = true;
  return async (event: PreTokenEvent, context?: Partial<Context>): Promise<PreTokenEvent> => {
    if (context !== undefined) {
      log.setInvocation({ requestId: context.awsRequestId, function: context.functionName, coldStart });
      coldStart = false;
    }
    try {
      return normalizeTokenEvent(event, { providers: config.providers, log, now });
    } finally {
      log.setInvocation(undefined);
    }
  };
}
