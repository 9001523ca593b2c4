// Idura Verify stand-in: an OpenID provider shaped like an Idura tenant domain
// (https://docs.idura.app/verify/getting-started/oidc-intro/). The issuer is the bare base URL; the e-ID is chosen
// by `acr_values` or by a `login_hint` directive `acr_values:<urn>` (the one Cognito forwards);
// claims follow the e-ID scheme.
//
// The user-info response strategy is an application setting at Idura. Here it is switched at
// run time by re-registering the clients with the matching OpenID client metadata, so the signed
// and encrypted responses are produced by oidc-provider itself:
//   plainJson              → no metadata: application/json
//   signedJwt              → userinfo_signed_response_alg RS256: application/jwt (JWS)
//   signedAndEncryptedJwt  → plus userinfo_encrypted_response_alg A256KW / enc A256GCM, with the key
//                            derived from the client secret (OpenID Core §10.2): application/jwt (JWE)
//   fromTokenEndpoint      → the ID token from the token endpoint carries every claim (it always does
//                            here) and user info answers in the token endpoint's form, a signed JWT.
//                            This reading is an assumption: the reference only says "claims embedded
//                            in the id_token" and "not recommended for Cognito".
// Only plainJson works with Cognito; the others reproduce `invalid token_type in idp oauth response`.

import { createHash } from 'node:crypto';
import type { Account, OidcToken } from 'oidc-provider';
import type { InteractionParams, LoginOutcome, SignInPage, StandIn, StandInOptions } from './common.ts';
import { epochSeconds, startStandIn, stringParam } from './common.ts';
import type { IduraIdentity } from './identities.ts';
import { IDURA_ACR, IDURA_IDENTITIES } from './identities.ts';

const USERINFO_STRATEGIES = ['plainJson', 'signedJwt', 'signedAndEncryptedJwt', 'fromTokenEndpoint'] as const;
type UserinfoStrategy = (typeof USERINFO_STRATEGIES)[number];

export interface IduraStandIn extends StandIn {
  setUserinfoStrategy(strategy: UserinfoStrategy): void;
}

const STRATEGY_METADATA: Readonly<Record<UserinfoStrategy, Readonly<Record<string, string>>>> = {
  plainJson: {},
  signedJwt: { userinfo_signed_response_alg: 'RS256' },
  signedAndEncryptedJwt: {
    userinfo_signed_response_alg: 'RS256',
    userinfo_encrypted_response_alg: 'A256KW',
    userinfo_encrypted_response_enc: 'A256GCM',
  },
  fromTokenEndpoint: { userinfo_signed_response_alg: 'RS256' },
};

/** Claims computed per sign-in rather than stored with the identity. */
const PER_LOGIN_CLAIMS = ['authenticationtype', 'authenticationinstant', 'sessionindex', 'age'];

const claimNames = [
  ...new Set([...IDURA_IDENTITIES.flatMap((identity) => Object.keys(identity.claims)), ...PER_LOGIN_CLAIMS]),
];

const ACR_DIRECTIVE = 'acr_values:';

/**
 * The login method asked for: the first `acr_values` value (Idura takes exactly one), else an
 * `acr_values:<urn>` directive among the space-separated `login_hint` directives.
 */
function requestedAcr(params: InteractionParams): string | undefined {
  const fromParam = stringParam(params, 'acr_values')?.split(' ').find(Boolean);
  if (fromParam !== undefined) return fromParam;
  return stringParam(params, 'login_hint')
    ?.split(' ')
    .find((directive) => directive.startsWith(ACR_DIRECTIVE))
    ?.slice(ACR_DIRECTIVE.length);
}

function identitiesFor(acr: string | undefined): readonly IduraIdentity[] {
  return acr === undefined
    ? IDURA_IDENTITIES
    : IDURA_IDENTITIES.filter((identity) => identity.acrValues.includes(acr));
}

function signInPage(params: InteractionParams): SignInPage {
  const acr = requestedAcr(params);
  const identities = identitiesFor(acr);
  return {
    title: 'Sign in with Idura Verify',
    intro:
      acr === undefined
        ? 'No login method was requested, so every e-ID is offered. Choose a test identity.'
        : 'Choose a test identity for the requested login method.',
    facts: [
      ['Application', stringParam(params, 'client_id') ?? ''],
      ['Login method', acr ?? 'any (no acr_values or login_hint)'],
    ],
    choices: identities.map((identity) => ({ identity, note: `e-ID scheme ${identity.scheme}` })),
    ...(identities.length === 0 && acr !== undefined
      ? { notice: `There is no test identity for the login method ${acr}.` }
      : {}),
  };
}

function login(params: InteractionParams, identityId: string): LoginOutcome {
  const acr = requestedAcr(params);
  const identity = identitiesFor(acr).find((candidate) => candidate.id === identityId);
  if (identity === undefined) return { problem: 'Choose one of the listed identities.' };
  return { accountId: identity.sub, acr: acr ?? identity.acrValues[0] };
}

