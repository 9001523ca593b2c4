/** A deployed stack's outputs and parameters, read with CloudFormation DescribeStacks. */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { type SmokeTarget, TargetError, targetFromStack } from './target.ts';

/**
 * @throws TargetError when the stack cannot be read (no credentials, wrong name or region) or lacks outputs.
 */
export async function readStackTarget(
  input: { stackName: string; region: string; frontendOrigin?: string | undefined },
  client: {
    send(command: DescribeStacksCommand): Promise<DescribeStacksCommandOutput>;
  } = new CloudFormationClient({
    region: input.region,
  }),
): Promise<SmokeTarget> {
  let stack: DescribeStacksCommandOutput['Stacks'];
  try {
    stack = (await client.send(new DescribeStacksCommand({ StackName: input.stackName }))).Stacks;
  } catch (error) {
    const name = error instanceof Error ? error.name : 'Error';
    const message = error instanceof Error ? error.message : String(error);
    throw new TargetError(
      `DescribeStacks ${input.stackName} in ${input.region} failed (${name}: ${message}): check --stack and --region, and AWS credentials allowed cloudformation:DescribeStacks`,
    );
  }
  const found = stack?.[0];
  if (found === undefined) throw new TargetError(`no stack ${input.stackName} in ${input.region}`);
  const outputs = Object.fromEntries(
    (found.Outputs ?? []).map((o) => [String(o.OutputKey), String(o.OutputValue ?? '')]),
  );
  const parameters = Object.fromEntries(
    (found.Parameters ?? []).map((p) => [
      String(p.ParameterKey),
      String(p.ResolvedValue ?? p.ParameterValue ?? ''),
    ]),
  );
  return targetFromStack({
    stackName: input.stackName,
    region: input.region,
    outputs,
    parameters,
    frontendOrigin: input.frontendOrigin,
  });
}
