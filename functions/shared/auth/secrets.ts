/**
 * The two secrets of the sign-in flow: the app client secret and the cookie keys. Plain environment
 * values (local runs) are used as they are; in AWS they come from Secrets Manager.
 *
 * Each secret is read once per container and then again at most once per `secretsMaxAgeSeconds`. That
 * matters for the cookie keys: rotation is "add the new key, wait, make it current", and a container
 * must see the added key before any other container seals cookies with it. The read is
 * secrets-manager.ts (one signed GetSecretValue, contract-tested against the SDK's client), not the
 * SDK's client or Powertools Parameters: they cost a sign-in function's first request about 100 ms
 * (README "Performance").
 */
import { type BrokerError, ConfigError, UpstreamError } from '../errors.ts';
import { upstreamCall } from '../metrics.ts';
import type { GetSecretValue } from '../secrets-manager.ts';
import type { AuthConfig } from './config.ts';
import { type CookieKeyring, deriveKeyring } from './cookies.ts';
import { parseCookieKeySet } from './keyring.ts';

/** Reads a secret's string value by id. Injected in tests; Secrets Manager otherwise. */
export type SecretReader = (secretId: string) => Promise<string>;

/** How long a fetched secret is reused: the wait between the two steps of a key rotation. */
export const secretsMaxAgeSeconds = 900;

export interface SecretsManagerReaderOptions {
  /** Default: GetSecretValue in AWS_REGION, at AWS_ENDPOINT_URL_SECRETS_MANAGER when set (as the SDK does). */
  getSecretValue?: GetSecretValue;
  /** Timeout of one read (UPSTREAM_TIMEOUT_MS): a hanging read must not spend the function's Timeout. */
  timeoutMs?: number;
  /** Epoch milliseconds. */
  now?: () => number;
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A reader backed by Secrets Manager, caching each secret for `secretsMaxAgeSeconds`. A failed read is
 * not cached: the next request tries again.
 */
export function createSecretsManagerReader(options: SecretsManagerReaderOptions = {}): SecretReader {
  const now = options.now ?? Date.now;
  const env = options.env ?? process.env;
  let getSecretValue = options.getSecretValue;
  const cache = new Map<string, { value: Promise<string>; until: number }>();
  // The signer is imported on the first read: /credentials with a bearer token never reads a secret.
  const client = async (): Promise<GetSecretValue> => {
    const { createGetSecretValue } = await import('../secrets-manager.ts');
    getSecretValue ??= createGetSecretValue({
      region: env.AWS_REGION ?? '',
      endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL,
      timeoutMs: options.timeoutMs ?? 3000,
    });
    return getSecretValue;
  };
  return (secretId) => {
    const cached = cache.get(secretId);
    if (cached !== undefined && now() < cached.until) return cached.value;
    // The signer's import (first read only) is not the upstream's latency: only the call is counted.
    const value = (getSecretValue ? Promise.resolve(getSecretValue) : client()).then((get) =>
      upstreamCall('SecretsManager', () => read(get, secretId)),
    );
    cache.set(secretId, { value, until: now() + secretsMaxAgeSeconds * 1000 });
    value.catch(() => {
      if (cache.get(secretId)?.value === value) cache.delete(secretId);
    });
    return value;
  };
}

async function read(getSecretValue: GetSecretValue, secretId: string): Promise<string> {
  let value: Awaited<ReturnType<GetSecretValue>>;
  try {
    value = await getSecretValue(secretId);
  } catch (error) {
    throw translateSecretsError(error, secretId);
  }
  if (typeof value.SecretString !== 'string') {
    throw new ConfigError('A secret of the broker is not a string secret', {
      hint: `secret ${secretId} has no SecretString; store it as JSON text`,
    });
  }
  return value.SecretString;
}

export interface AuthSecrets {
  /** @throws ConfigError, UpstreamError. */
  clientSecret(): Promise<string>;
  /** @throws ConfigError, UpstreamError. */
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
  config: Pick<AuthConfig, 'cookieKeys'> & Partial<Pick<AuthConfig, 'clientSecret' | 'upstreamTimeoutMs'>>,
  reader: SecretReader = createSecretsManagerReader({ timeoutMs: config.upstreamTimeoutMs ?? 3000 }),
): AuthSecrets {
  let derived: { raw: string; keyring: CookieKeyring } | undefined;
  const plainKeyring =
    config.cookieKeys.source === 'environment' ? deriveKeyring(config.cookieKeys.value) : undefined;

  return {
    async clientSecret() {
      const setting = config.clientSecret;
      if (setting === undefined) {
        throw new ConfigError('The app client secret is not configured', {
          hint: 'set CLIENT_SECRET_ID (or USER_POOL_CLIENT_SECRET locally) for this function',
        });
      }
      if (setting.source === 'environment') return setting.value;
      const raw = await reader(setting.secretId);
      const secret = jsonField(raw, 'client_secret');
      if (secret === undefined) {
        throw new ConfigError('The app client secret is not readable', {
          hint: `secret ${setting.secretId} must be JSON like {"client_secret":"…"}`,
        });
      }
      return secret;
    },
    async cookieKeyring() {
      const setting = config.cookieKeys;
      if (setting.source === 'environment') return plainKeyring ?? deriveKeyring(setting.value);
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
        throw new ConfigError('The cookie keys are not readable', {
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
  const name = (error as { name?: unknown; code?: unknown })?.name;
  if (
    name === 'ResourceNotFoundException' ||
    name === 'AccessDeniedException' ||
    name === 'DecryptionFailure' ||
    name === 'UnrecognizedClientException' ||
    name === 'InvalidSignatureException' ||
    name === 'CredentialsProviderError'
  ) {
    return new ConfigError('A secret of the broker cannot be read', {
      cause: error,
      hint: `${String(name)} for ${secretId}: check the secret id, the function's region and its secretsmanager:GetSecretValue (and KMS) permissions`,
    });
  }
  return new UpstreamError('Secrets Manager could not be reached; try again', {
    statusCode: 503,
    code: 'secrets_unavailable',
    cause: error,
    hint: `GetSecretValue ${secretId} failed (${String((error as { code?: unknown })?.code ?? name)})`,
  });
}