/** Whole years between an ISO birth date and a moment. */
function ageAt(birthdate: string, nowMs: number): number {
  const born = new Date(`${birthdate}T00:00:00Z`);
  const now = new Date(nowMs);
  const hadBirthday =
    now.getUTCMonth() > born.getUTCMonth() ||
    (now.getUTCMonth() === born.getUTCMonth() && now.getUTCDate() >= born.getUTCDate());
  return now.getUTCFullYear() - born.getUTCFullYear() - (hadBirthday ? 0 : 1);
}

/** A GUID derived from the grant, so the ID token and user info agree on `sessionindex`. */
function sessionIndex(grantId: string): string {
  const hex = createHash('sha256').update(grantId).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function account(
  identity: IduraIdentity,
  token: OidcToken | undefined,
  acr: string | undefined,
  now: () => number,
): Account {
  const authTime = token?.authTime ?? epochSeconds(now());
  const perLogin: Record<string, unknown> = {
    authenticationtype: acr ?? identity.acrValues[0],
    authenticationinstant: new Date(authTime * 1000).toISOString(),
    sessionindex: sessionIndex(token?.grantId ?? identity.sub),
  };
  const birthdate = identity.claims.birthdate;
  if (identity.scheme === 'dkmitid' && typeof birthdate === 'string') {
    // MitID sends the age as a string.
    perLogin.age = String(ageAt(birthdate, now()));
  }
  return {
    accountId: identity.sub,
    claims: (use: string) => {
      const issued = epochSeconds(now());
      return {
        sub: identity.sub,
        ...identity.claims,
        ...perLogin,
        ...(use === 'id_token' ? { iat: issued, nbf: issued } : {}),
      };
    },
  };
}

/**
 * Starts the Idura Verify stand-in. Endpoints: discovery `<url>/.well-known/openid-configuration`,
 * authorize `<url>/oauth2/authorize`, token `<url>/oauth2/token`, userinfo `<url>/oauth2/userinfo`,
 * JWKS `<url>/.well-known/jwks`. The user-info strategy starts as `plainJson`.
 *
 * @example
 * const idura = await startIduraStandIn({ clients: [{ clientId, clientSecret, redirectUris }] });
 * idura.setUserinfoStrategy('signedJwt'); // Cognito now fails with invalid token_type
 */
export async function startIduraStandIn(options: StandInOptions): Promise<IduraStandIn> {
  let strategy: UserinfoStrategy = 'plainJson';
  // The login method of each grant: the code carries it, the access token user info is read with
  // does not, and user info must name the same method as the ID token (Idura's does).
  const acrByGrant = new Map<string, string>();
  const { standIn, registerClients } = await startStandIn(options, {
    displayName: 'Idura stand-in',
    cookiePrefix: 'idura_',
    issuerPath: '',
    // Observed in Idura's example token (https://docs.idura.app/verify/reference/token-contents/): 20 minutes.
    idTokenTtl: 1200,
    configuration: () => ({
      routes: {
        authorization: '/oauth2/authorize',
        token: '/oauth2/token',
        userinfo: '/oauth2/userinfo',
        jwks: '/.well-known/jwks',
        pushed_authorization_request: '/oauth2/par',
        // Not in the reference; placed beside the other OAuth endpoints.
        end_session: '/oauth2/logout',
      },
      // Extra scopes are ignored unless the application has dynamic scopes; oidc-provider
      // ignores scopes it does not know, which is the static behaviour.
      scopes: ['openid'],
      acrValues: Object.values(IDURA_ACR),
      claims: { acr: null, auth_time: null, sid: null, openid: ['sub', 'iat', 'nbf', ...claimNames] },
      features: {
        encryption: { enabled: true },
        pushedAuthorizationRequests: { enabled: true },
      },
      ttl: { AuthorizationCode: 300, AccessToken: 1200 },
    }),
    clientMetadata: () => ({ ...STRATEGY_METADATA[strategy] }),
    findAccount: (sub: string, token: OidcToken | undefined, { now }): Account | undefined => {
      const identity = IDURA_IDENTITIES.find((candidate) => candidate.sub === sub);
      if (identity === undefined) return undefined;
      const grant = token?.grantId;
      if (token?.acr !== undefined && grant !== undefined) {
        if (acrByGrant.size >= 1000) acrByGrant.delete(acrByGrant.keys().next().value ?? '');
        acrByGrant.set(grant, token.acr);
      }
      return account(
        identity,
        token,
        token?.acr ?? (grant === undefined ? undefined : acrByGrant.get(grant)),
        now,
      );
    },
    signInPage,
    login,
  });
  return {
    ...standIn,
    setUserinfoStrategy(next: UserinfoStrategy): void {
      if (!USERINFO_STRATEGIES.includes(next)) {
        throw new TypeError(
          `unknown user info strategy ${String(next)}; use one of ${USERINFO_STRATEGIES.join(', ')}`,
        );
      }
      strategy = next;
      registerClients();
    },
  };
}
