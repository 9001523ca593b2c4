/**
 * Writes the session cookie of events/session/signed-in.json, so that the sample does what its name
 * says: sealed with the offline stack's cookie keys (local/config.ts: local only, never deployed) for
 * an ID.me sandbox veteran, named and scoped as the offline stack's functions expect (plain http on
 * localhost: `broker-session`, no `__Host-` prefix), and valid until 2100 so the sample keeps working.
 *
 * /auth/session shows a session only after the refresh_token grant confirms it, so the user pool must
 * know the sample's refresh token: the offline stack's user-pool stand-in holds it from the start
 * (local/stack.ts), test/unit/auth/events.test.ts registers it with its fake user pool.
 * Usage: node scripts/sample-events.ts
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cookieSpecs, deriveKeyring, sealSession, startSession } from '#broker';
import { localConfig } from '../local/config.ts';
import { sampleSession } from '../local/fixtures.ts';

const file = join(import.meta.dirname, '..', 'events', 'session', 'signed-in.json');
const offline = localConfig();
// As the offline stack's functions derive it from PUBLIC_BASE_URL (plain http: no Secure, no prefix).
const config = { secureCookies: false, callbackUrl: `${offline.publicBaseUrl}/auth/callback` };
const { current, ...secrets } = offline.cookieKeys;
const keyring = deriveKeyring({ current: current as string, secrets });
const now = Math.floor(Date.parse('2026-12-01T00:00:00Z') / 1000);
const session = startSession({
  claims: {
    sub: sampleSession.sub,
    iss: `http://localhost:${offline.ports.userPool}/${offline.userPoolId}`,
    aud: offline.appClient.clientId,
    iat: now,
    exp: now + 3600,
    idp: 'idme',
    idp_env: 'sandbox',
    given_name: 'Sample',
    family_name: 'Veteran',
    name: 'Sample Veteran',
    assurance_level: 'IAL2',
    affiliations: ['military:veteran'],
    affiliation_tags: 'military:veteran',
    claims_schema: 'fb-1',
  },
  refreshToken: sampleSession.refreshToken,
  provider: sampleSession.provider,
  identityId: `${offline.region}:0f3a1c2e-0000-4000-8000-000000000001`,
  nowSeconds: now,
  maxAgeSeconds: Math.floor(Date.parse('2100-01-01T00:00:00Z') / 1000) - now,
});
const sealed = await sealSession(session, keyring, cookieSpecs(config).session, now);
const event = JSON.parse(readFileSync(file, 'utf8')) as {
  cookies: string[];
  headers: Record<string, string>;
  requestContext: { domainName: string; domainPrefix: string };
};
const api = new URL(offline.publicBaseUrl);
event.cookies = [sealed.setCookie.split(';')[0] as string];
// A same-origin fetch from the offline stack's demo page, as the browser sends it.
Object.assign(event.headers, {
  host: api.host,
  origin: offline.frontendOrigins[0],
  'sec-fetch-site': 'same-origin',
  'x-forwarded-port': api.port,
  'x-forwarded-proto': 'http',
});
event.requestContext.domainName = api.hostname;
event.requestContext.domainPrefix = api.hostname;
writeFileSync(file, `${JSON.stringify(event, null, 2)}\n`);
console.log(`wrote ${file}`);
