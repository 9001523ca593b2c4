/**
 * Browser sessions need the broker on the frontend's site: its cookies are SameSite=Lax, so a
 * frontend's `fetch(…, { credentials: 'include' })` to another site carries no cookie. "Site" is the
 * scheme plus the registrable domain (eTLD+1 by the Public Suffix List, as browsers compute it:
 * https://html.spec.whatwg.org/multipage/browsers.html#same-site).
 */
import { getDomain } from 'tldts';
import type { Env } from '#broker';
import type { TemplateResolver } from '../../local/template.ts';
import type { Finding } from './findings.ts';
import { FindingList } from './findings.ts';

/** `https://example.com` for https://app.example.com; the host itself for localhost and IP addresses. */
export function siteOf(origin: string): string | undefined {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  // allowPrivateDomains: browsers treat private suffixes (execute-api.<region>.amazonaws.com, …) as public.
  const domain = getDomain(host, { allowPrivateDomains: true }) ?? host;
  return `${url.protocol}//${domain}`;
}

const value = (env: Env, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/**
 * One finding per allowed origin when session cookies are in use (the sign-in variables are set):
 * an error for an origin on another site than PUBLIC_BASE_URL.
 */
export function checkSameSite(env: Env): Finding[] {
  const sessions = ['COGNITO_DOMAIN_URL', 'COOKIE_KEYS', 'COOKIE_KEYS_SECRET_ID'].some(
    (name) => value(env, name) !== undefined,
  );
  const base = value(env, 'PUBLIC_BASE_URL');
  const apiSite = base === undefined ? undefined : siteOf(base);
  if (!sessions || apiSite === undefined) return [];
  const findings: Finding[] = [];
  const origins = (value(env, 'ALLOWED_ORIGINS') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const origin of origins) {
    const site = siteOf(origin);
    if (site === undefined) continue; // config.allowed-origins reports it
    const list = new FindingList('config', 'ALLOWED_ORIGINS');
    if (site === apiSite) {
      list.ok(
        'config.same-site',
        `${origin} is on the API's site (${apiSite}): session cookies reach the API`,
      );
    } else {
      const host = new URL(origin).hostname;
      const suggestion = site.startsWith('https:') ? `auth.${site.replace(/^https:\/\//, '')}` : undefined;
      list.error(
        'config.same-site',
        `${origin} is on ${site}, the API (PUBLIC_BASE_URL ${base}) on ${apiSite}: the SameSite=Lax session cookie never reaches the API from this frontend's fetch calls`,
        `Give the API a custom domain on the frontend's site: deploy with ApiDomainName=${suggestion ?? `<a name under ${host}'s site>`} and CertificateArn=<an ACM certificate for it in the stack's region> (PublicBaseUrl then follows; README "Deploying"). A bearer-only frontend (Authorization: Bearer at /credentials, no cookies) does not need it: then leave the sign-in routes unused.`,
      );
    }
    findings.push(...list.findings);
  }
  return findings;
}

/**
 * The same check on template.yaml itself (template mode without --env): the environment of the first
 * function that reads PUBLIC_BASE_URL, as the template resolves it with the given parameters.
 */
export function checkSameSiteInTemplate(resolver: TemplateResolver): Finding[] {
  for (const id of resolver.resourcesOfType('AWS::Serverless::Function')) {
    const environment = resolver.resource(id).Properties.Environment as
      | { Variables?: Record<string, unknown> }
      | undefined;
    const variables = environment?.Variables ?? {};
    if (variables.PUBLIC_BASE_URL === undefined) continue;
    return checkSameSite(Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)])));
  }
  return [];
}

/** ApiDomainName and CertificateArn work only together: one alone creates no domain (HasCustomDomain). */
export function checkCustomDomainParameters(resolver: TemplateResolver): Finding[] {
  const domain = resolver.parameter('ApiDomainName');
  const certificate = resolver.parameter('CertificateArn');
  if (domain === undefined && certificate === undefined) return [];
  const list = new FindingList('config', 'ApiDomainName');
  const has = (v: unknown) => typeof v === 'string' && v !== '';
  if (has(domain) !== has(certificate)) {
    list.error(
      'config.custom-domain',
      has(domain)
        ? `ApiDomainName ${String(domain)} is set without CertificateArn: the template creates no custom domain, and the broker's public origin stays PublicBaseUrl`
        : 'CertificateArn is set without ApiDomainName: the template creates no custom domain',
      "Set both: ApiDomainName (a name on the frontend's site) and CertificateArn (an ACM certificate for that name, issued in the stack's region).",
    );
  } else if (has(domain)) {
    list.ok('config.custom-domain', `the API is served at https://${String(domain)}`);
  }
  return list.findings;
}
