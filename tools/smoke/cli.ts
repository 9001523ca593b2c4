/**
 * `npm run smoke -- --stack <name> [--region r] [--frontend-origin o]` or `npm run smoke -- --offline`:
 * checks a deployed (or an ephemeral offline) stack end to end as far as anything can without a person
 * at ID.me or Idura. Flags and wiring only; the checks are in checks.ts.
 */
import { parseArgs } from 'node:util';
import { startEphemeralStack } from '../../local/stack.ts';
import { UsageError } from '../doctor/args.ts';
import { renderSmoke, runSmoke } from './checks.ts';
import { readStackTarget } from './stack.ts';
import { TargetError, targetFromOfflineStack } from './target.ts';

export const helpText = `npm run smoke -- --stack <name> [--region <region>] [--frontend-origin <origin>]
npm run smoke -- --offline

Checks a deployed broker the way a browser and an IdP would meet it, without signing anyone in:
every route's answer to an unauthenticated or invalid request (status, error code, Cache-Control,
CORS for an allowed origin only, security headers), /auth/login for each provider (a redirect to
the hosted UI with PKCE, state and nonce), the hosted UI's redirect to each IdP (client_id, scope,
redirect_uri = the IdpResponseUrl output), the user pool's discovery and JWKS, and a foreign token
at /credentials (401 untrusted_issuer). Each failure says what to fix. Exit code 1 when a check
fails, 2 for a usage mistake.

  --stack <name>            the CloudFormation stack (outputs and parameters read with DescribeStacks:
                            needs AWS credentials allowed cloudformation:DescribeStacks)
  --region <region>         the stack's region (default: AWS_REGION, then us-east-1)
  --frontend-origin <o>     the allowed frontend origin to test CORS with (default: the first of FrontendOrigins)
  --offline                 start an offline stack on free ports, check it, stop it
  --help                    this text
`;

export interface SmokeArgs {
  readonly help: boolean;
  readonly offline: boolean;
  readonly stack: string | undefined;
  readonly region: string;
  readonly frontendOrigin: string | undefined;
}

/** @throws UsageError for unknown flags or a missing mode. */
export function parseSmokeArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): SmokeArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        stack: { type: 'string' },
        region: { type: 'string' },
        'frontend-origin': { type: 'string' },
        offline: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const args: SmokeArgs = {
    help: values.help === true,
    offline: values.offline === true,
    stack: values.stack as string | undefined,
    region: (values.region as string | undefined) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    frontendOrigin: values['frontend-origin'] as string | undefined,
  };
  if (args.help) return args;
  if (args.offline === (args.stack !== undefined)) {
    throw new UsageError('give either --stack <name> or --offline');
  }
  if (args.frontendOrigin !== undefined) {
    let origin = '';
    try {
      origin = new URL(args.frontendOrigin).origin;
    } catch {
      origin = '';
    }
    if (origin !== args.frontendOrigin) {
      throw new UsageError(
        `--frontend-origin ${args.frontendOrigin} is not an origin (scheme://host[:port])`,
      );
    }
  }
  return args;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: SmokeArgs;
  try {
    args = parseSmokeArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`smoke: ${error.message}\nRun npm run smoke -- --help for the flags.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(helpText);
    return 0;
  }
  if (args.offline) {
    // The functions' refusals are the expected answers here: only their errors are worth printing.
    const stack = await startEphemeralStack({ logLevel: 'error' });
    try {
      const target = targetFromOfflineStack(stack);
      const results = await runSmoke(target);
      process.stdout.write(renderSmoke(target, results));
      return results.every((r) => r.ok) ? 0 : 1;
    } finally {
      await stack.close();
    }
  }
  try {
    const target = await readStackTarget({
      stackName: args.stack as string,
      region: args.region,
      frontendOrigin: args.frontendOrigin,
    });
    const results = await runSmoke(target);
    process.stdout.write(renderSmoke(target, results));
    return results.every((r) => r.ok) ? 0 : 1;
  } catch (error) {
    if (!(error instanceof TargetError)) throw error;
    process.stderr.write(`smoke: ${error.message}\n`);
    return 1;
  }
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
