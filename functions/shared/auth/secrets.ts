/**
 * The two secrets of the sign-in flow: the app client secret and the cookie keys. Plain environment
 * values (local runs) are used as they are; in AWS they come from Secrets Manager.
 *
 * Why Powertools Parameters (`@aws-lambda-powertools/parameters`): it is AWS's maintained utility for
 * exactly this (one SDK call, an in-memory cache per container, typed errors), and its cache has a
 * maximum age. That matters for the cookie keys: rotation is "add the new key, wait, make it current",
 * and a container must see the added key before any other container seals cookies with it. A promise
 * cached forever would need every warm container to be recycled; `@middy/secrets-manager` stops at
 * 6.4.5 and pulls a second, older `@middy/util` next to our `@middy/core` 7. So each secret is fetched
 * once per container and then at most once per `secretsMaxAgeSeconds`.
 */
import type { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { AuthConfig } from '../config.ts';
import { type BrokerError, ConfigurationError, UpstreamError } from '../errors.ts';
import { type CookieKeyring, deriveKeyring } from './cookies.ts';
import { parseCookieKeySet } from './keyring.ts';

/** Reads a secret's string value by id. Injected in tests; Secrets Manager through Powertools otherwise. */
export type SecretReader = (secretId: string) => Promise<string>;

/** How long a fetched secret is reused: the wait between the two steps of a key rotation. */
export const secretsMaxAgeSeconds = 900;

/**
 * A reader backed by Powertools' SecretsProvider (created on first use, so local runs never build an
 * SDK client). Its client has the same timeouts as every other upstream call (UPSTREAM_TIMEOUT_MS):
 * the SDK's defaults have none, and a hanging read would spend the function's whole Timeout.
 */
export function createSecretsManagerReader(provider?: () => SecretsProvider, timeoutMs = 3000): SecretReader {
  let instance: SecretsProvider | undefined;
  return async (secretId) => {
    instance ??= provider?.() ?? (await newSecretsProvider(timeoutMs));
    let value: unknown;
    try {
      value = await instance.get(secretId, { maxAge: secretsMaxAgeSeconds });
    } catch (error) {
      throw translateSecretsError(error, secretId);
    }
    if (typeof value !== 'string') {
      throw new ConfigurationError('A secret of the broker is not a string secret', {
        hint: `secret ${secretId} has no SecretString; store it as JSON text`,
      });
    }
    return value;
  };
}

/**
 * Powertools and the Secrets Manager client are imported on the first read, not with the module: a
 * function only pays for them (70 ms or more of a cold start, bench/results.json) when it reads a
 * secret from Secrets Manager, and /credentials with a bearer token never does.
 */
async function newSecretsProvider(timeoutMs: number): Promise<SecretsProvider> {
  const { SecretsProvider } = await import('@aws-lambda-powertools/parameters/secrets');
  return new SecretsProvider({
    clientConfig: {
      maxAttempts: 2,
      // Without throwOnRequestTimeout the SDK's HTTP handler only warns when requestTimeout passes.
      requestHandler: {
        connectionTimeout: Math.min(1_000, timeoutMs),
        requestTimeout: timeoutMs,
        throwOnRequestTimeout: true,
      },
    },
  });
}

export interface AuthSecrets {
  /** @throws ConfigurationError, UpstreamError. */
  clientSecret(): Promise<string>;
  /** @throws ConfigurationError, UpstreamError. */
  cookieKeyring(): Promise<CookieKeyring>;
}

/**
 * The function's view of its secrets. Keys are derived again only when the secret's text changes.
 *
 * @example
 *   const secrets = createAuthSecrets(config);            // module scope
 *   const keyring = await secrets.cookieKeyring();         // per request (cached)
 */
export function createAuthSecrets(
  config: Pick<AuthConfig, 'clientSecret' | 'cookieKeys'> & Partial<Pick<AuthConfig, 'upstreamTimeoutMs'>>,
  reader: SecretReader = createSecretsManagerReader(undefined, config.upstreamTimeoutMs),
): AuthSecrets {
  let derived: { raw: string; keyring: CookieKeyring } | undefined;
  const plainKeyring =
    config.cookieKeys.source === 'environment' ? deriveKeyring(config.cookieKeys.value) : undefined;

  return {
    async clientSecret() {
      const setting = config.clientSecret;
      if (setting === undefined) {
        throw new ConfigurationError('The app client secret is not configured', {
          hint: 'set CLIENT_SECRET_ID (or USER_POOL_CLIENT_SECRET locally) for this function',
        });
      }
      if (setting.source === 'environment') return setting.value;
      const raw = await reader(setting.secretId);
      const secret = jsonField(raw, 'client_secret');
      if (secret === undefined) {
        throw new ConfigurationError('The app client secret is not readable', {
          hint: `secret ${setting.secretId} must be JSON like {"client_secret":"…"}`,
        });
      }
      return secret;
    },
    async cookieKeyring() {
      if (plainKeyring !== undefined) return plainKeyring;
      const setting = config.cookieKeys;
      if (setting.source !== 'secrets-manager') throw new Error('unreachable');
      const raw = await reader(setting.secretId);
      if (derived?.raw === raw) return derived.keyring;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = undefined;
      }
      const result = parseCookieKeySet(parsed, `secret ${setting.secretId}`);
      if (result.keys === undefined) {
        throw new ConfigurationError('The cookie keys are not readable', {
          hint: result.problems.join('; '),
        });
      }
      derived = { raw, keyring: deriveKeyring(result.keys) };
      return derived.keyring;
    },
  };
}

function jsonField(raw: string, field: string): string | undefined {
  try {
    const value = (JSON.parse(raw) as Record<string, unknown>)[field];
    return typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    return undefined;
  }
}

function translateSecretsError(error: unknown, secretId: string): BrokerError {
  // Powertools' GetParameterError, by name: its class lives in the module loaded on first read.
  const wrapped = (error as { name?: unknown; cause?: unknown } | undefined) ?? {};
  const cause = wrapped.name === 'GetParameterError' && wrapped.cause !== undefined ? wrapped.cause : error;
  const name = (cause as { name?: unknown })?.name;
  if (
    name === 'ResourceNotFoundException' ||
    name === 'AccessDeniedException' ||
    name === 'DecryptionFailure'
  ) {
    return new ConfigurationError('A secret of the broker cannot be read', {
      cause,
      hint: `${String(name)} for ${secretId}: check the secret id and the function's secretsmanager:GetSecretValue (and KMS) permissions`,
    });
  }
  return new UpstreamError('Secrets Manager could not be reached; try again', {
    statusCode: 503,
    code: 'secrets_unavailable',
    cause,
    hint: `GetSecretValue ${secretId} failed (${String(name)})`,
  });
}
