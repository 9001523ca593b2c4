/** The smoke test's view of a deployed stack: DescribeStacks outputs and parameters, and its flags. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { UsageError } from '../../../tools/doctor/args.ts';
import { parseSmokeArgs } from '../../../tools/smoke/cli.ts';
import { readStackTarget } from '../../../tools/smoke/stack.ts';
import { TargetError } from '../../../tools/smoke/target.ts';

const outputs = {
  PublicOrigin: 'https://auth.example.com',
  AllowedOrigins: 'https://app.example.com,https://admin.example.com',
  HostedUiDomain: 'my-broker-auth.auth.eu-west-1.amazoncognito.com',
  UserPoolIssuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123',
  UserPoolClientId: 'client123',
  IdpResponseUrl: 'https://my-broker-auth.auth.eu-west-1.amazoncognito.com/oauth2/idpresponse',
  IdmeProviderName: 'IDme',
  IduraProviderName: 'Idura',
};
const parameters = {
  HostedUiDomainPrefix: 'my-broker-auth',
  IdmeEnvironment: 'production',
  IdmeClientId: 'idme-client',
  IdmePolicy: 'student',
  IduraDomain: 'acme.idura.broker',
  IduraEnvironment: 'production',
  IduraClientId: 'urn:acme:broker',
  FrontendOrigins: 'https://app.example.com,https://admin.example.com',
};

function stackClient(stack: { outputs?: Record<string, string>; error?: Error }) {
  const cfn = mockClient(CloudFormationClient);
  if (stack.error) cfn.on(DescribeStacksCommand).rejects(stack.error);
  else
    cfn.on(DescribeStacksCommand, { StackName: 'federation-broker' }).resolves({
      Stacks: [
        {
          StackName: 'federation-broker',
          CreationTime: new Date(),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: Object.entries(stack.outputs ?? outputs).map(([OutputKey, OutputValue]) => ({
            OutputKey,
            OutputValue,
          })),
          Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({
            ParameterKey,
            ParameterValue,
          })),
        },
      ],
    });
  return new CloudFormationClient({ region: 'eu-west-1' });
}

describe('smoke: a deployed stack as the target', () => {
  it('reads outputs and parameters, and derives what Cognito must send each IdP from the template', async () => {
    const target = await readStackTarget(
      { stackName: 'federation-broker', region: 'eu-west-1' },
      stackClient({}),
    );
    assert.equal(target.publicOrigin, 'https://auth.example.com');
    assert.equal(target.frontendOrigin, 'https://app.example.com');
    assert.equal(target.hostedUiUrl, 'https://my-broker-auth.auth.eu-west-1.amazoncognito.com');
    assert.deepEqual(target.providers, [
      {
        name: 'IDme',
        issuer: 'https://api.id.me/oidc',
        clientId: 'idme-client',
        scopes: ['openid', 'student'],
      },
      { name: 'Idura', issuer: 'https://acme.idura.broker', clientId: 'urn:acme:broker', scopes: ['openid'] },
    ]);
  });

  it("takes --frontend-origin over the stack's first origin", async () => {
    const target = await readStackTarget(
      { stackName: 'federation-broker', region: 'eu-west-1', frontendOrigin: 'https://admin.example.com' },
      stackClient({}),
    );
    assert.equal(target.frontendOrigin, 'https://admin.example.com');
  });

  it('says to deploy the current template when an output is missing', async () => {
    const { PublicOrigin: _, ...older } = outputs;
    await assert.rejects(
      readStackTarget(
        { stackName: 'federation-broker', region: 'eu-west-1' },
        stackClient({ outputs: older }),
      ),
      (error: unknown) =>
        error instanceof TargetError &&
        /no output PublicOrigin: deploy the current template/.test(error.message),
    );
  });

  it('names --stack, --region and the permission when DescribeStacks fails', async () => {
    const denied = Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' });
    await assert.rejects(
      readStackTarget(
        { stackName: 'federation-broker', region: 'eu-west-1' },
        stackClient({ error: denied }),
      ),
      (error: unknown) =>
        error instanceof TargetError &&
        /AccessDenied.*--stack and --region.*cloudformation:DescribeStacks/.test(error.message),
    );
  });
});

describe('smoke: flags', () => {
  it('takes --stack with --region and --frontend-origin, or --offline', () => {
    assert.deepEqual(
      parseSmokeArgs(['--stack', 's', '--region', 'eu-west-1', '--frontend-origin', 'https://a.example'], {}),
      {
        help: false,
        offline: false,
        stack: 's',
        region: 'eu-west-1',
        frontendOrigin: 'https://a.example',
      },
    );
    assert.equal(parseSmokeArgs(['--stack', 's'], { AWS_REGION: 'ap-south-1' }).region, 'ap-south-1');
    assert.equal(parseSmokeArgs(['--offline'], {}).offline, true);
  });

  it('refuses both modes, neither, unknown flags and a frontend origin with a path', () => {
    for (const argv of [
      [],
      ['--offline', '--stack', 's'],
      ['--stak', 's'],
      ['--stack', 's', '--frontend-origin', 'https://a.example/app'],
    ]) {
      assert.throws(() => parseSmokeArgs(argv, {}), UsageError, argv.join(' '));
    }
  });
});
