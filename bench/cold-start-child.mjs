// One cold start, in a fresh Node process: import the bundle (Lambda's init phase), then serve one
// request (the first invoke). Plain JavaScript with only `node:` imports, so the runner itself adds
// nothing to what is measured. Timings come from performance.now() (milliseconds since the process
// started) and are written, with the answer's status, to the file named by the third argument.
//
// Usage: node cold-start-child.mjs <handler file> <event json file> <result json file>
import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const [handlerFile, eventFile, resultFile] = process.argv.slice(2);
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
// A Lambda context: middy arms its early-timeout timer as it does in Lambda.
const context = {
  awsRequestId: 'bench-cold-start',
  functionName: 'bench',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
};

const started = performance.now();
const cpuAtStart = process.cpuUsage();
let result;
let error;
let imported = started;
try {
  const module = await import(pathToFileURL(handlerFile).href);
  imported = performance.now();
  result = await module.handler(event, context);
} catch (e) {
  error = String(e?.stack ?? e);
}
const served = performance.now();
// CPU time (user + system) of import and first request: unlike wall time, it leaves out waiting for the
// upstreams and for a busy machine's scheduler.
const cpu = process.cpuUsage(cpuAtStart);
writeFileSync(
  resultFile,
  JSON.stringify({
    bootMs: started,
    importMs: imported - started,
    firstRequestMs: served - imported,
    coldStartMs: served - started,
    coldStartCpuMs: (cpu.user + cpu.system) / 1000,
    sinceProcessStartMs: served,
    statusCode: result?.statusCode,
    body:
      typeof result?.body === 'string'
        ? result.body.slice(0, 4000)
        : JSON.stringify(result ?? null).slice(0, 4000),
    error,
  }),
);
// Lambda freezes the process after the answer; keep-alive sockets must not keep this one running.
process.exit(0);
