/**
 * Contract: the broker's GetSecretValue (functions/shared/secrets-manager.ts) and the SDK's
 * SecretsManagerClient, given the same recorded wire answers, return the same value or throw the same
 * error (name, message, status, attempts; for an answer that is not JSON all but the message, which
 * the broker keeps free of the answer's text) after the same number of requests, and sign alike.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { createSecretsManagerReader } from '../../../functions/shared/auth/secrets.ts';
import { BrokerError } from '../../../functions/shared/errors.ts';
import { renderError } from '../../../functions/shared/http.ts';
import { createLogger } from '../../../functions/shared/log.ts';
import { createGetSecretValue } from '../../../functions/shared/secrets-manager.ts';
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

const credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:broker/cookies-AbCdEf';
const serviceError = (status: number, type: string, message: string) =>
  json(status, { __type: type, Message: message });
const success = json(200, {
  ARN: arn,
  Name: 'broker/cookies',
  VersionId: 'v1',
  SecretString: '{"current":"k1"}',
  VersionStages: ['AWSCURRENT'],
  CreatedDate: 1764547200.5,
});

/** Recorded exchanges: one answer per attempt. */
const cases: Array<{ name: string; answers: Answer[] }> = [
  { name: 'a string secret', answers: [success] },
  {
    name: 'a binary secret',
    answers: [json(200, { ARN: arn, Name: 'bin', VersionId: 'v2', SecretBinary: 'AAECAw==' })],
  },
  {
    name: 'ResourceNotFoundException',
    answers: [
      serviceError(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret."),
    ],
  },
  {
    name: 'AccessDeniedException (unmodelled)',
    answers: [serviceError(400, 'AccessDeniedException', 'User: x is not authorized')],
  },
  { name: 'DecryptionFailure', answers: [serviceError(400, 'DecryptionFailure', 'KMS key is disabled')] },
  { name: 'InvalidParameterException', answers: [serviceError(400, 'InvalidParameterException', 'bad id')] },
  {
    name: 'InvalidRequestException',
    answers: [serviceError(400, 'InvalidRequestException', 'marked for deletion')],
  },
  {
    name: 'error type in x-amzn-errortype with a namespace',
    answers: [
      json(
        400,
        { message: 'lower-case message' },
        { 'x-amzn-errortype': 'ResourceNotFoundException:http://internal.amazon.com/' },
      ),
    ],
  },
  {
    name: 'InternalServiceError, then success',
    answers: [serviceError(500, 'InternalServiceError', 'try again'), success],
  },
  {
    name: 'InternalServiceError twice',
    answers: [
      serviceError(500, 'InternalServiceError', 'try again'),
      serviceError(500, 'InternalServiceError', 'still failing'),
    ],
  },
  {
    name: 'throttling, then success',
    answers: [serviceError(400, 'ThrottlingException', 'Rate exceeded'), success],
  },
  {
    name: 'throttling twice',
    answers: [
      serviceError(400, 'ThrottlingException', 'Rate exceeded'),
      serviceError(400, 'ThrottlingException', 'Rate exceeded'),
    ],
  },
  ...transportCases(success),
];

async function throughSdk(answers: Answer[]): Promise<Observed> {
  const replay = sdkReplay(answers);
  const requests = replay.requests;
  const client = new SecretsManagerClient({
    region: 'eu-west-1',
    credentials,
    retryStrategy: new ConfiguredRetryStrategy(2, () => 0),
    requestHandler: replay.requestHandler,
  });
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: 'broker/cookies' }));
    return {
      value: {
        ARN: out.ARN,
        Name: out.Name,
        VersionId: out.VersionId,
        SecretString: out.SecretString,
        SecretBinary: out.SecretBinary && Buffer.from(out.SecretBinary).toString('hex'),
        attempts: out.$metadata.attempts,
      },
      requests: requests(),
    };
  } catch (error) {
    return { error: observeError(error), requests: requests() };
  }
}

async function throughBroker(answers: Answer[], sent: UpstreamRequest[] = []): Promise<Observed> {
  const replay = transportReplay(answers, sent);
  const get = createGetSecretValue({
    region: 'eu-west-1',
    timeoutMs: 1_000,
    credentials: async () => credentials,
    pause: async () => {},
    transport: replay.transport,
  });
  try {
    const out = await get('broker/cookies');
    return {
      value: {
        ARN: out.ARN,
        Name: out.Name,
        VersionId: out.VersionId,
        SecretString: out.SecretString,
        SecretBinary: out.SecretBinary && Buffer.from(out.SecretBinary).toString('hex'),
        attempts: out.$metadata.attempts,
      },
      requests: sent.length,
    };
  } catch (error) {
    return { error: observeError(error), requests: sent.length };
  }
}

describe('GetSecretValue: the broker client and the SDK client agree', () => {
  for (const c of cases) {
    it(`${c.name}: same value or error, same number of requests`, async () => {
      const sdk = await throughSdk(c.answers);
      const broker = await throughBroker(c.answers);
      assert.deepEqual(comparable(broker), comparable(sdk));
    });
  }

  it("keeps an answer's text out of the error and the log: a garbled GetSecretValue answer holds the secret", async () => {
    // A value that lost its quotes: JSON.parse's message quotes the text around where it stopped.
    const cut = { status: 200, body: '{"SecretString":s3cr3t-cookie-key-material}' };
    const sdk = await throughSdk([cut]);
    assert.ok(String(sdk.error?.message).includes('s3cr3t'), "the SDK's message quotes the answer");
    const replay = transportReplay([cut]);
    const reader = createSecretsManagerReader({
      getSecretValue: createGetSecretValue({
        region: 'eu-west-1',
        timeoutMs: 1_000,
        credentials: async () => credentials,
        transport: replay.transport,
      }),
    });
    const error = await reader('broker/cookies').then(
      () => assert.fail('read'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BrokerError && error.code === 'secrets_unavailable', String(error));
    const lines: string[] = [];
    renderError(error, 'r1', createLogger({ write: (line) => lines.push(line) }));
    assert.ok(!lines.join('\n').includes('s3cr3t'), 'the secret reached a log line');
    assert.match(lines.join('\n'), /not a JSON object/);
  });

  it('signs with SigV4 for secretsmanager in the region, with the session token when there is one', async () => {
    const sent: UpstreamRequest[] = [];
    const get = createGetSecretValue({
      region: 'eu-west-1',
      timeoutMs: 1_000,
      credentials: async () => ({ ...credentials, sessionToken: 'session-token' }),
      transport: async (_url, request) => {
        sent.push(request);
        return { status: 200, headers: {}, body: '{"SecretString":"x"}' };
      },
    });
    await get('broker/cookies');
    const headers = sent[0]?.headers ?? {};
    assert.match(
      headers.authorization ?? '',
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=[^ ]*x-amz-target[^ ]*, Signature=[0-9a-f]{64}$/,
    );
    assert.equal(headers['x-amz-security-token'], 'session-token');
    assert.equal(headers['x-amz-target'], 'secretsmanager.GetSecretValue');
    assert.deepEqual(JSON.parse(sent[0]?.body ?? ''), { SecretId: 'broker/cookies' });
  });
});
