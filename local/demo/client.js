// A small browser client for the broker: the session lives in HttpOnly cookies the page cannot
// read, so the page only ever sees canonical claims and short-lived credentials.
const refreshMarginMs = 5 * 60 * 1000;

export class BrokerClient {
  #base;
  #cached;

  constructor(baseUrl = '') {
    this.#base = baseUrl;
  }

  /** `{ signedIn, provider, identityId, claims, expiresAt }` or `{ signedIn: false }`. */
  async session() {
    return this.#json('/auth/session');
  }

  /** Where to send the browser to sign in with a Cognito provider name. */
  loginUrl(provider, returnTo = '/') {
    return `${this.#base}/auth/login?${new URLSearchParams({ provider, return_to: returnTo })}`;
  }

  /** Credentials for the AWS SDK, reused until five minutes before they expire. */
  async credentials() {
    if (this.#cached && new Date(this.#cached.Expiration).getTime() - Date.now() > refreshMarginMs) {
      return this.#cached;
    }
    this.#cached = await this.#json('/credentials', { method: 'POST' });
    return this.#cached;
  }

  /** Revokes the session and returns Cognito's logout URL to navigate to. */
  async logout() {
    this.#cached = undefined;
    const { logoutUrl } = await this.#json('/auth/logout', { method: 'POST' });
    return logoutUrl;
  }

  async #json(path, init = {}) {
    const response = await fetch(`${this.#base}${path}`, {
      ...init,
      credentials: 'include',
      headers: { accept: 'application/json' },
    });
    const body = await response.json();
    if (!response.ok) throw new Error(`${body.error}: ${body.message}`);
    return body;
  }
}
