// The offline Lambda runtime's bootstrap (Lambda's is /var/runtime/index.mjs): started in a fresh Node
// process whose environment is exactly the function's, it imports the handler module once (the init
// phase), then answers invocations from the parent over the IPC channel. Plain JavaScript with only
// `node:` imports, so nothing of the repository is loaded beside the function's own artifact.
//
// argv[2] is JSON: { moduleFile, exportName, hosts?, clock?, clockOffsetMs? }.
//   hosts: hostname → address entries, as `sam local --add-host` writes them to the container's /etc/hosts.
//   clock: true lets the parent move this process's Date (tests of token expiry), never timers.
// Messages in:  { type: 'invoke', id, event, timeoutMs, awsRequestId } | { type: 'clock', offsetMs }
// Messages out: { type: 'ready' } | { type: 'init-error', error } | { type: 'result', id, result }
//               | { type: 'error', id, error }, where error is { errorType, errorMessage }.
import dns from 'node:dns';
import { pathToFileURL } from 'node:url';

const { moduleFile, exportName, hosts, clock, clockOffsetMs } = JSON.parse(process.argv[2] ?? '{}');
const send = (message) => process.send?.(message);
// The container ends with the runtime that started it, whatever the function left open.
process.on('disconnect', () => process.exit(0));

if (hosts && Object.keys(hosts).length > 0) {
  const lookup = dns.lookup;
  dns.lookup = function hostsLookup(hostname, options, callback) {
    const done = typeof options === 'function' ? options : callback;
    const address = hosts[String(hostname).toLowerCase()];
    if (address === undefined) return lookup.call(dns, hostname, options, callback);
    const family = address.includes(':') ? 6 : 4;
    const all = typeof options === 'object' && options !== null && options.all;
    process.nextTick(() => (all ? done(null, [{ address, family }]) : done(null, address, family)));
    return undefined;
  };
}

if (clock) {
  const RealDate = Date;
  let offset = Number(clockOffsetMs) || 0;
  // A Date whose "now" is the real time plus an offset the parent sets; everything else is Date's.
  // biome-ignore lint/suspicious/noShadowRestrictedNames: the replacement keeps Date's name.
  globalThis.Date = class Date extends RealDate {
    constructor(...args) {
      if (args.length === 0) super(RealDate.now() + offset);
      else super(...args);
    }
    static now() {
      return RealDate.now() + offset;
    }
  };
  process.on('message', (message) => {
    if (message?.type === 'clock') offset = Number(message.offsetMs) || 0;
  });
}

const realNow = Date.now.bind(Date);

/** Lambda's error shape, with the runtime's own types for import failures. */
function errorOf(error, stage) {
  if (stage === 'init' && (error?.code === 'ERR_MODULE_NOT_FOUND' || error?.code === 'MODULE_NOT_FOUND')) {
    return { errorType: 'Runtime.ImportModuleError', errorMessage: String(error) };
  }
  return error instanceof Error
    ? { errorType: error.name, errorMessage: error.message }
    : { errorType: 'Error', errorMessage: String(error) };
}

let handler;
try {
  const module = await import(pathToFileURL(moduleFile).href);
  handler = module[exportName];
  if (typeof handler !== 'function') {
    send({
      type: 'init-error',
      error: {
        errorType: 'Runtime.HandlerNotFound',
        errorMessage: `${exportName} is undefined or not exported`,
      },
    });
    handler = undefined;
  } else {
    send({ type: 'ready' });
  }
} catch (error) {
  // Lambda logs the init error before reporting it.
  console.error(error);
  send({ type: 'init-error', error: errorOf(error, 'init') });
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke' || handler === undefined) return;
  const { id, event, timeoutMs, awsRequestId } = message;
  const deadline = realNow() + timeoutMs;
  const name = process.env.AWS_LAMBDA_FUNCTION_NAME;
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: name,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${name}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadline - realNow()),
  };
  let answer;
  try {
    const result = await handler(event, context);
    // Lambda returns the handler's result as JSON.
    answer = { type: 'result', id, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) };
  } catch (error) {
    answer = { type: 'error', id, error: errorOf(error, 'invoke') };
  }
  // The output so far belongs to this invocation: the parent passes it on before the answer.
  process.stdout.write(`\u0000offline-runtime:flushed:${id}\n`);
  send(answer);
});
