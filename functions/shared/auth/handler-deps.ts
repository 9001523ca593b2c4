import { log as containerLog, type Logger } from '../log.ts';
import type { FetchLike } from '../upstream-http.ts';
import { type AuthSecrets, createAuthSecrets } from './secrets.ts';

/** What an HTTP function's createHandler takes: its configuration, and what tests replace. */
export interface HandlerDeps<Config> {
  config: Config;
  /** Default: the container's logger. */
  log?: Logger;
  /** Default: read as the configuration says (environment or Secrets Manager). */
  secrets?: AuthSecrets;
  /** Default: node:https for keys, the global fetch for the token endpoint. */
  fetch?: FetchLike;
  /** Epoch milliseconds; default Date.now. */
  now?: () => number;
}

/** The deps with their defaults filled in (`fetch` stays optional: each client has its own default). */
export function withDefaults<Config extends Parameters<typeof createAuthSecrets>[0]>(
  deps: HandlerDeps<Config>,
) {
  return {
    config: deps.config,
    log: deps.log ?? containerLog,
    secrets: deps.secrets ?? createAuthSecrets(deps.config),
    fetch: deps.fetch,
    now: deps.now ?? Date.now,
  };
}
