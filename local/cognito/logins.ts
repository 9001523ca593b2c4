// How the identity pool stand-in checks one entry of a logins map, in the order and with the
// messages Cognito documents (https://docs.aws.amazon.com/cognito/latest/developerguide/open-id.html and the GetId errors,
// https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetId.html): issuer against the key,
// provider configured, RSA signature via the issuer's JWKS, `aud` present, `azp`/`aud` among the
// client ids, expiry with a 5-minute grace, then the user pool's server-side token check.

import { compactVerify, createRemoteJWKSet, decodeJwt, type JWTPayload } from 'jose';

/** A Cognito Identity error as it goes over the wire: `{"__type": type, "message": message}`. */
export class IdentityError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
  }
}

export const notAuthorized = (message: string): IdentityError =>
  new IdentityError('NotAuthorizedException', message);

export interface LoginProvider {
  /** The logins key: the issuer without scheme, e.g. `localhost:9229/us-east-1_OfflinePool`. */
  readonly providerName: string;
  readonly issuer: string;
  /** App client ids (user pool) or audiences (OIDC provider) the pool accepts. */
  readonly clientIds: readonly string[];
  readonly jwksUri: string;
  /** Ask the user pool whether the session is still valid (CognitoIdentityProviders[].ServerSideTokenCheck). */
  readonly serverSideTokenCheck?: boolean;
}

export type TokenCheck = (claims: Readonly<Record<string, unknown>>) => Promise<boolean> | boolean;

export interface ValidatedLogin {
  readonly providerName: string;
  readonly sub: string;
  readonly claims: JWTPayload;
}

/** Checks logins against the configured providers; one JWKS cache per provider. */
export class LoginValidator {
  private readonly providers: ReadonlyMap<string, LoginProvider>;
  private readonly jwks = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  private readonly tokenCheck: TokenCheck | undefined;

  constructor(providers: readonly LoginProvider[], tokenCheck: TokenCheck | undefined) {
    this.providers = new Map(providers.map((p) => [p.providerName, p]));
    this.tokenCheck = tokenCheck;
  }

  /**
   * Validates one login.
   *
   * @throws IdentityError (NotAuthorizedException) with the message Cognito Identity uses.
   */
  async validate(key: string, token: string, nowSeconds: number): Promise<ValidatedLogin> {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw notAuthorized('Invalid login token. Not a valid OpenId Connect identity token.');
    }
    const issuer = typeof claims.iss === 'string' ? claims.iss.replace(/^https?:\/\//, '') : '';
    if (issuer !== key) throw notAuthorized("Invalid login token. Issuer doesn't match providerName");
    const provider = this.providers.get(key);
    if (provider === undefined)
      throw notAuthorized('Token is not from a supported provider of this identity pool.');
    try {
      let jwks = this.jwks.get(key);
      if (jwks === undefined) {
        jwks = createRemoteJWKSet(new URL(provider.jwksUri), { timeoutDuration: 5000 });
        this.jwks.set(key, jwks);
      }
      // Only RSA keys are accepted.
      await compactVerify(token, jwks, { algorithms: ['RS256', 'RS384', 'RS512'] });
    } catch {
      throw notAuthorized("Invalid login token. Couldn't verify signed token.");
    }
    // A user-pool access token has client_id instead of aud.
    if (claims.aud === undefined) throw notAuthorized('Invalid login token. Missing a required claim: aud');
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    const azp = typeof claims.azp === 'string' ? claims.azp : undefined;
    const accepted =
      azp !== undefined
        ? provider.clientIds.includes(azp)
        : audiences.some((a) => provider.clientIds.includes(a));
    if (!accepted) throw notAuthorized('Token is not from a supported provider of this identity pool.');
    if (typeof claims.exp !== 'number')
      throw notAuthorized('Invalid login token. Missing a required claim: exp');
    // Five minutes of clock skew are allowed; the message quotes the current time and the expiry.
    if (nowSeconds >= claims.exp + 300) {
      throw notAuthorized(`Invalid login token. Token expired: ${nowSeconds} >= ${claims.exp}`);
    }
    if (typeof claims.sub !== 'string' || claims.sub === '') {
      throw notAuthorized('Invalid login token. Missing a required claim: sub');
    }
    if (
      this.tokenCheck !== undefined &&
      provider.serverSideTokenCheck !== false &&
      !(await this.tokenCheck(claims))
    ) {
      // Wording unconfirmed: the reference only says NotAuthorized.
      throw notAuthorized('Invalid login token. Token is revoked or the user has signed out.');
    }
    return { providerName: key, sub: claims.sub, claims };
  }
}
