// Shared set-up of the ID.me and Idura stand-ins: real OpenID providers built on oidc-provider,
// served on loopback over plain HTTP, with a server-rendered sign-in page that lists test identities.
//
// Layout of one stand-in:
//
//   node:http server ── front router ─┬─ /interaction/<uid>[/login] → sign-in page (this file)
//                                     ├─ hidden paths              → 404
//                                     └─ everything else           → oidc-provider (Koa), after
//                                                                    the public path is rewritten
//
// Why a front router: oidc-provider serves discovery at `<mount>/.well-known/openid-configuration`
// and builds every endpoint URL from the mount path of the request. ID.me's issuer has a path
// (`<base>/oidc`) but only discovery and JWKS live below it; authorize, token and userinfo do not
// (`/oauth/...`, `/api/public/v3/userinfo`). So the provider is mounted at the root (every endpoint
// URL is then `<base>` + its configured route) and the router rewrites the one public path that
// oidc-provider cannot be told about, `/oidc/.well-known/openid-configuration`, to the provider's
// fixed discovery route, and hides the root discovery path that real ID.me does not have.
//
// These servers are for loopback only: Cognito in AWS requires HTTPS identity providers.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { calculateJwkThumbprint } from 'jose';
import type {
  Account,
  AdapterFactory,
  Configuration,
  InteractionDetails,
  OidcContext,
  OidcToken,
} from 'oidc-provider';
import { interactionPolicy, Provider } from 'oidc-provider';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';
import { escapeHtml } from '../cognito/http.ts';
import { listen } from '../net.ts';
import type { TestIdentity } from './identities.ts';

export interface StandInClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface StandInOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** Host name used in the issuer and every URL; default localhost. */
  publicHost?: string;
  clients: StandInClient[];
  /** Clock in epoch milliseconds for token times; default Date.now. */
  now?: () => number;
  /** Suppress server-error logging. */
  quiet?: boolean;
}

export interface StandIn {
  issuer: string;
  /** Base URL, without a trailing slash. */
  url: string;
  close(): Promise<void>;
}

/** Authorization request parameters as stored with an interaction. */
export type InteractionParams = Readonly<Record<string, unknown>>;

interface SignInChoice {
  readonly identity: TestIdentity;
  readonly note?: string;
}

export interface SignInPage {
  readonly title: string;
  readonly intro: string;
  /** What was asked for, shown as a description list. */
  readonly facts: ReadonlyArray<readonly [string, string]>;
  readonly choices: readonly SignInChoice[];
  /** Shown as an alert, e.g. when no identity fits the request. */
  readonly notice?: string;
}

export type LoginOutcome = { accountId: string; acr?: string } | { problem: string };

interface SpecContext {
  /** Clock of the stand-in, epoch milliseconds. */
  readonly now: () => number;
}

/** What one stand-in contributes to the shared set-up. */
export interface StandInSpec {
  /** Used in messages, e.g. "ID.me stand-in". */
  readonly displayName: string;
  /** Prefix of every cookie name; browsers share localhost cookies across ports. */
  readonly cookiePrefix: string;
  /** Path of the issuer below the base URL: "/oidc" or "". */
  readonly issuerPath: string;
  /** Public path to the path oidc-provider serves it under. */
  readonly rewrites?: Readonly<Record<string, string>>;
  /** Paths answered with 404 although oidc-provider would serve them. */
  readonly hiddenPaths?: readonly string[];
  /** Lifetime of ID tokens in seconds, counted from the stand-in's clock. */
  readonly idTokenTtl: number;
  /** Provider configuration of this issuer; `features` and `ttl` merge with the shared ones. */
  configuration(context: SpecContext): Configuration;
  /** Client metadata registered for one configured client. */
  clientMetadata(client: StandInClient): Record<string, unknown>;
  findAccount(sub: string, token: OidcToken | undefined, context: SpecContext): Account | undefined;
  signInPage(params: InteractionParams): SignInPage;
  login(params: InteractionParams, identityId: string): LoginOutcome;
}

