// ID.me stand-in: an OpenID provider shaped like api.id.me / api.idmelabs.com
// (https://docs.id.me/guides/iam-platforms/aws/cognito/oidc). Issuer `<base>/oidc`; discovery and JWKS below it, the
// OAuth endpoints outside it. Scopes are policy handles; claims use ID.me's own names.
//
// Differences from the real service, on purpose or for lack of documentation:
// - userinfo answers plain JSON by default. Real ID.me advertises RS256/ES256 user-info signing and
//   its sample apps verify a signed JWT; whether that is sent to every client is unconfirmed.
//   setUserinfoStrategy('signedJwt') registers the clients with userinfo_signed_response_alg RS256,
//   so user info answers application/jwt and Cognito fails with `invalid token_type in idp oauth
//   response`, as with the Idura stand-in.
// - only the authorization-code flow; no refresh tokens (Cognito never uses the IdP's).
// - access tokens are not single-use (ID.me's are); Cognito uses them once anyway.
// - `scopes_supported` lists every known policy; real discovery lists only `openid`.

import type { Account, OidcClient, OidcToken } from 'oidc-provider';
import { errors } from 'oidc-provider';
import type { InteractionParams, SignInPage, StandIn, StandInClient, StandInOptions } from './common.ts';
import { epochSeconds, startStandIn, stringParam } from './common.ts';
import type { IdmeIdentity } from './identities.ts';
import { IDME_IDENTITIES, IDME_POLICIES } from './identities.ts';

/**
 * Standard policy handles (https://docs.id.me/integrations/configurations/configuration-standards); a
 * client is entitled to some of them.
 */
const IDME_KNOWN_POLICIES: readonly string[] = [
  'login',
  'mfa',
  'http://idmanagement.gov/ns/assurance/ial/1/aal/2',
  'kba_replacement',
  'fortified_identity',
  'http://idmanagement.gov/ns/assurance/ial/2/aal/2',
  'http://idmanagement.gov/ns/assurance/loa/3',
  'military',
  'responder',
  'student',
  'teacher',
  'government',
  'employee',
  'hospital_employee',
  'alumni',
  'nurse',
  'medical',
  'military_canada',
  'responder_canada',
  'student_canada',
  'teacher_canada',
];

/** Policies a client gets when it names none: those of the test identities, plus `login`. */
const IDME_DEFAULT_CLIENT_POLICIES: readonly string[] = Object.values(IDME_POLICIES);

interface IdmeClient extends StandInClient {
  /** Policy handles this client may request (ID.me's solution consultant assigns them). */
  policies?: string[];
}

export interface IdmeStandInOptions extends StandInOptions {
  clients: IdmeClient[];
}

const IDME_USERINFO_STRATEGIES = ['plainJson', 'signedJwt'] as const;
type IdmeUserinfoStrategy = (typeof IDME_USERINFO_STRATEGIES)[number];

export interface IdmeStandIn extends StandIn {
  /** plainJson (default) or signedJwt (what breaks Cognito's sign-in). */
  setUserinfoStrategy(strategy: IdmeUserinfoStrategy): void;
}

const UNRESOLVABLE = "scope can't be resolved to an existing policy for the client";

// ID.me answers invalid_scope when the scope does not name a policy of the client. oidc-provider
// itself rejects a known policy the client lacks ("requested scope is not allowed") but ignores
// scopes it does not know; this validator, run by oidc-provider after the redirect URI is
// checked (so the error goes back to the client), covers unknown scopes and a missing policy.
function validatePolicyScope(_ctx: unknown, scope: unknown, client: OidcClient): void {
  const entitled = new Set(client.scope?.split(' '));
  const policies = (typeof scope === 'string' ? scope.split(' ') : []).filter(
    (value) => value !== '' && value !== 'openid',
  );
  const unresolvable = policies.find((policy) => !entitled.has(policy));
  if (policies.length === 0 || unresolvable !== undefined) {
    throw new errors.InvalidScope(UNRESOLVABLE, unresolvable);
  }
}

const claimNames = [...new Set(IDME_IDENTITIES.flatMap((identity) => Object.keys(identity.claims)))];

function policyLabel(policy: string): string {
  return policy === IDME_POLICIES.ial2 ? 'IAL2/AAL2' : policy;
}

