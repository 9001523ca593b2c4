/**
 * A fetch-driven "browser" for HTTP tests against the offline stack: one cookie jar for
 * `localhost` whatever the port (as browsers keep cookies), manual redirects, and the IdP
 * stand-ins' sign-in pages answered by choosing a test identity.
 */
import assert from 'node:assert/strict';

export class Browser {
  readonly cookies = new Map<string, { value: string; path: string }>();
  /** Every URL visited, in order. */
  readonly visited: string[] = [];

  cookieHeader(url: URL): string {
    return [...this.cookies]
      .filter(([, c]) => url.pathname.startsWith(c.path))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((s) => s.trim());
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) || '/';
      const expired = /max-age=0\b/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line);
      if (value === '' || expired) this.cookies.delete(name);
      else this.cookies.set(name, { value, path });
    }
  }

  async request(
    url: string | URL,
    init: RequestInit & { form?: Record<string, string> } = {},
  ): Promise<Response> {
    const target = new URL(url);
    const { form, ...rest } = init;
    const headers = new Headers(rest.headers);
    const cookie = this.cookieHeader(target);
    if (cookie) headers.set('cookie', cookie);
    if (form) headers.set('content-type', 'application/x-www-form-urlencoded');
    this.visited.push(target.href);
    // Browsers resolve every *.localhost name to loopback themselves (RFC 6761 section 6.3).
    const connectTo = new URL(target);
    if (connectTo.hostname.endsWith('.localhost')) connectTo.hostname = '127.0.0.1';
    const response = await fetch(connectTo, {
      redirect: 'manual',
      ...rest,
      method: rest.method ?? (form ? 'POST' : 'GET'),
      headers,
      ...(form ? { body: new URLSearchParams(form) } : {}),
    });
    this.store(response);
    return response;
  }

  /**
   * Follows redirects, auto-submitted forms and IdP sign-in pages (choosing `identity`) from `url`
   * until a response that is not a redirect arrives at `stopAt` (an origin or URL prefix), or any
   * non-redirect, non-sign-in page. Returns that response and its URL.
   */
  async navigate(
    url: string | URL,
    options: { identity?: string; stopAt?: string } = {},
  ): Promise<{ response: Response; url: URL }> {
    let current = new URL(url);
    let response = await this.request(current);
    for (let hops = 0; hops < 20; hops += 1) {
      if ([301, 302, 303, 307].includes(response.status)) {
        current = new URL(response.headers.get('location') ?? '', current);
        if (
          options.stopAt &&
          current.href.startsWith(options.stopAt) &&
          !current.pathname.startsWith('/auth/')
        ) {
          return { response, url: current };
        }
        response = await this.request(current);
        continue;
      }
      const type = response.headers.get('content-type') ?? '';
      if (response.status !== 200 || !type.includes('html')) return { response, url: current };
      const html = await response.clone().text();
      const form = parseForm(html, current);
      if (html.includes('name="identity"')) {
        assert.ok(options.identity, `a sign-in page at ${current.href} needs an identity`);
        response = await this.request(form.action, { form: { identity: options.identity } });
        current = form.action;
      } else if (form.autoSubmit) {
        response = await this.request(form.action, { form: form.fields });
        current = form.action;
      } else {
        return { response, url: current };
      }
    }
    throw new Error(`too many redirects from ${String(url)}`);
  }
}

function parseForm(
  html: string,
  base: URL,
): { action: URL; fields: Record<string, string>; autoSubmit: boolean } {
  const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
  const fields: Record<string, string> = {};
  for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    if (name !== undefined) fields[name] = (value ?? '').replaceAll('&amp;', '&');
  }
  return {
    action: new URL((action ?? base.href).replaceAll('&amp;', '&'), base),
    fields,
    autoSubmit: action !== undefined && /\.submit\(\)|onload/.test(html) && !html.includes('name="identity"'),
  };
}

export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}