export interface StartedStandIn {
  readonly standIn: StandIn;
  /** Writes the clients' metadata again, e.g. after a setting that changes it. */
  registerClients(): void;
}

export function epochSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/** A string parameter of an interaction, or undefined when absent or not a string. */
export function stringParam(params: InteractionParams, name: string): string | undefined {
  const value = params[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * Starts one stand-in: listens first (the issuer must contain the real port), then builds the
 * provider, then registers the clients.
 *
 * @throws Error when the port is taken, naming the stand-in, host and port.
 */
export async function startStandIn(options: StandInOptions, spec: StandInSpec): Promise<StartedStandIn> {
  const host = options.host ?? '127.0.0.1';
  const publicHost = options.publicHost ?? 'localhost';
  const now = options.now ?? Date.now;
  const quiet = options.quiet ?? false;

  let handle: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => {
    res.writeHead(503).end();
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!quiet) console.error(`${spec.displayName}: request failed`, error);
      if (!res.headersSent) sendHtml(res, 500, messagePage('Something went wrong', 'The stand-in failed.'));
      else res.end();
    });
  });
  const port = await listen(server, options.port ?? 0, host, spec.displayName);
  const authority = `${publicHost}:${port}`;
  const url = `http://${authority}`;
  const issuer = `${url}${spec.issuerPath}`;

  const adapter = createMemoryAdapter();
  const provider = new Provider(issuer, await providerConfiguration(spec, adapter, now));
  if (!quiet) {
    provider.on('server_error', (_ctx: unknown, error: unknown) => {
      console.error(`${spec.displayName}: server error`, error);
    });
  }

  // Clients live in the provider's store rather than in its static `clients` setting: static
  // clients are fixed at construction, stored ones are re-read, so a setting such as Idura's
  // user-info strategy can change a client's metadata while the stand-in runs.
  const clients = adapter('Client');
  const registerClients = (): void => {
    for (const client of options.clients) {
      // The memory adapter stores synchronously (its upsert never awaits), so the new metadata
      // is in place when this returns; oidc-provider re-reads and re-validates changed metadata.
      void clients.upsert(client.clientId, {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: client.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
        id_token_signed_response_alg: 'RS256',
        ...spec.clientMetadata(client),
      });
    }
  };
  registerClients();

  const providerCallback = provider.callback();
  const rewrites = spec.rewrites ?? {};
  const hidden = new Set(spec.hiddenPaths ?? []);
  handle = async (req, res) => {
    // Every URL oidc-provider generates is built from the Host header; pin it to the public host
    // so that discovery always matches the issuer, however the server was reached.
    req.headers.host = authority;
    const { pathname, search } = new URL(req.url ?? '/', url);
    if (hidden.has(pathname)) {
      sendHtml(res, 404, messagePage('Not found', 'There is nothing at this address.'));
      return;
    }
    const interaction = /^\/interaction\/([\w-]+)(\/login)?$/.exec(pathname);
    if (interaction?.[1] !== undefined) {
      await handleInteraction(req, res, {
        provider,
        spec,
        now,
        uid: interaction[1],
        isLogin: !!interaction[2],
      });
      return;
    }
    const rewritten = rewrites[pathname];
    if (rewritten !== undefined) req.url = `${rewritten}${search}`;
    await providerCallback(req, res);
  };

  const close = async (): Promise<void> => {
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      server.closeAllConnections();
    });
  };
  return { standIn: { issuer, url, close }, registerClients };
}

async function signingKey(): Promise<Record<string, unknown>> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'RS256', use: 'sig' };
}

