// A worker thread standing in for the trigger's Lambda container: it imports the handler once (with
// the function's environment as its own process.env, like a cold start) and then answers each
// invocation. Messages: in `{ id, event, deadline }`, out `{ id, result }` or `{ id, error }`.

import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

interface WorkerInput {
  source: string;
  exportName: string;
  functionName: string;
  region: string;
}

interface Invocation {
  id: number;
  event: unknown;
  deadline: number;
}

type Handler = (event: unknown, context: unknown) => unknown;

const input = workerData as WorkerInput;
const port = parentPort;

function errorOf(error: unknown): { errorType: string; errorMessage: string } {
  return error instanceof Error
    ? { errorType: error.name, errorMessage: error.message }
    : { errorType: 'Error', errorMessage: String(error) };
}

let handler: Handler | undefined;
let initError: { errorType: string; errorMessage: string } | undefined;
try {
  const module = (await import(pathToFileURL(input.source).href)) as Record<string, unknown>;
  const candidate = module[input.exportName];
  if (typeof candidate === 'function') handler = candidate as Handler;
  else
    initError = {
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: `${input.exportName} is undefined or not exported`,
    };
} catch (error) {
  initError = errorOf(error);
}

port?.on('message', async ({ id, event, deadline }: Invocation) => {
  if (handler === undefined) {
    port.postMessage({ id, error: initError });
    return;
  }
  const context = {
    functionName: input.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${input.region}:123456789012:function:${input.functionName}`,
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${input.functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(event, context);
    // Lambda returns the handler's result as JSON; so does this container.
    port.postMessage({ id, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  } catch (error) {
    port.postMessage({ id, error: errorOf(error) });
  }
});
