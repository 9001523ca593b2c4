// The user pool stand-in as an OIDC relying party of ID.me / Idura, the way Cognito federates
// (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-oidc-flow.html): endpoints from the issuer's discovery document, the code
// exchanged with client_secret_post only, the IdP's ID token checked against its JWKS (iss, aud,
// Cognito's own nonce), then user info read by GET or POST, which must be plain JSON.

import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { SignInError } from './attributes.ts';

export interface UpstreamIdp {
  /** The local stand-in's issuer; replaces the template's `oidc_issuer`. */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
}

interface Discovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly userinfo_endpoint?: string;
  readonly jwks_uri: string;
}

export interface FederationOptions {
  /** Cognito's `/oauth2/idpresponse` URL on this stand-in. */
  readonly redirectUri: string;
  /** How long to wait for the IdP's endpoints. */
  readonly timeoutMs: number;
  readonly now: () => number;
}

export interface AuthorizeInput {
  readonly scope: string;
  readonly state: string;
  readonly nonce: string;
  readonly loginHint?: string | undefined;
  readonly prompt?: string | undefined;
}

/** Federation failures are reported as `error=invalid_request` with a description. */
const failure = (description: string, cause?: unknown): SignInError =>
  new SignInError('invalid_request', description, cause === undefined ? undefined : { cause });

const isTimeout = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');

/** One upstream provider as seen from the pool: discovery and JWKS are cached per issuer. */
export class UpstreamClient {
  readonly providerName: string;
  readonly config: UpstreamIdp;
  private readonly options: FederationOptions;
  private discovery: Promise<Discovery> | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;

  constructor(providerName: string, config: UpstreamIdp, options: FederationOptions) {
    this.providerName = providerName;
    this.config = config;
    this.options = options;
  }

  private async discover(): Promise<Discovery> {
    this.discovery ??= (async () => {
      const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      let response: Response;
      try {
        response = await fetch(url, { signal: AbortSignal.timeout(this.options.timeoutMs) });
      } catch (error) {
        throw failure(isTimeout(error) ? 'Read timed out' : 'Connection reset', error);
      }
      const doc = (await response.json().catch(() => undefined)) as Partial<Discovery> | undefined;
      if (
        !response.ok ||
        doc?.authorization_endpoint === undefined ||
        doc.token_endpoint === undefined ||
        !doc.jwks_uri
      ) {
        throw failure(`${this.providerName} Error - ${response.status} error getting the discovery document`);
      }
      if (doc.issuer !== this.config.issuer) {
        throw failure(`${this.providerName} Error - the discovery document names another issuer`);
      }
      return doc as Discovery;
    })();
    try {
      return await this.discovery;
    } catch (error) {
      // Do not cache a failure: the stand-in may not have been up yet.
      this.discovery = undefined;
      throw error;
    }
  }

  /** The IdP's authorize URL for this sign-in, with Cognito's own state and nonce. */
  async authorizeUrl(input: AuthorizeInput): Promise<URL> {
    const { authorization_endpoint } = await this.discover();
    const url = new URL(authorization_endpoint);
    url.searchParams.set('client_id', this.config.clientId);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('redirect_uri', this.options.redirectUri);
    url.searchParams.set('scope', input.scope);
    url.searchParams.set('state', input.state);
    url.searchParams.set('nonce', input.nonce);
    // login_hint is forwarded to OIDC IdPs; every prompt value but none is too.
    if (input.loginHint) url.searchParams.set('login_hint', input.loginHint);
    if (input.prompt && input.prompt !== 'none') url.searchParams.set('prompt', input.prompt);
    return url;
  }

  /**
   * Redeems the IdP's code and returns the claims of the ID token merged with user info.
   *
   * @throws SignInError with the description Cognito uses for the failure.
   */
  async claimsForCode(
    code: string,
    input: { nonce: string; method: 'GET' | 'POST' },
  ): Promise<Record<string, unknown>> {
    const doc = await this.discover();
    const tokens = await this.redeem(doc, code);
    const idClaims = await this.verifyIdToken(doc, tokens.id_token, input.nonce);
    if (doc.userinfo_endpoint === undefined) return { ...idClaims };
    const userinfo = await this.userinfo(doc.userinfo_endpoint, tokens.access_token, input.method);
    if (userinfo.sub !== undefined && userinfo.sub !== idClaims.sub) {
      throw failure(`${this.providerName} Error - user info is about another subject`);
    }
    return { ...idClaims, ...userinfo };
  }

  private async redeem(doc: Discovery, code: string): Promise<{ id_token: string; access_token: string }> {
    let response: Response;
    try {
      response = await fetch(doc.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        // Cognito authenticates to IdPs with client_secret_post only.
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code,
          redirect_uri: this.options.redirectUri,
          client_id: this.config.clientId,
          client_secret: this.config.clientSecret,
        }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw failure(
        isTimeout(error) ? 'Timeout occurred in calling IdP token endpoint' : 'Connection reset',
        error,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw failure(`${this.providerName} Error - ${response.status} error getting token`);
    }
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (typeof body?.token_type !== 'string' || body.token_type.toLowerCase() !== 'bearer') {
      throw failure('invalid token_type in idp oauth response');
    }
    if (typeof body.id_token !== 'string' || typeof body.access_token !== 'string') {
      // Wording unconfirmed.
      throw failure(`${this.providerName} Error - no id_token in the token response`);
    }
    return { id_token: body.id_token, access_token: body.access_token };
  }

  private async verifyIdToken(doc: Discovery, idToken: string, nonce: string): Promise<JWTPayload> {
    this.jwks ??= createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: this.options.timeoutMs });
    try {
      const { payload } = await jwtVerify(idToken, this.jwks, {
        issuer: this.config.issuer,
        audience: this.config.clientId,
        // RSA or ECDSA; the IdPs here sign with RS256.
        algorithms: ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'],
        currentDate: new Date(this.options.now()),
        clockTolerance: 300,
      });
      if (payload.nonce !== nonce)
        throw failure(`${this.providerName} Error - invalid nonce in the ID token`);
      return payload;
    } catch (error) {
      if (error instanceof SignInError) throw error;
      if (error instanceof joseErrors.JWKSTimeout) throw failure('Timeout in calling jwks uri', error);
      // Wording unconfirmed: Cognito documents no message for a rejected IdP ID token.
      throw failure(`${this.providerName} Error - invalid ID token (${(error as Error).message})`, error);
    }
  }

  private async userinfo(
    endpoint: string,
    accessToken: string,
    method: 'GET' | 'POST',
  ): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(endpoint, {
        method,
        headers: {
          authorization: `Bearer ${accessToken}`,
          accept: 'application/json',
          ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(method === 'POST' ? { body: '' } : {}),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw failure(isTimeout(error) ? 'Read timed out' : 'Connection reset', error);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw failure(`${this.providerName} Error - ${response.status} error getting user info`);
    }
    // Cognito reads user info as plain JSON only; a JWT (Idura's signedJwt and other strategies)
    // fails the sign-in with this description (https://docs.idura.app/verify/integrations/aws-cognito/).
    if (!/^application\/json\b/i.test(response.headers.get('content-type') ?? '')) {
      await response.body?.cancel();
      throw failure('invalid token_type in idp oauth response');
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw failure('invalid token_type in idp oauth response');
    }
    return body as Record<string, unknown>;
  }
}
