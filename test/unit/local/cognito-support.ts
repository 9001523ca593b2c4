// Shared set-up for the Cognito stand-in tests: the ID.me and Idura stand-ins, the user pool
// stand-in on the real template (and its real trigger), and a fetch-driven "browser" with one
// cookie jar for every localhost port, as a browser has.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import {
  startUserPoolStandIn,
  type UserPoolStandIn,
  type UserPoolStandInOptions,
} from '../../../local/cognito/user-pool.ts';
import type { StandIn } from '../../../local/idps/common.ts';
import { startIdmeStandIn } from '../../../local/idps/idme.ts';
import { type IduraStandIn, startIduraStandIn } from '../../../local/idps/idura.ts';
import { freePort, onFreePort } from '../../../local/net.ts';
import { type RawTemplate, readTemplate, TemplateResolver } from '../../../local/template.ts';
import { claimsOf } from '../../helpers/web.ts';

// A free loopback port, so that IdP clients can be registered before the pool listens on it.
export { claimsOf, freePort };

export const APP_CALLBACK = 'http://localhost:3000/auth/callback';
export const APP_ORIGIN = 'http://localhost:3000';
export const APP_CLIENT = {
  clientId: 'offline-app-client',
  clientSecret: 'offline-app-client-secret-0123456789',
};
export const IDP_CLIENT = { clientId: 'offline-broker', clientSecret: 'offline-broker-secret-0123456789' };
export const IDME = 'IDmeSandbox';
export const IDURA = 'IduraTest';

export const LOCAL_PARAMETERS = {
  HostedUiDomainPrefix: 'offline-broker',
  IdmeClientId: IDP_CLIENT.clientId,
  IduraDomain: 'localhost',
  IduraClientId: IDP_CLIENT.clientId,
};

export function resolver(template: RawTemplate = readTemplate()): TemplateResolver {
  return new TemplateResolver(template, { parameters: LOCAL_PARAMETERS });
}

/** Cookies as a browser keeps them for `localhost`: one jar whatever the port. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /max-age=0\b/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line))
        this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export async function browse(
  jar: CookieJar,
  url: string | URL,
  form?: Record<string, string>,
): Promise<Response> {
  const response = await fetch(url, {
    redirect: 'manual',
    method: form === undefined ? 'GET' : 'POST',
    headers: {
      cookie: jar.header(),
      ...(form === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' }),
    },
    ...(form === undefined ? {} : { body: new URLSearchParams(form) }),
  });
  jar.store(response);
  return response;
}

export function location(response: Response, base: string): URL {
  const value = response.headers.get('location');
  assert.ok(value, `expected a redirect, got ${response.status}`);
  return new URL(value, base);
}

/** Hidden inputs and action of the first form of a page. */
export function parseForm(html: string, base: string): { action: URL; fields: Record<string, string> } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  assert.ok(action, 'page has a form');
  const fields: Record<string, string> = {};
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    if (name !== undefined) fields[name] = value ?? '';
  }
  return { action: new URL(action.replaceAll('&amp;', '&'), base), fields };
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export interface AuthorizeParams {
  provider?: string;
  state?: string;
  nonce?: string;
  scope?: string;
  redirectUri?: string;
  clientId?: string;
  pkce?: Pkce | undefined;
  extra?: Record<string, string>;
}

export function authorizeUrl(pool: UserPoolStandIn, params: AuthorizeParams = {}): URL {
  const url = new URL(`${pool.url}/oauth2/authorize`);
  const query: Record<string, string> = {
    response_type: 'code',
    client_id: params.clientId ?? APP_CLIENT.clientId,
    redirect_uri: params.redirectUri ?? APP_CALLBACK,
    state: params.state ?? 'app-state-1',
    nonce: params.nonce ?? 'app-nonce-1',
    scope: params.scope ?? 'openid email profile',
    ...(params.provider === undefined ? {} : { identity_provider: params.provider }),
    ...(params.pkce === undefined
      ? {}
      : { code_challenge: params.pkce.challenge, code_challenge_method: 'S256' }),
    ...params.extra,
  };
  url.search = new URLSearchParams(query).toString();
  return url;
}

/**
 * Follows redirects (and oidc-provider's auto-submitted forms) from a response until the app's
 * callback (or `stopAt`) is reached; on an IdP sign-in page, picks `identity` (`cancel` presses Cancel).
 */
