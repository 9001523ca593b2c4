/**
 * What Cognito requires of an upstream OIDC IdP (https://docs.aws.amazon.com/cognito/latest/developerguide/cognito-user-pools-oidc-idp.html): HTTPS
 * endpoints on ports 443/80, an issuer without a trailing slash that equals the discovery
 * `issuer`, the four endpoints, a JWKS whose keys all carry a `kid` and are RSA or EC, ID tokens
 * signed with an algorithm Cognito can verify against that JWKS, and `client_secret_post`.
 */
import { type Finding, FindingList } from './findings.ts';
import { discoveryUrlOf, type Fetch, fetchJson, inspectUrl } from './net.ts';

export type IdpKind = 'idme' | 'idura' | 'other';

/** ID-token algorithms Cognito verifies with a key from the IdP's JWKS (RSA and ECDSA). */
const cognitoKeyAlgorithms: readonly string[] = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'];

const requiredEndpoints = [
  'authorization_endpoint',
  'token_endpoint',
  'userinfo_endpoint',
  'jwks_uri',
] as const;

/** ID.me or Idura, from the Cognito provider name or the issuer host. */
export function idpKindOf(name: string, issuer?: string): IdpKind {
  if (/^idme/i.test(name)) return 'idme';
  if (/^(idura|criipto)/i.test(name)) return 'idura';
  let host = '';
  try {
    host = issuer === undefined ? '' : new URL(issuer).hostname;
  } catch {
    // not a URL: decided by name only
  }
  if (/(^|\.)(id\.me|idmelabs\.com)$/.test(host)) return 'idme';
  if (/(^|\.)(idura\.broker|idura\.app|criipto\.id|criipto\.io)$/.test(host)) return 'idura';
  return 'other';
}

export interface EndpointCheckOptions {
  /** Loopback http on any port is accepted (and flagged) for the offline stack. */
  readonly offline: boolean;
  /** `idp.endpoints` or `provider.endpoints`. */
  readonly idPrefix: string;
}

/** `<prefix>.https` and `<prefix>.port` for a list of [label, url]. */
export function checkEndpointUrls(
  list: FindingList,
  endpoints: ReadonlyArray<readonly [string, string]>,
  options: EndpointCheckOptions,
): void {
  const verdicts = endpoints.map(([label, url]) => ({ label, ...inspectUrl(url) }));
  const invalid = verdicts.filter((v) => !v.valid);
  const offlineOk = (v: (typeof verdicts)[number]) => options.offline && v.loopback;
  const notHttps = verdicts.filter((v) => v.valid && !v.https && !offlineOk(v));
  const loopbackHttp = notHttps.filter((v) => v.loopback);
  const flagged = verdicts.some((v) => v.valid && offlineOk(v) && (!v.https || ![443, 80].includes(v.port)));
  if (invalid.length + notHttps.length > 0) {
    const what = [
      ...invalid.map((v) => `${v.label} "${v.url}" is not an http(s) URL`),
      ...notHttps.map((v) => `${v.label} ${v.url} is not https`),
    ].join('; ');
    list.error(
      `${options.idPrefix}.https`,
      what,
      loopbackHttp.length > 0
        ? 'Plain http on localhost is only for the offline stack: run the doctor with --offline, or point the provider at the real https IdP.'
        : 'Cognito calls IdP endpoints over HTTPS only (with a publicly trusted certificate): serve them on https:// URLs.',
    );
  } else {
    list.ok(
      `${options.idPrefix}.https`,
      flagged
        ? 'endpoints are loopback http, accepted for the offline stack only'
        : `${verdicts.map((v) => v.label).join(', ')} use https`,
      { offlineOnly: flagged },
    );
  }
  const badPorts = verdicts.filter((v) => v.valid && ![443, 80].includes(v.port) && !offlineOk(v));
  if (badPorts.length > 0) {
    list.error(
      `${options.idPrefix}.port`,
      badPorts.map((v) => `${v.label} uses port ${v.port}`).join('; '),
      'Cognito connects to IdPs on TCP ports 443 and 80 only: serve every endpoint on the default https port.',
    );
  } else {
    list.ok(
      `${options.idPrefix}.port`,
      flagged ? 'loopback ports, accepted for the offline stack only' : 'every endpoint is on port 443',
      { offlineOnly: flagged },
    );
  }
}

