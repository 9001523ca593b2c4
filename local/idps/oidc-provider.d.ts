// oidc-provider ships no TypeScript types and @types/oidc-provider is not a dependency, so this file
// declares the small part of its API the stand-ins use. Configuration stays a loose record: the
// stand-ins build it in one place (common.ts) and oidc-provider validates it at construction.

declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export type Configuration = Record<string, unknown>;

  /** The artefact an account is looked up for: an authorization code or an access token. */
  export interface OidcToken {
    acr?: string;
    amr?: string[];
    authTime?: number;
    grantId?: string;
    scope?: string;
  }

  export interface OidcClient {
    clientId: string;
    scope?: string;
  }

  export interface OidcContext {
    oidc: {
      params?: Record<string, unknown>;
      client?: OidcClient;
      result?: { login?: unknown };
    };
  }

  export interface AccountClaims {
    sub: string;
    [claim: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): AccountClaims | Promise<AccountClaims>;
  }

  export interface InteractionDetails {
    uid: string;
    returnTo: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId?: string; uid?: string };
  }

  export interface InteractionResults {
    login?: { accountId: string; ts?: number; acr?: string; amr?: string[]; remember?: boolean };
    consent?: { grantId: string };
    error?: string;
    error_description?: string;
  }

  export interface GrantInstance {
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export interface Adapter {
    upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void>;
    find(id: string): Promise<Record<string, unknown> | undefined>;
    destroy(id: string): Promise<void>;
  }

  export type AdapterFactory = (model: string) => Adapter;

  export class Provider {
    constructor(issuer: string, configuration: Configuration);
    readonly issuer: string;
    readonly Grant: new (init: {
      accountId: string;
      clientId: string;
    }) => GrantInstance;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    on(event: string, listener: (...args: never[]) => void): this;
  }

  export class OIDCProviderError extends Error {
    error: string;
    error_description?: string;
    statusCode: number;
  }

  export const errors: {
    InvalidScope: new (description: string, scope?: string) => OIDCProviderError;
    InvalidRequest: new (description: string) => OIDCProviderError;
  };

  export interface Check {
    readonly reason: string;
  }

  export interface Prompt {
    readonly name: string;
    readonly checks: Check[] & { add(check: Check, index?: number): void };
  }

  export const interactionPolicy: {
    base(): Prompt[] & { get(name: string): Prompt | undefined };
    Check: {
      new (
        reason: string,
        description: string,
        check: (ctx: OidcContext) => boolean | Promise<boolean>,
      ): Check;
      readonly REQUEST_PROMPT: true;
      readonly NO_NEED_TO_PROMPT: false;
    };
  };

  export default Provider;
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  import type { AdapterFactory } from 'oidc-provider';

  /** The memory adapter oidc-provider uses by default, with a store private to one provider. */
  export function createMemoryAdapter(clockTolerance?: number): AdapterFactory;
}