async function providerConfiguration(
  spec: StandInSpec,
  adapter: AdapterFactory,
  now: () => number,
): Promise<Configuration> {
  const context: SpecContext = { now };
  const own = spec.configuration(context);
  const prefix = spec.cookiePrefix;
  const cookieOptions = { httpOnly: true, sameSite: 'lax' };

  // Ask for an identity on every authorization request instead of reusing an existing session,
  // so that a test can sign in as another identity in the same browser. On resume the login
  // result is present and the check passes.
  const policy = interactionPolicy.base();
  policy
    .get('login')
    ?.checks.add(
      new interactionPolicy.Check('stand_in_identity_choice', 'choose a test identity', (ctx: OidcContext) =>
        ctx.oidc.result?.login
          ? interactionPolicy.Check.NO_NEED_TO_PROMPT
          : interactionPolicy.Check.REQUEST_PROMPT,
      ),
    );

  return {
    ...own,
    adapter,
    jwks: { keys: [await signingKey()] },
    cookies: {
      names: {
        session: `${prefix}session`,
        interaction: `${prefix}interaction`,
        resume: `${prefix}interaction_resume`,
      },
      keys: [randomBytes(32).toString('base64url')],
      long: cookieOptions,
      short: cookieOptions,
    },
    responseTypes: ['code'],
    subjectTypes: ['public'],
    clientAuthMethods: ['client_secret_post', 'client_secret_basic'],
    // Both providers put the identity claims into the ID token as well as the user info.
    conformIdTokenClaims: false,
    enabledJWA: { idTokenSigningAlgValues: ['RS256'], userinfoSigningAlgValues: ['RS256'] },
    clientBasedCORS: () => false,
    findAccount: (_ctx: unknown, sub: string, token: OidcToken | undefined) =>
      spec.findAccount(sub, token, context),
    interactions: {
      policy,
      url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
    },
    renderError: (ctx: HtmlContext, out: Record<string, unknown>) => {
      ctx.type = 'html';
      ctx.body = messagePage(
        'Sign-in error',
        Object.entries(out)
          .map(([key, value]) => `${key}: ${String(value)}`)
          .join('\n'),
      );
    },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: false },
      // Signed user info is available to clients registered for it (both real providers offer it).
      jwtUserinfo: { enabled: true },
      pushedAuthorizationRequests: { enabled: false },
      resourceIndicators: { enabled: false },
      // Needed even though no relying party logs out here: when a browser that is signed in as
      // one identity picks another, oidc-provider ends the old session through this endpoint.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: (ctx: HtmlContext, form: string) => {
          ctx.body = page(
            'Sign out',
            `<h1>Sign out of the stand-in?</h1>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" data-testid="logout-yes">Sign out</button>
<button type="submit" form="op.logoutForm" class="secondary">Stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: (ctx: HtmlContext) => {
          ctx.body = messagePage('Signed out', 'You are signed out of the stand-in.');
        },
      },
      ...(own.features as Record<string, unknown> | undefined),
    },
    ttl: {
      AuthorizationCode: 300,
      AccessToken: 300,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      RefreshToken: 3600,
      ...(own.ttl as Record<string, unknown> | undefined),
      // oidc-provider takes token times from Date.now and has no clock option. The ID token's
      // `exp` is issue time + this TTL, so shifting the TTL by the stand-in clock's offset yields
      // `exp` = now() + idTokenTtl; `iat` (and `nbf`) come from now() through the account claims.
      // A clock more than one TTL behind real time cannot be expressed (the TTL must stay
      // positive); codes, access tokens and sessions always expire on real time.
      IdToken: () => Math.max(1, spec.idTokenTtl + epochSeconds(now() - Date.now())),
    },
  };
}

interface HtmlContext {
  type: string;
  body: unknown;
}

interface InteractionRequest {
  provider: Provider;
  spec: StandInSpec;
  now: () => number;
  uid: string;
  isLogin: boolean;
}

async function handleInteraction(
  req: IncomingMessage,
  res: ServerResponse,
  { provider, spec, now, uid, isLogin }: InteractionRequest,
): Promise<void> {
  let details: InteractionDetails;
  try {
    details = await provider.interactionDetails(req, res);
  } catch {
    sendHtml(res, 400, expiredPage());
    return;
  }
  if (details.uid !== uid) {
    sendHtml(res, 400, expiredPage());
    return;
  }
  const expected = isLogin ? 'POST' : 'GET';
  if (req.method !== expected) {
    res.setHeader('Allow', expected);
    sendHtml(res, 405, messagePage('Method not allowed', `Use ${expected} here.`));
    return;
  }
  if (!isLogin) {
    sendHtml(res, 200, signInPageHtml(uid, spec.signInPage(details.params)));
    return;
  }

  const form = await readForm(req);
  if (form.has('cancel')) {
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'End-User cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  const outcome = spec.login(details.params, form.get('identity') ?? '');
  if ('problem' in outcome) {
    sendHtml(res, 400, signInPageHtml(uid, { ...spec.signInPage(details.params), notice: outcome.problem }));
    return;
  }
  // Consent is granted on the user's behalf: every requested scope goes into a new grant.
  const grant = new provider.Grant({
    accountId: outcome.accountId,
    clientId: String(details.params.client_id),
  });
  grant.addOIDCScope(stringParam(details.params, 'scope') ?? 'openid');
  const grantId = await grant.save();
  await provider.interactionFinished(
    req,
    res,
    {
      login: {
        accountId: outcome.accountId,
        ts: epochSeconds(now()),
        ...(outcome.acr === undefined ? {} : { acr: outcome.acr }),
      },
      consent: { grantId },
    },
    { mergeWithLastSubmission: false },
  );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('sign-in form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    // Inline styles only; no scripts, images or fonts. No form-action: Chrome applies it to the
    // redirects that follow the form post, and those leave this origin.
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  });
  res.end(html);
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1d1f23}
main{max-width:40rem;margin:2rem auto;padding:1.5rem 2rem;background:#fff;border-radius:8px;box-shadow:0 1px 3px #0003}
h1{font-size:1.5rem;margin-top:0}.banner{background:#fff4ce;padding:.5rem .75rem;border-radius:4px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;word-break:break-all}
ul{list-style:none;padding:0}li{margin:.75rem 0}
button{font:inherit;font-weight:600;padding:.5rem 1rem;border:0;border-radius:4px;background:#1a5fb4;color:#fff;cursor:pointer}
button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}button.secondary{background:#5e6673}
.note{display:block;color:#4a4f57;font-size:.9rem}[role=alert]{background:#fde2e1;padding:.5rem .75rem;border-radius:4px}
pre{white-space:pre-wrap}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<pre>${escapeHtml(message)}</pre>`);
}

