/**
 * `npm start`: the whole federation on this machine. Ctrl-C stops it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalApi } from './api.ts';
import { readLocalConfigFile } from './config.ts';
import { type StandIns, startOfflineStack, startStandIns } from './stack.ts';

// --stand-ins-only: everything but the API, for `sam local start-api --env-vars env.json`.
const standInsOnly = process.argv.includes('--stand-ins-only');
// Under sam local the function containers reach the Cognito stand-ins through Docker's bridge, by a
// name the browser resolves too (README, "sam local start-api"); local.config.json may say otherwise.
const config = standInsOnly
  ? readLocalConfigFile(undefined, { host: '0.0.0.0', cognitoHost: 'cognito.localhost' })
  : readLocalConfigFile();
let stack: StandIns & { api?: LocalApi };
try {
  stack = standInsOnly
    ? await startStandIns(config, { quiet: false })
    : await startOfflineStack(config, { quiet: false });
} catch (error) {
  console.error(`\nThe offline stack could not start: ${(error as Error).message}`);
  console.error(
    'Ports and other settings can be changed in local.config.json (see local.config.example.json).',
  );
  process.exit(1);
}

const api = stack.api;
const envFile = join(import.meta.dirname, '..', 'env.json');
if (standInsOnly) writeFileSync(envFile, `${JSON.stringify({ Parameters: stack.functionEnv }, null, 2)}\n`);
const lines = [
  '',
  `Federation broker: offline ${standInsOnly ? 'stand-ins' : 'stack'} running`,
  '',
  ...(api
    ? [
        `  Demo page            ${api.url}/`,
        `  Broker API           ${api.url}  (${api.routes.map((r) => `${r.method} ${r.path}`).join(', ')})`,
      ]
    : [`  env.json written     ${envFile}`]),
  `  Cognito hosted UI    ${stack.userPool.url}   issuer ${stack.userPool.issuer}`,
  `  Cognito Identity     ${stack.identityPool.url}   pool ${stack.identityPool.identityPoolId}`,
  `  ID.me stand-in       ${stack.idme.issuer}`,
  `  Idura stand-in       ${stack.idura.issuer}`,
  '',
  api
    ? `Open ${api.url}/ and sign in with a test identity. Ctrl-C stops everything.`
    : `Now run: npm run sam:local${config.ports.api === 3000 ? '' : ` -- --port ${config.ports.api}`}   (sam build && sam local start-api --env-vars env.json --add-host ${config.cognitoHost ?? config.publicHost}:host-gateway)`,
  '',
];
console.log(lines.join('\n'));

// The session's metrics (the functions' EMF lines, local/emf.ts): one line a minute when there were any.
if (api) {
  let since = Date.now();
  setInterval(() => {
    const summary = stack.metrics.summary(since);
    since = Date.now();
    if (summary !== 'no metrics') console.log(`metrics, last minute: ${summary}  (all: ${api.url}/_metrics)`);
  }, 60_000).unref();
}

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the offline stack…`);
  await stack.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