export async function follow(
  jar: CookieJar,
  first: Response,
  base: string,
  identity?: string,
  stopAt: (url: URL) => boolean = (url) =>
    url.href.startsWith(APP_CALLBACK) || url.href.startsWith(APP_ORIGIN),
): Promise<URL> {
  let response = first;
  let url = base;
  for (let hops = 0; hops < 15; hops += 1) {
    if (response.status === 200 && (response.headers.get('content-type') ?? '').includes('html')) {
      const html = await response.text();
      if (html.includes('name="identity"')) {
        const { action } = parseForm(html, url);
        assert.ok(identity, 'an IdP sign-in page needs an identity');
        response = await browse(jar, action, identity === 'cancel' ? { cancel: 'yes' } : { identity });
        url = action.href;
      } else {
        const form = parseForm(html, url);
        response = await browse(jar, form.action, form.fields);
        url = form.action.href;
      }
      continue;
    }
    assert.ok([302, 303].includes(response.status), `unexpected status ${response.status} at ${url}`);
    const next = location(response, url);
    if (stopAt(next)) return next;
    response = await browse(jar, next);
    url = next.href;
  }
  throw new Error('too many redirects');
}

/** A full federated sign-in from the app's authorize URL to its callback. */
export async function signIn(
  pool: UserPoolStandIn,
  identity: string,
  params: AuthorizeParams = {},
  jar = new CookieJar(),
): Promise<URL> {
  const first = await browse(jar, authorizeUrl(pool, { provider: IDME, ...params }));
  return follow(jar, first, pool.url, identity);
}

export interface TokenSet {
  id_token: string;
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

export async function tokenRequest(
  pool: UserPoolStandIn,
  form: Record<string, string>,
  auth: 'basic' | 'post' | 'none' = 'basic',
  secret = APP_CLIENT.clientSecret,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(form);
  if (auth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${APP_CLIENT.clientId}:${secret}`).toString('base64')}`;
  } else if (auth === 'post') {
    body.set('client_id', APP_CLIENT.clientId);
    body.set('client_secret', secret);
  }
  return fetch(`${pool.url}/oauth2/token`, { method: 'POST', headers, body });
}

export async function redeem(pool: UserPoolStandIn, callback: URL, verifier?: string): Promise<TokenSet> {
  const code = callback.searchParams.get('code');
  assert.ok(code, `callback has a code: ${callback.href}`);
  const response = await tokenRequest(pool, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: APP_CALLBACK,
    ...(verifier === undefined ? {} : { code_verifier: verifier }),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as TokenSet;
}

export interface Idps {
  idme: StandIn;
  idura: IduraStandIn;
  close(): Promise<void>;
}

/** The ID.me and Idura stand-ins, with one client that may redirect to each given pool port. */
export async function startIdps(poolPorts: readonly number[]): Promise<Idps> {
  const idpClients = [
    { ...IDP_CLIENT, redirectUris: poolPorts.map((port) => `http://localhost:${port}/oauth2/idpresponse`) },
  ];
  const [idme, idura] = await Promise.all([
    startIdmeStandIn({ clients: idpClients, quiet: true }),
    startIduraStandIn({ clients: idpClients, quiet: true }),
  ]);
  return {
    idme,
    idura,
    close: async () => {
      await Promise.all([idme.close(), idura.close()]);
    },
  };
}

/** A user pool stand-in on the real template (unless overridden), federating to the given IdPs. */
export async function startPool(
  idps: Idps,
  overrides: Partial<UserPoolStandInOptions> = {},
): Promise<UserPoolStandIn> {
  return startUserPoolStandIn({
    template: resolver(),
    clients: [{ ...APP_CLIENT, callbackUrls: [APP_CALLBACK], logoutUrls: [APP_ORIGIN] }],
    upstream: {
      [IDME]: { issuer: idps.idme.issuer, ...IDP_CLIENT },
      [IDURA]: { issuer: idps.idura.issuer, ...IDP_CLIENT },
    },
    quiet: true,
    ...overrides,
  });
}

export interface Stack extends Idps {
  pool: UserPoolStandIn;
}

/** The IdP stand-ins and one user pool stand-in federating to them. */
export async function startStack(overrides: Partial<UserPoolStandInOptions> = {}): Promise<Stack> {
  const start = async (port: number): Promise<Stack> => {
    const idps = await startIdps([port]);
    try {
      const pool = await startPool(idps, { ...overrides, port });
      return { ...idps, pool, close: () => Promise.all([pool.close(), idps.close()]).then(() => {}) };
    } catch (error) {
      await idps.close();
      throw error;
    }
  };
  return overrides.port === undefined ? onFreePort(start) : start(overrides.port);
}
