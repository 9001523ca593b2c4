/**
 * A local HTTP API that serves template.yaml's routes the way `sam local start-api` does: routes
 * come from every function's `HttpApi` events, requests become payload-format 2.0 events, CORS
 * comes from the template, and each function runs in its own isolated runtime (local/lambda/): built
 * as `sam build` builds it, with exactly its template environment, warm for the API's lifetime.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type LambdaFunction, lambdaFunctions, repoRoot } from './lambda/functions.ts';
import { type FunctionRuntime, functionRuntime } from './lambda/runtime.ts';
import { closeServer, listen } from './net.ts';
import type { Json, TemplateResolver } from './template.ts';

export { repoRoot };

export interface LocalRoute {
  method: string;
  path: string;
  functionId: string;
  timeoutSeconds: number;
  /** The variables the template declares for the function (before any override). */
  environment: Record<string, string>;
}

interface CorsConfig {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  allowCredentials: boolean;
  maxAge: number | undefined;
}

/** Reads every `HttpApi` route of every `AWS::Serverless::Function`. */
export function routesFromTemplate(resolver: TemplateResolver): LocalRoute[] {
  return routesOf(lambdaFunctions(resolver));
}

function routesOf(functions: readonly LambdaFunction[]): LocalRoute[] {
  const routes: LocalRoute[] = [];
  for (const fn of functions) {
    for (const [name, event] of Object.entries(fn.events)) {
      if (event.Type === 'Api')
        throw new Error(`${fn.id}.${name}: REST API (Type: Api) events are not served locally`);
      if (event.Type !== 'HttpApi') continue;
      const version = event.Properties.PayloadFormatVersion;
      if (version !== undefined && version !== '2.0') {
        throw new Error(`${fn.id}.${name}: only PayloadFormatVersion "2.0" is served locally`);
      }
      routes.push({
        method: String(event.Properties.Method).toUpperCase(),
        path: String(event.Properties.Path),
        functionId: fn.id,
        timeoutSeconds: fn.timeoutSeconds,
        environment: { ...fn.environment },
      });
    }
  }
  return routes;
}

/** The HttpApi CORS configuration: Globals merged with the API resource's own, as SAM does. */
function corsFromTemplate(resolver: TemplateResolver): CorsConfig | undefined {
  const global = resolver.resolve((resolver.template.Globals?.HttpApi?.CorsConfiguration ?? null) as Json);
  const apiId = resolver.resourcesOfType('AWS::Serverless::HttpApi')[0];
  const own = apiId ? resolver.resource(apiId).Properties.CorsConfiguration : undefined;
  const merged = { ...((global as object) ?? {}), ...((own as object) ?? {}) } as Record<string, Json>;
  if (Object.keys(merged).length === 0) return undefined;
  const list = (v: Json | undefined) => (Array.isArray(v) ? v.map(String) : []);
  return {
    allowOrigins: list(merged.AllowOrigins),
    allowMethods: list(merged.AllowMethods).map((m) => m.toUpperCase()),
    allowHeaders: list(merged.AllowHeaders).map((h) => h.toLowerCase()),
    allowCredentials: merged.AllowCredentials === true,
    maxAge: typeof merged.MaxAge === 'number' ? merged.MaxAge : undefined,
  };
}

export interface LocalApiOptions {
  resolver: TemplateResolver;
  port?: number;
  host?: string;
  /**
   * Variable values, like `sam local --env-vars env.json`: `Parameters` apply to every function,
   * `<LogicalId>` to one. Only variables the template declares reach a function.
   */
  envVars?: { Parameters?: Record<string, string> } & Record<string, Record<string, string> | undefined>;
  /** Serves requests no template route matches (the offline stack's demo page); return false for 404. */
  fallback?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  /** The region Lambda would set as AWS_REGION (sam local takes it from --region). */
  region?: string;
  /** Hostname → address entries for the function containers, like `sam local --add-host`. */
  hosts?: Record<string, string>;
  /** Receives every function's stdout lines (the offline stack reads their EMF lines). */
  output?: (line: string) => void;
  quiet?: boolean;
}

export interface LocalApi {
  url: string;
  routes: readonly LocalRoute[];
  /** Each function's runtime, by logical id. */
  functions: ReadonlyMap<string, FunctionRuntime>;
  server: Server;
  close(): Promise<void>;
}

/**
 * Starts every routed function's runtime (as `--warm-containers EAGER` does) and the HTTP server.
 *
 * @throws InvocationError when a function fails to initialise (e.g. a required variable missing from
 *   its template environment), with the function's own message.
 */
