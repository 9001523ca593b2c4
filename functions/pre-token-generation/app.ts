import type { ProviderTable } from '../shared/claims/providers.ts';
import { normalizeTokenEvent } from '../shared/claims/trigger.ts';
import type { PreTokenEvent } from '../shared/claims/types.ts';
import type { Logger } from '../shared/log.ts';

export interface TriggerHandlerDeps {
  config: { providers: ProviderTable };
  log: Logger;
  now: () => Date;
}

/** The trigger around its collaborators; tests pass a provider table, a logger and a clock. */
export function createHandler({ config, log, now }: TriggerHandlerDeps) {
  return async (event: PreTokenEvent): Promise<PreTokenEvent> =>
    normalizeTokenEvent(event, { providers: config.providers, log, now });
}
