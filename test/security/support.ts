/**
 * The offline stack pointed at a hostile OpenID provider (test/helpers/hostile-op.ts): the broker's
 * functions run unchanged behind the local API, but the "user pool" whose tokens they verify and
 * whose token endpoint they call is the hostile one (its second issuer is trusted by nobody). The real
 * identity pool stand-in stays: it does not trust the hostile user pool, so a token that
 * passes every check of the broker ends at the identity pool with `provider_not_accepted`, which is
 * how the tests tell "refused by the broker" from "accepted by the broker".
 */
import assert from 'node:assert/strict';
import type { OfflineStack } from '../../local/stack.ts';
import { startEphemeralStack } from '../../local/stack.ts';
import { type HostileProvider, startHostileProvider } from '../helpers/hostile-op.ts';
import { Browser } from '../helpers/web.ts';

export interface HostileStack {
  op: HostileProvider;
  stack: OfflineStack;
  api: string;
  close(): Promise<void>;
}

export async function startHostileStack(functionEnv: Record<string, string> = {}): Promise<HostileStack> {
  const op = await startHostileProvider({ clientId: 'offline-broker-client' });
  const stack = await startEphemeralStack(
    {},
    {
      functionEnv: {
        USER_POOL_ISSUER: op.poolIssuer,
        COGNITO_DOMAIN_URL: op.url,
        ...functionEnv,
      },
    },
  );
  assert.equal(stack.config.appClient.clientId, op.clientId);
  return {
    op,
    stack,
    api: stack.api.url,
    close: async () => {
      await stack.close();
      await op.close();
    },
  };
}

/** GET /auth/login in `browser`: the authorize redirect's state and nonce, and the login-state cookie. */
export async function beginLogin(
  api: string,
  browser = new Browser(),
  returnTo = '/',
): Promise<{ browser: Browser; state: string; nonce: string; loginCookie: string }> {
  const response = await browser.request(
    `${api}/auth/login?provider=IDmeSandbox&return_to=${encodeURIComponent(returnTo)}`,
  );
  assert.equal(response.status, 302, await response.text());
  const location = new URL(response.headers.get('location') ?? '');
  const loginCookie = browser.cookies.get('broker-login')?.value;
  assert.ok(loginCookie, 'the login-state cookie is set');
  return {
    browser,
    state: location.searchParams.get('state') ?? '',
    nonce: location.searchParams.get('nonce') ?? '',
    loginCookie,
  };
}

/** The status and `error` code of a broker answer (JSON), read once. */
export async function problemOf(response: Response): Promise<{ status: number; error: string | undefined }> {
  const text = await response.text();
  let error: string | undefined;
  try {
    error = (JSON.parse(text) as { error?: string }).error;
  } catch {
    error = undefined;
  }
  return { status: response.status, error };
}

export const asJson = { accept: 'application/json' };