export interface DiscoveryCheckOptions {
  /** Provider name or issuer: the subject of the findings. */
  readonly name: string;
  /** The issuer the configuration names (Cognito's oidc_issuer, or the URL given); undefined for a saved document alone. */
  readonly expectedIssuer?: string | undefined;
  readonly offline: boolean;
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const strings = (value: unknown): string[] | undefined =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;

/** Checks of a discovery document that need no network. */
export function checkDiscoveryDocument(doc: unknown, options: DiscoveryCheckOptions): Finding[] {
  const list = new FindingList('idp', options.name);
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    list.error(
      'idp.discovery',
      'the discovery document is not a JSON object',
      'Serve the OpenID Provider Metadata (a JSON object) at <issuer>/.well-known/openid-configuration.',
    );
    return list.findings;
  }
  const d = doc as Record<string, unknown>;
  const issuer = str(d.issuer);

  if (issuer === undefined) {
    list.error(
      'idp.issuer.match',
      'the discovery document has no "issuer"',
      'The IdP must publish its issuer; Cognito compares it with the ID token iss and the configured oidc_issuer.',
    );
  } else if (options.expectedIssuer !== undefined && issuer !== options.expectedIssuer) {
    list.error(
      'idp.issuer.match',
      `discovery says issuer "${issuer}", the configuration says "${options.expectedIssuer}"`,
      `Set the provider's oidc_issuer to exactly "${issuer.replace(/\/+$/, '')}" (Cognito compares it with the ID token iss character for character).`,
    );
  } else {
    list.ok(
      'idp.issuer.match',
      `issuer ${issuer}${options.expectedIssuer ? ' matches the configuration' : ''}`,
    );
  }

  const slashed = [issuer, options.expectedIssuer].filter((v): v is string => v?.endsWith('/') === true);
  if (slashed.length > 0) {
    list.error(
      'idp.issuer.trailing-slash',
      `issuer "${slashed[0]}" ends with "/"`,
      'Cognito requires an issuer URL without a trailing slash: configure oidc_issuer without it, and if the IdP itself publishes the slash (then its tokens carry it too) ask the IdP for an issuer without one.',
    );
  } else if (issuer !== undefined) {
    list.ok('idp.issuer.trailing-slash', 'issuer has no trailing slash');
  }

  const missing = requiredEndpoints.filter((key) => str(d[key]) === undefined);
  if (missing.length > 0) {
    list.error(
      'idp.endpoints.present',
      `missing ${missing.join(', ')}`,
      'Cognito reads authorization_endpoint, token_endpoint, userinfo_endpoint and jwks_uri from discovery; publish them, or enter authorize_url, token_url, attributes_url and jwks_uri in the provider details by hand.',
    );
  } else {
    list.ok('idp.endpoints.present', 'authorization, token, userinfo and jwks endpoints are published');
  }

  const urls: Array<readonly [string, string]> = [];
  if (issuer !== undefined) urls.push(['issuer', issuer]);
  for (const key of requiredEndpoints) {
    const value = str(d[key]);
    if (value !== undefined) urls.push([key, value]);
  }
  checkEndpointUrls(list, urls, { offline: options.offline, idPrefix: 'idp.endpoints' });

  const userinfoAlgorithms = strings(d.userinfo_signing_alg_values_supported) ?? [];
  if (userinfoAlgorithms.length > 0) {
    list.warning(
      'idp.userinfo.signing',
      `discovery advertises signed user info (userinfo_signing_alg_values_supported: ${userinfoAlgorithms.join(', ')}): if the IdP signs or encrypts user info for Cognito's client, every sign-in fails with "invalid token_type in idp oauth response"`,
      userinfoAdvice(idpKindOf(options.name, issuer)),
    );
  }

