/**
 * Serves the demo page (local only: it is the example frontend, not part of the deployed API).
 * Its script is local/demo/app.ts with the client module, bundled for the browser by esbuild on
 * the first request. `/demo/access` is the offline stack's own: the principal tags the identity
 * pool stand-in attached to a set of credentials and what AuthenticatedRole's policies decide
 * for them (the table of `npm run doctor -- --access`); no deployed route exists like it.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { IdentityPoolStandIn } from '../cognito/identity-pool.ts';

const securityHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

/** The demo script for the browser: app.ts and the client, one ESM file. */
async function bundleDemo(): Promise<string> {
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

/** The access table for the credentials with this access key id, or undefined when none were issued. */
async function accessOf(identityPool: IdentityPoolStandIn, accessKeyId: string): Promise<object | undefined> {
  const issued = identityPool.credentials().find((c) => c.accessKeyId === accessKeyId);
  if (issued === undefined) return undefined;
  // The simulator and its IAM data load on the first use, not with the stack.
  const { accessFor, authenticatedRolePolicies, SAMPLE_ACTIONS } = await import(
    '../../tools/doctor/access.ts'
  );
  const decisions = await accessFor(authenticatedRolePolicies(), issued.identityId, issued.principalTags);
  return {
    identityId: issued.identityId,
    principalTags: issued.principalTags,
    rows: SAMPLE_ACTIONS.map((sample, i) => ({
      request: `${sample.verb} ${sample.area}`,
      action: sample.action,
      decision: decisions[i],
    })),
  };
}

/** The demo's routes, for the local API's fallback. */
export function demoPages(identityPool: IdentityPoolStandIn) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') return false;
    let body: string | Buffer;
    let type: string;
    let status = 200;
    if (url.pathname === '/') {
      body = await readFile(join(import.meta.dirname, 'index.html'));
      type = 'text/html; charset=utf-8';
    } else if (url.pathname === '/demo/app.js') {
      script ??= bundleDemo().catch((error: unknown) => {
        script = undefined;
        throw error;
      });
      body = await script;
      type = 'text/javascript; charset=utf-8';
    } else if (url.pathname === '/demo/access') {
      const access = await accessOf(identityPool, url.searchParams.get('accessKeyId') ?? '');
      status = access === undefined ? 404 : 200;
      body = JSON.stringify(
        access ?? { error: 'not_found', message: 'No credentials with this access key id' },
      );
      type = 'application/json';
    } else {
      return false;
    }
    res.writeHead(status, { 'content-type': type, ...securityHeaders });
    res.end(body);
    return true;
  };
}
