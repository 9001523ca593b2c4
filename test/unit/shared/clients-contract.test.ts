/**
 * Contract: the broker's Cognito Identity client (functions/shared/clients.ts) and the SDK's
 * CognitoIdentityClient, given the same recorded wire answers, return the same output or throw the
 * same error (name, message, status, attempts; for an answer that is not JSON all but the message, which
 * the broker keeps free of the answer's text) after the same number of requests. Both run with two
 * attempts in all (the broker's choice; the SDK configured alike), the SDK's standard retry decision.
 * The error types are every one the SDK models for GetId and GetCredentialsForIdentity, plus an
 * unmodelled one, 5xx, throttling and malformed bodies.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CognitoIdentityClient,
  GetCredentialsForIdentityCommand,
  GetIdCommand,
} from '@aws-sdk/client-cognito-identity';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { createIdentityClient, type IdentityClient } from '../../../functions/shared/clients.ts';
import type { UpstreamRequest } from '../../../functions/shared/upstream-http.ts';
import {
  type Answer,
  comparable,
  jsonAnswer as json,
  type Observed,
  observeError,
  sdkReplay,
  transportCases,
  transportReplay,
} from '../../helpers/aws-wire.ts';

const serviceError = (status: number, type: string, message: string) =>
  json(status, { __type: `com.amazonaws.cognitoidentity#${type}`, message });

const identityId = 'eu-west-1:0f4c5e6a-1111-2222-3333-444455556666';
const getIdOk = json(200, { IdentityId: identityId });
const credentialsOk = json(200, {
  IdentityId: identityId,
  Credentials: {
    AccessKeyId: 'ASIAEXAMPLE',
    SecretKey: 'secret',
    SessionToken: 'session',
    Expiration: 1764550800,
  },
});

/** Errors both operations model (the SDK's @throws lists), with a status Cognito answers them with. */
const sharedErrors: Array<[number, string, string]> = [
  [
    400,
    'ExternalServiceException',
    'An exception thrown when a dependent service such as Facebook or Twitter is not responding',
  ],
  [500, 'InternalErrorException', 'An exception thrown when the service encounters an error'],
  [400, 'InvalidParameterException', '1 validation error detected'],
  [400, 'LimitExceededException', 'Limit exceeded'],
  [400, 'NotAuthorizedException', 'Token is not from a supported provider of this identity pool.'],
  [400, 'ResourceConflictException', 'The login is already linked to another identity'],
  [400, 'ResourceNotFoundException', 'IdentityPool not found'],
  [400, 'TooManyRequestsException', 'Rate exceeded'],
  [400, 'AccessDeniedException', 'unmodelled: not in the SDK model'],
];

function casesFor(success: Answer, extraErrors: Array<[number, string, string]> = []) {
  const cases: Array<{ name: string; answers: Answer[] }> = [{ name: 'success', answers: [success] }];
  for (const [status, type, message] of [...sharedErrors, ...extraErrors]) {
    // Two answers: a retryable error is asked again, and fails again.
    const error = serviceError(status, type, message);
    cases.push({ name: type, answers: [error, error] });
  }
  cases.push(
    {
      name: 'error type in x-amzn-errortype with a namespace, message in the body',
      answers: [
        json(
          400,
          { message: 'Invalid login token. Token expired: 1764547200 >= 1764540000' },
          {
            'x-amzn-errortype':
              'NotAuthorizedException:http://internal.amazon.com/coral/com.amazonaws.cognitoidentity/',
          },
        ),
      ],
    },
    {
      name: 'InternalErrorException, then success',
      answers: [serviceError(500, 'InternalErrorException', 'x'), success],
    },
    {
      name: 'throttling, then success',
      answers: [serviceError(400, 'TooManyRequestsException', 'Rate'), success],
    },
    { name: 'a 200 answer with an empty object', answers: [json(200, {})] },
    ...transportCases(success),
  );
  return cases;
}

type Operation = 'GetId' | 'GetCredentialsForIdentity';
const logins = { 'cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool': 'id-token' };

async function observe(
  client: IdentityClient,
  operation: Operation,
  requests: () => number,
): Promise<Observed> {
  try {
    if (operation === 'GetId') {
      const out = await client.send(new GetIdCommand({ IdentityPoolId: identityId, Logins: logins }));
      return {
        value: { IdentityId: out.IdentityId, attempts: out.$metadata.attempts },
        requests: requests(),
      };
    }
    const out = await client.send(
      new GetCredentialsForIdentityCommand({ IdentityId: identityId, Logins: logins }),
    );
    const c = out.Credentials;
    return {
      value: {
        IdentityId: out.IdentityId,
        AccessKeyId: c?.AccessKeyId,
        SecretKey: c?.SecretKey,
        SessionToken: c?.SessionToken,
        Expiration: c?.Expiration instanceof Date ? c.Expiration.toISOString() : c?.Expiration,
        attempts: out.$metadata.attempts,
      },
      requests: requests(),
    };
  } catch (error) {
    return { error: observeError(error), requests: requests() };
  }
}

async function throughSdk(operation: Operation, answers: Answer[]): Promise<Observed> {
  const replay = sdkReplay(answers);
  const client = new CognitoIdentityClient({
    region: 'eu-west-1',
    // GetId and GetCredentialsForIdentity are unsigned; credentials only keep the SDK from looking.
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'unused' },
    retryStrategy: new ConfiguredRetryStrategy(2, () => 0),
    requestHandler: replay.requestHandler,
  });
  return observe(client, operation, replay.requests);
}

async function throughBroker(operation: Operation, answers: Answer[], sent: UpstreamRequest[] = []) {
  const replay = transportReplay(answers, sent);
  const client = createIdentityClient({
    region: 'eu-west-1',
    timeoutMs: 1_000,
    pause: async () => {},
    transport: replay.transport,
  });
  return observe(client, operation, replay.requests);
}

describe('Cognito Identity: the broker client and the SDK client agree on the wire', () => {
  const table: Record<Operation, Array<{ name: string; answers: Answer[] }>> = {
    GetId: casesFor(getIdOk),
    GetCredentialsForIdentity: casesFor(credentialsOk, [
      [
        400,
        'InvalidIdentityPoolConfigurationException',
        'Invalid identity pool configuration. Check assigned IAM roles for this pool.',
      ],
    ]),
  };
  for (const [operation, cases] of Object.entries(table) as Array<[Operation, typeof table.GetId]>) {
    for (const c of cases) {
      it(`${operation}, ${c.name}: same output or error, same number of requests`, async () => {
        const sdk = await throughSdk(operation, c.answers);
        const broker = await throughBroker(operation, c.answers);
        assert.deepEqual(comparable(broker), comparable(sdk));
      });
    }
  }

  it('sends what the SDK sends: POST, JSON 1.1, the operation target, the input as JSON, unsigned', async () => {
    const sent: UpstreamRequest[] = [];
    await throughBroker('GetId', [getIdOk], sent);
    const request = sent[0] as UpstreamRequest;
    assert.equal(request.method, 'POST');
    assert.equal(request.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal(request.headers['x-amz-target'], 'AWSCognitoIdentityService.GetId');
    assert.equal(request.headers.authorization, undefined);
    assert.deepEqual(JSON.parse(request.body ?? ''), { IdentityPoolId: identityId, Logins: logins });
  });
});