export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const all = lambdaFunctions(options.resolver);
  const routes = routesOf(all);
  const cors = corsFromTemplate(options.resolver);
  const region = options.region ?? 'us-east-1';
  const routed = all.filter((fn) => routes.some((r) => r.functionId === fn.id));
  const functions = new Map<string, FunctionRuntime>();
  const runtimes = await Promise.all(
    routed.map((fn) =>
      functionRuntime(fn, {
        region,
        // The functions' log lines always reach stdout, as in sam local; `quiet` is the API's own.
        quiet: false,
        ...(options.envVars ? { envVars: options.envVars } : {}),
        ...(options.hosts ? { hosts: options.hosts } : {}),
        ...(options.output ? { output: options.output } : {}),
      }),
    ),
  );
  for (const runtime of runtimes) functions.set(runtime.functionId, runtime);
  const closeFunctions = () => Promise.allSettled([...functions.values()].map((f) => f.close()));
  try {
    await Promise.all([...functions.values()].map((f) => f.start()));
  } catch (error) {
    await closeFunctions();
    throw error;
  }

  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (!options.quiet) console.error('local API: request failed', error);
      if (!res.headersSent)
        send(res, 500, { 'content-type': 'application/json' }, '{"message":"Internal Server Error"}');
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const corsHeaders = corsFor(cors, req.headers.origin);
    if (method === 'OPTIONS' && cors) {
      // sam local answers preflights itself, without invoking the function.
      send(res, 200, corsHeaders, '');
      return;
    }
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const route = routes.find((r) => r.path === path && (r.method === method || r.method === 'ANY'));
    if (route === undefined) {
      if (options.fallback && (await options.fallback(req, res))) return;
      send(res, 404, { 'content-type': 'application/json', ...corsHeaders }, '{"message":"Not Found"}');
      return;
    }
    const body = await readBody(req);
    const event = toEvent(req, url, method, route, body);
    const runtime = functions.get(route.functionId);
    if (runtime === undefined) throw new Error(`no runtime for ${route.functionId}`);
    let result: unknown;
    try {
      result = await runtime.invoke(event);
    } catch (error) {
      if (!options.quiet) console.error(`local API: ${route.functionId} failed`, error);
      send(
        res,
        500,
        { 'content-type': 'application/json', ...corsHeaders },
        '{"message":"Internal Server Error"}',
      );
      return;
    }
    writeResult(res, result, corsHeaders);
  }

  let port: number;
  try {
    port = await listen(server, options.port ?? 3000, options.host ?? '127.0.0.1', 'local API');
  } catch (error) {
    await closeFunctions();
    throw error;
  }
  return {
    url: `http://localhost:${port}`,
    routes,
    functions,
    server,
    close: async () => {
      await closeServer(server);
      await closeFunctions();
    },
  };
}

function corsFor(cors: CorsConfig | undefined, origin: string | undefined): Record<string, string> {
  if (!cors || !origin) return {};
  if (!cors.allowOrigins.includes(origin) && !cors.allowOrigins.includes('*')) return {};
  return {
    'access-control-allow-origin': origin,
    ...(cors.allowCredentials ? { 'access-control-allow-credentials': 'true' } : {}),
    ...(cors.allowMethods.length ? { 'access-control-allow-methods': cors.allowMethods.join(',') } : {}),
    ...(cors.allowHeaders.length ? { 'access-control-allow-headers': cors.allowHeaders.join(',') } : {}),
    ...(cors.maxAge !== undefined ? { 'access-control-max-age': String(cors.maxAge) } : {}),
    vary: 'origin',
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const textTypes = /^(text\/|application\/(json|x-www-form-urlencoded|xml|javascript)|[^;]*\+json)/i;

/** An HTTP API payload-format 2.0 event, as API Gateway (and sam local) builds it. */
function toEvent(
  req: IncomingMessage,
  url: URL,
  method: string,
  route: LocalRoute,
  body: Buffer,
): APIGatewayProxyEventV2 {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined || key === 'cookie') continue;
    headers[key.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const cookies = (req.headers.cookie ?? '')
    .split(';')
    .map((c) => c.trim())
    .filter(Boolean);
  const query: Record<string, string> = {};
  for (const [key, value] of url.searchParams) query[key] = key in query ? `${query[key]},${value}` : value;
  const isText = body.length === 0 || textTypes.test(headers['content-type'] ?? '');
  const now = new Date();
  const requestId = randomUUID();
  return {
    version: '2.0',
    routeKey: `${route.method} ${route.path}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies.length ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'localapi',
      domainName: headers.host ?? 'localhost',
      domainPrefix: (headers.host ?? 'localhost').split('.')[0] ?? 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: `${route.method} ${route.path}`,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: isText ? body.toString('utf8') : body.toString('base64') } : {}),
    isBase64Encoded: !isText,
  };
}

/** Payload 2.0 responses: a result without statusCode is JSON-encoded as a 200 body. */
function writeResult(res: ServerResponse, result: unknown, corsHeaders: Record<string, string>): void {
  const structured = result as APIGatewayProxyStructuredResultV2 | undefined;
  if (!structured || typeof structured !== 'object' || !('statusCode' in structured)) {
    send(res, 200, { 'content-type': 'application/json', ...corsHeaders }, JSON.stringify(result ?? null));
    return;
  }
  const headers: Record<string, string | string[]> = { ...corsHeaders };
  for (const [k, v] of Object.entries(structured.headers ?? {})) headers[k.toLowerCase()] = String(v);
  if (structured.cookies?.length) headers['set-cookie'] = structured.cookies;
  const body = structured.isBase64Encoded
    ? Buffer.from(structured.body ?? '', 'base64')
    : Buffer.from(structured.body ?? '', 'utf8');
  if (!headers['content-type'] && body.length) headers['content-type'] = 'application/json';
  send(res, structured.statusCode ?? 200, headers, body);
}

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string | string[]>,
  body: string | Buffer,
): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
