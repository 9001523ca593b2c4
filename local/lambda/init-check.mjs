// Loads one function's artifact once per environment variant, each time as a fresh module instance
// with process.env replaced by exactly that variant, and reports whether its init phase failed (and
// how) or what it answered to an event. One process for many variants keeps a sweep over every
// declared variable fast; the tests' own stacks use bootstrap.mjs, one process per container.
//
// argv[2] is JSON: { moduleFile, exportName, event?, variants: [{ env }] }. Prints a JSON array:
// [{ answer } | { error: { errorType, errorMessage } }].
import { pathToFileURL } from 'node:url';

const { moduleFile, exportName, event, variants } = JSON.parse(process.argv[2] ?? '{}');
const context = {
  awsRequestId: 'init-check',
  functionName: 'init-check',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
};
const errorOf = (error) =>
  error?.code === 'ERR_MODULE_NOT_FOUND'
    ? { errorType: 'Runtime.ImportModuleError', errorMessage: String(error) }
    : error instanceof Error
      ? { errorType: error.name, errorMessage: error.message }
      : { errorType: 'Error', errorMessage: String(error) };

const results = [];
for (const [index, { env }] of variants.entries()) {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, env);
  try {
    const module = await import(`${pathToFileURL(moduleFile).href}?variant=${index}`);
    const handler = module[exportName];
    if (typeof handler !== 'function') throw new Error(`${exportName} is undefined or not exported`);
    const answer = event === undefined ? null : await handler(structuredClone(event), context);
    results.push({ answer: answer === undefined ? null : JSON.parse(JSON.stringify(answer)) });
  } catch (error) {
    results.push({ error: errorOf(error) });
  }
}
process.stdout.write(`\u0000init-check:${JSON.stringify(results)}\n`);
process.exit(0);