function signInPage(params: InteractionParams): SignInPage {
  const scope = stringParam(params, 'scope') ?? '';
  const requested = new Set(scope.split(' '));
  return {
    title: 'Sign in with ID.me',
    intro: 'Choose a test identity. Its verified attributes are released to the application.',
    facts: [
      ['Application', stringParam(params, 'client_id') ?? ''],
      ['Requested scope', scope],
    ],
    // Every identity is offered whatever the policy, so a test can pick any; the page only marks
    // those verified for a requested policy.
    choices: IDME_IDENTITIES.map((identity) =>
      requested.has(identity.policy)
        ? { identity, note: `fits the requested ${policyLabel(identity.policy)} policy` }
        : { identity },
    ),
  };
}

function findIdentity(sub: string): IdmeIdentity | undefined {
  return IDME_IDENTITIES.find((identity) => identity.sub === sub);
}

/**
 * Starts the ID.me stand-in. Endpoints: discovery `<url>/oidc/.well-known/openid-configuration`,
 * authorize `<url>/oauth/authorize`, token `<url>/oauth/token`, userinfo
 * `<url>/api/public/v3/userinfo`, JWKS `<url>/oidc/.well-known/jwks`.
 *
 * @example
 * const idme = await startIdmeStandIn({ clients: [{ clientId, clientSecret, redirectUris }] });
 * // idme.issuer === 'http://localhost:<port>/oidc'
 */
export async function startIdmeStandIn(options: IdmeStandInOptions): Promise<IdmeStandIn> {
  let strategy: IdmeUserinfoStrategy = 'plainJson';
  const { standIn, registerClients } = await startStandIn(options, {
    displayName: 'ID.me stand-in',
    cookiePrefix: 'idme_',
    issuerPath: '/oidc',
    rewrites: { '/oidc/.well-known/openid-configuration': '/.well-known/openid-configuration' },
    hiddenPaths: ['/.well-known/openid-configuration'],
    // Undocumented; a published sandbox ID token (the ID.me service spec of
    // github.com/department-of-veterans-affairs/vets-api) shows exp - iat of about five hours.
    idTokenTtl: 18_000,
    configuration: () => ({
      routes: {
        authorization: '/oauth/authorize',
        token: '/oauth/token',
        userinfo: '/api/public/v3/userinfo',
        jwks: '/oidc/.well-known/jwks',
        end_session: '/oauth/logout',
      },
      scopes: ['openid', ...IDME_KNOWN_POLICIES],
      claims: { acr: null, auth_time: null, sid: null, openid: ['sub', 'iat', ...claimNames] },
      extraParams: { scope: validatePolicyScope },
      // Code and access token live five minutes
      // (https://docs.id.me/integrations/configurations/applications/token-expiration).
      ttl: { AuthorizationCode: 300, AccessToken: 300 },
    }),
    clientMetadata: (client: IdmeClient) => ({
      scope: ['openid', ...(client.policies ?? IDME_DEFAULT_CLIENT_POLICIES)].join(' '),
      ...(strategy === 'signedJwt' ? { userinfo_signed_response_alg: 'RS256' } : {}),
    }),
    findAccount: (sub: string, _token: OidcToken | undefined, { now }): Account | undefined => {
      const identity = findIdentity(sub);
      if (identity === undefined) return undefined;
      return {
        accountId: sub,
        claims: (use: string) => ({
          sub,
          ...identity.claims,
          ...(use === 'id_token' ? { iat: epochSeconds(now()) } : {}),
        }),
      };
    },
    signInPage,
    login: (_params, identityId) => {
      const identity = IDME_IDENTITIES.find((candidate) => candidate.id === identityId);
      return identity === undefined
        ? { problem: 'Choose one of the listed identities.' }
        : { accountId: identity.sub };
    },
  });
  return {
    ...standIn,
    setUserinfoStrategy(next: IdmeUserinfoStrategy): void {
      if (!IDME_USERINFO_STRATEGIES.includes(next)) {
        throw new TypeError(
          `unknown user info strategy ${String(next)}; use one of ${IDME_USERINFO_STRATEGIES.join(', ')}`,
        );
      }
      strategy = next;
      registerClients();
    },
  };
}
