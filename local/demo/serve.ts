/**
 * Serves the demo page (local only: it is the example frontend, not part of the deployed API).
 * Its script is local/demo/app.ts with the client module, bundled for the browser by esbuild on
 * the first request.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';

const securityHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** The demo script for the browser: app.ts and the client, one ESM file. */
export async function bundleDemo(): Promise<string> {
  const result = await build({
    entryPoints: [join(import.meta.dirname, 'app.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]?.text ?? '';
}

let script: Promise<string> | undefined;

export async function demoPage(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method !== 'GET') return false;
  let body: string | Buffer;
  let type: string;
  if (path === '/') {
    body = await readFile(join(import.meta.dirname, 'index.html'));
    type = 'text/html; charset=utf-8';
  } else if (path === '/demo/app.js') {
    script ??= bundleDemo().catch((error: unknown) => {
      script = undefined;
      throw error;
    });
    body = await script;
    type = 'text/javascript; charset=utf-8';
  } else {
    return false;
  }
  res.writeHead(200, { 'content-type': type, ...securityHeaders });
  res.end(body);
  return true;
}
