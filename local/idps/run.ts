// Starts both stand-ins for manual poking:
//   node local/idps/run.ts [idmePort] [iduraPort]
// The client below is registered with both; its redirect URI is Cognito's idpresponse path on a
// local Cognito stand-in at port 4000 (change REDIRECT_URI to point elsewhere).

import { startIdmeStandIn } from './idme.ts';
import { startIduraStandIn } from './idura.ts';

const REDIRECT_URI = process.env.REDIRECT_URI ?? 'http://localhost:4000/oauth2/idpresponse';
const clients = [
  { clientId: 'local-broker', clientSecret: 'local-broker-secret', redirectUris: [REDIRECT_URI] },
];

const idme = await startIdmeStandIn({ clients, port: Number(process.argv[2] ?? 4101) });
const idura = await startIduraStandIn({ clients, port: Number(process.argv[3] ?? 4102) });

const example = (authorize: string, scope: string, extra = ''): string =>
  `${authorize}?client_id=local-broker&response_type=code&redirect_uri=${encodeURIComponent(REDIRECT_URI)}` +
  `&scope=${encodeURIComponent(scope)}&state=xyz&nonce=abc${extra}`;

console.log(`ID.me stand-in   issuer ${idme.issuer}
  discovery ${idme.issuer}/.well-known/openid-configuration
  sign in   ${example(`${idme.url}/oauth/authorize`, 'openid military')}
Idura stand-in   issuer ${idura.issuer}
  discovery ${idura.issuer}/.well-known/openid-configuration
  sign in   ${example(`${idura.url}/oauth2/authorize`, 'openid', `&login_hint=${encodeURIComponent('acr_values:urn:grn:authn:dk:mitid:substantial')}`)}
client local-broker / local-broker-secret, redirect URI ${REDIRECT_URI}
Ctrl-C stops both.`);

process.once('SIGINT', () => {
  void Promise.all([idme.close(), idura.close()]).then(() => process.exit(0));
});
