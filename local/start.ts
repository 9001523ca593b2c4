/**
 * `npm start`: the whole federation on this machine. Ctrl-C stops it.
 */
import { readLocalConfigFile } from './config.ts';
import { startOfflineStack } from './stack.ts';

const config = readLocalConfigFile();
let stack: Awaited<ReturnType<typeof startOfflineStack>>;
try {
  stack = await startOfflineStack(config, { quiet: false });
} catch (error) {
  console.error(`\nThe offline stack could not start: ${(error as Error).message}`);
  console.error(
    'Ports and other settings can be changed in local.config.json (see local.config.example.json).',
  );
  process.exit(1);
}

const lines = [
  '',
  'Federation broker: offline stack running',
  '',
  `  Demo page            ${stack.api.url}/`,
  `  Broker API           ${stack.api.url}  (${stack.api.routes.map((r) => `${r.method} ${r.path}`).join(', ')})`,
  `  Cognito hosted UI    ${stack.userPool.url}   issuer ${stack.userPool.issuer}`,
  `  Cognito Identity     ${stack.identityPool.url}   pool ${stack.identityPool.identityPoolId}`,
  `  ID.me stand-in       ${stack.idme.issuer}`,
  `  Idura stand-in       ${stack.idura.issuer}`,
  '',
  `Open ${stack.api.url}/ and sign in with a test identity. Ctrl-C stops everything.`,
  '',
];
console.log(lines.join('\n'));

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
