/**
 * Recorded AWS JSON 1.1 exchanges replayed to both sides of a contract test: the SDK's client (through a
 * stub `requestHandler`) and the broker's hand-written client (through a stub transport). Each side
 * answers from its own copy of the list, one answer per attempt, and counts the requests it made.
 */
import { Readable } from 'node:stream';
import { HttpResponse } from '@smithy/core/transport';
import type { UpstreamRequest, UpstreamTransport } from '../../functions/shared/upstream-http.ts';

export type Answer =
  | { status: number; headers?: Record<string, string>; body: string }
  | { network: 'ECONNRESET' | 'ECONNREFUSED' | 'ETIMEDOUT' };

/** A JSON 1.1 answer with the headers the services send. */
export const jsonAnswer = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'req-1', ...headers },
  body: JSON.stringify(body),
});

/** What a caller can observe of an error, from either client. */
export function observeError(error: unknown): Record<string, unknown> {
  const e = error as { name?: string; message?: string; code?: string; $metadata?: Record<string, unknown> };
  return {
    name: e.code && !e.$metadata?.httpStatusCode ? e.code : e.name,
    ...(e.$metadata?.httpStatusCode ? { message: e.message, status: e.$metadata.httpStatusCode } : {}),
    attempts: e.$metadata?.attempts,
  };
}

const networkError = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

/** A `requestHandler` for an SDK client answering from `answers`; `requests()` counts what it was sent. */
export function sdkReplay(answers: Answer[]) {
  const queue = [...answers];
  let requests = 0;
  return {
    requests: () => requests,
    requestHandler: {
      async handle() {
        requests += 1;
        const answer = queue.shift();
        if (answer === undefined) throw new Error('no more answers');
        if ('network' in answer) throw networkError(answer.network);
        return {
          response: new HttpResponse({
            statusCode: answer.status,
            headers: answer.headers ?? {},
            body: Readable.from([Buffer.from(answer.body)]),
          }),
        };
      },
    },
  };
}

/** A transport for the broker's clients answering from `answers`, recording each request in `sent`. */
export function transportReplay(answers: Answer[], sent: UpstreamRequest[] = []) {
  const queue = [...answers];
  const transport: UpstreamTransport = async (_url, request) => {
    sent.push(request);
    const answer = queue.shift();
    if (answer === undefined) throw new Error('no more answers');
    if ('network' in answer) throw networkError(answer.network);
    return { status: answer.status, headers: answer.headers ?? {}, body: answer.body };
  };
  return { sent, transport, requests: () => sent.length };
}

/** What one client call came to: its value or its error (observeError), and the requests it sent. */
export type Observed = { value?: Record<string, unknown>; error?: Record<string, unknown>; requests: number };

/**
 * The one intended difference: for an answer that is not JSON the SDK's message quotes the answer's
 * text; the broker's does not (a GetSecretValue answer cut short would quote the secret into a logged
 * message). Everything else about that error is compared.
 */
export const comparable = (observed: Observed): Observed =>
  observed.error?.name === 'SyntaxError'
    ? { ...observed, error: { ...observed.error, message: 'not compared' } }
    : observed;

/** Transport failures every JSON 1.1 client meets alike, after `success` where one is retried. */
export function transportCases(success: Answer): Array<{ name: string; answers: Answer[] }> {
  return [
    { name: '503 with an empty body, then success', answers: [{ status: 503, body: '' }, success] },
    {
      name: '503 with an empty body, twice',
      answers: [
        { status: 503, body: '' },
        { status: 503, body: '' },
      ],
    },
    {
      name: 'a 502 answer that is not JSON, twice',
      answers: [
        { status: 502, body: 'Bad Gateway' },
        { status: 502, body: 'Bad Gateway' },
      ],
    },
    { name: 'a 200 answer that is not JSON', answers: [{ status: 200, body: '<html>proxy</html>' }] },
    { name: 'a 400 answer without an error type', answers: [{ status: 400, body: '{}' }] },
    { name: 'a dropped connection, then success', answers: [{ network: 'ECONNRESET' }, success] },
    { name: 'refused twice', answers: [{ network: 'ECONNREFUSED' }, { network: 'ECONNREFUSED' }] },
  ];
}