  const algorithms = strings(d.id_token_signing_alg_values_supported);
  if (algorithms === undefined) {
    list.warning(
      'idp.signing-alg',
      'id_token_signing_alg_values_supported is not published (RS256 is then assumed)',
      'Publish id_token_signing_alg_values_supported (OpenID Discovery requires it) and sign ID tokens with RS256.',
    );
  } else {
    const usable = algorithms.filter((a) => cognitoKeyAlgorithms.includes(a));
    if (usable.length === 0) {
      list.error(
        'idp.signing-alg',
        `ID tokens are signed only with ${algorithms.join(', ') || 'nothing'}`,
        'Cognito verifies IdP ID tokens with a key published in the JWKS and chosen by kid: sign them with RS256 (or ES256). HMAC (HS256, keyed with the client secret) publishes no such key.',
      );
    } else {
      list.ok('idp.signing-alg', `ID tokens may be signed with ${usable.join(', ')}`);
    }
  }

  const methods = strings(d.token_endpoint_auth_methods_supported);
  if (methods === undefined) {
    list.warning(
      'idp.token-auth',
      'token_endpoint_auth_methods_supported is not published; the OpenID default is client_secret_basic only',
      'Confirm with the IdP that its token endpoint accepts client_secret_post for the Cognito client: Cognito sends client_id and client_secret in the form body and never uses Basic.',
    );
  } else if (!methods.includes('client_secret_post')) {
    list.error(
      'idp.token-auth',
      `the token endpoint accepts ${methods.join(', ') || 'no method'}, not client_secret_post`,
      'Cognito authenticates to IdPs only with client_secret_post (client_id and client_secret in the form body): enable it for the Cognito client at the IdP. Sign-in otherwise fails with "<IdP> Error - 401 error getting token".',
    );
  } else {
    list.ok('idp.token-auth', 'the token endpoint accepts client_secret_post');
  }
  return list.findings;
}

/** Checks of a JWKS: a `kid` on every key, RSA or EC signing keys with an algorithm Cognito verifies, no private parts. */
export function checkJwks(jwks: unknown, options: { name: string }): Finding[] {
  const list = new FindingList('idp', options.name);
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) {
    list.error(
      'idp.jwks.keys',
      'the JWKS has no "keys" array',
      'The jwks_uri must answer {"keys":[…]} with the public keys that sign ID tokens.',
    );
    return list.findings;
  }
  const described = keys.map((raw, index) => {
    const k = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
    const kid = str(k.kid);
    return {
      index,
      kid,
      kty: str(k.kty),
      alg: str(k.alg),
      use: str(k.use),
      label: kid === undefined ? `key #${index + 1}` : `kid ${kid}`,
      isPrivate: ['d', 'p', 'q', 'k'].some((part) => part in k && !(part === 'k' && k.kty !== 'oct')),
    };
  });
  const withoutKid = described.filter((k) => k.kid === undefined);
  if (withoutKid.length > 0) {
    list.error(
      'idp.jwks.kid',
      `${withoutKid.map((k) => `${k.label} (${k.kty ?? 'no kty'})`).join(', ')} has no kid`,
      'Publish a kid on every JWKS key and put the same kid in each ID token header: Cognito chooses the verification key by kid.',
    );
  } else if (keys.length > 0) {
    list.ok('idp.jwks.kid', `every key has a kid (${keys.length} key${keys.length === 1 ? '' : 's'})`);
  }
  const signing = described.filter((k) => k.use !== 'enc');
  const unusable = signing.filter(
    (k) =>
      !['RSA', 'EC'].includes(k.kty ?? '') || (k.alg !== undefined && !cognitoKeyAlgorithms.includes(k.alg)),
  );
  if (unusable.length > 0) {
    list.error(
      'idp.jwks.alg',
      unusable.map((k) => `${k.label} is ${[k.kty ?? 'no kty', k.alg].filter(Boolean).join(' ')}`).join('; '),
      'Publish only RSA (RS256) or EC (ES256) public keys for ID-token signing; Cognito cannot verify with symmetric (oct/HS256) or other keys.',
    );
  } else if (signing.length > 0) {
    list.ok(
      'idp.jwks.alg',
      `signing keys are ${[...new Set(signing.map((k) => [k.kty, k.alg].filter(Boolean).join(' ')))].join(', ')}`,
    );
  }
  if (signing.length - unusable.length === 0) {
    list.error(
      'idp.jwks.keys',
      'the JWKS has no RSA or EC signing key',
      'Publish the public key that signs the ID tokens (RSA or EC, with a kid) at jwks_uri.',
    );
  }
  const exposed = described.filter((k) => k.isPrivate);
  if (exposed.length > 0) {
    list.error(
      'idp.jwks.private',
      `${exposed.map((k) => k.label).join(', ')} publishes private key material`,
      'Remove the private parts (d, p, q, …) and secret keys from the JWKS at once and rotate the keys: anyone can sign tokens with them.',
    );
  }
  return list.findings;
}