function expiredPage(): string {
  return messagePage(
    'Sign-in request not found',
    'This sign-in request has expired or was started in another browser. Start again from the application.',
  );
}

/** The sign-in page: one submit button per identity, named `identity`, with `data-testid`. */
function signInPageHtml(uid: string, content: SignInPage): string {
  const facts = content.facts
    .map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`)
    .join('\n');
  const choices = content.choices
    .map(({ identity, note }) => {
      const descriptionId = `identity-${escapeHtml(identity.id)}-description`;
      const text = [identity.description, note].filter(Boolean).join(' · ');
      return `<li><button type="submit" name="identity" value="${escapeHtml(identity.id)}" data-testid="identity-${escapeHtml(identity.id)}" aria-describedby="${descriptionId}">${escapeHtml(identity.label)}</button>
<span class="note" id="${descriptionId}">${escapeHtml(text)}</span></li>`;
    })
    .join('\n');
  const notice = content.notice === undefined ? '' : `<p role="alert">${escapeHtml(content.notice)}</p>`;
  return page(
    content.title,
    `<h1>${escapeHtml(content.title)}</h1>
<p class="banner">Local stand-in for development and tests. No real identity is checked.</p>
<p>${escapeHtml(content.intro)}</p>
<dl>
${facts}
</dl>
${notice}
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<ul aria-label="Test identities">
${choices}
</ul>
<button type="submit" name="cancel" value="yes" class="secondary" data-testid="cancel">Cancel sign-in</button>
</form>`,
  );
}
