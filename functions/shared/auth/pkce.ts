/**
 * The per-sign-in secrets of an authorization request: PKCE (RFC 7636, S256 only: Cognito rejects
 * `plain`), `state` (CSRF protection of the callback) and `nonce` (binds the ID token to this sign-in).
 * Generation is oauth4webapi's: 32 random bytes each, base64url.
 */
import {
  calculatePKCECodeChallenge,
  generateRandomCodeVerifier,
  generateRandomNonce,
  generateRandomState,
} from 'oauth4webapi';

export interface AuthorizationSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** BASE64URL(SHA-256(codeVerifier)). */
  codeChallenge: string;
}

/** @example const { state, nonce, codeVerifier, codeChallenge } = await newAuthorizationSecrets(); */
export async function newAuthorizationSecrets(): Promise<AuthorizationSecrets> {
  const codeVerifier = generateRandomCodeVerifier();
  return {
    state: generateRandomState(),
    nonce: generateRandomNonce(),
    codeVerifier,
    codeChallenge: await calculatePKCECodeChallenge(codeVerifier),
  };
}