/**
 * What to ask the IdP for: Cognito reads the userinfo endpoint as plain JSON only (a JWT there fails
 * the sign-in), so the client Cognito uses must have no signed or encrypted user-info response.
 */
export function userinfoAdvice(kind: IdpKind): string {
  const ask =
    'Ask the IdP to answer user info for the client Cognito uses as plain JSON (Content-Type application/json; no userinfo_signed_response_alg or userinfo_encrypted_response_alg registered for that client).';
  if (kind === 'idura')
    return `${ask} Idura: set the application's user info response strategy to plainJson in the dashboard.`;
  if (kind === 'idme')
    return `${ask} ID.me: ask your ID.me solution consultant to confirm that this client's user info is released as unsigned JSON (ID.me advertises RS256/ES256 user-info signing).`;
  return ask;
}

/** The advice for Idura when user info cannot be probed (a live IdP needs a user's token). */
export function iduraUserinfoAdvice(name: string): Finding {
  return {
    id: 'idp.userinfo.plain-json',
    severity: 'warning',
    group: 'idp',
    subject: name,
    message: "Idura's user info response strategy cannot be read without a user's token",
    fix: 'In the Idura dashboard, set the application\'s user info response strategy to plainJson: with signedJwt (or any JWT strategy) Cognito fails with "invalid token_type in idp oauth response".',
  };
}

export interface IdpSource {
  /** Provider name, or the issuer / file when there is none. */
  readonly name: string;
  /** The issuer the configuration names; its discovery document is fetched unless `document` is given. */
  readonly issuer?: string | undefined;
  /** A saved discovery document. */
  readonly document?: unknown;
  /** A saved JWKS, used instead of fetching jwks_uri. */
  readonly jwks?: unknown;
}

export interface IdpCheckOptions {
  readonly fetch: Fetch;
  readonly timeoutMs: number;
  readonly offline: boolean;
}

/** Every IdP check for one provider: discovery (fetched or given), then its JWKS (fetched or given). */
export async function checkIdp(source: IdpSource, options: IdpCheckOptions): Promise<Finding[]> {
  const list = new FindingList('idp', source.name);
  let document = source.document;
  if (document === undefined) {
    if (source.issuer === undefined) throw new TypeError('checkIdp needs an issuer or a document');
    const url = discoveryUrlOf(source.issuer);
    const result = await fetchJson(options.fetch, url, options.timeoutMs);
    if (!result.ok) {
      list.error(
        'idp.discovery',
        `could not read ${url}: ${result.reason}`,
        'Check the issuer URL (oidc_issuer) and that the IdP answers its discovery document over https from the internet; Cognito reports "Connection reset" or "Read timed out" otherwise.',
      );
      return list.findings;
    }
    list.ok('idp.discovery', `discovery document read from ${url}`);
    document = result.body;
  } else {
    list.ok('idp.discovery', 'saved discovery document');
  }
  const findings = [
    ...list.findings,
    ...checkDiscoveryDocument(document, {
      name: source.name,
      expectedIssuer: source.issuer,
      offline: options.offline,
    }),
  ];
  let jwks = source.jwks;
  const jwksUri = str((document as Record<string, unknown> | null)?.jwks_uri);
  if (jwks === undefined && jwksUri !== undefined) {
    const jwksList = new FindingList('idp', source.name);
    const result = await fetchJson(options.fetch, jwksUri, options.timeoutMs);
    if (!result.ok) {
      jwksList.error(
        'idp.jwks.fetch',
        `could not read the JWKS ${jwksUri}: ${result.reason}`,
        'The jwks_uri must answer {"keys":[…]} over https; Cognito reports "Timeout in calling jwks uri" otherwise.',
      );
    } else {
      jwksList.ok('idp.jwks.fetch', `JWKS read from ${jwksUri}`);
      jwks = result.body;
    }
    findings.push(...jwksList.findings);
  }
  if (jwks !== undefined) findings.push(...checkJwks(jwks, { name: source.name }));
  return findings;
}
