/**
 * A local HTTP API that serves template.yaml's routes the way `sam local start-api` does: routes
 * come from every function's `HttpApi` events, requests become payload-format 2.0 events, CORS
 * comes from the template, and the very same handler exports are invoked (in this process, each
 * handler module loaded once per API instance, as a warm container would keep it).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { closeServer, listen } from './net.ts';
import type { Json, TemplateResolver } from './template.ts';

export interface LocalRoute {
  method: string;
  path: string;
  functionId: string;
  /** Source file of the handler, absolute. */
  entry: string;
  exportName: string;
  timeoutSeconds: number;
  environment: Record<string, string>;
}

interface CorsConfig {
  allowOrigins: string[];
  allowMethods: string[];
  allowHeaders: string[];
  allowCredentials: boolean;
  maxAge: number | undefined;
}

export const repoRoot = join(import.meta.dirname, '..');

/** Reads every `HttpApi` route of every `AWS::Serverless::Function`, with its handler and environment. */
export function routesFromTemplate(resolver: TemplateResolver): LocalRoute[] {
  const globals = (resolver.resolve((resolver.template.Globals?.Function ?? {}) as Json) ?? {}) as Record<
    string,
    Json
  >;
  const routes: LocalRoute[] = [];
  for (const id of resolver.resourcesOfType('AWS::Serverless::Function')) {
    const { Properties: props, Metadata: meta } = resolver.resource(id);
    const events = (props.Events ?? {}) as Record<string, { Type: string; Properties: Record<string, Json> }>;
    for (const [name, event] of Object.entries(events)) {
      if (event.Type === 'Api')
        throw new Error(`${id}.${name}: REST API (Type: Api) events are not served locally`);
      if (event.Type !== 'HttpApi') continue;
      const version = event.Properties.PayloadFormatVersion;
      if (version !== undefined && version !== '2.0') {
        throw new Error(`${id}.${name}: only PayloadFormatVersion "2.0" is served locally`);
      }
      const build = (meta.BuildProperties ?? {}) as { EntryPoints?: string[] };
      const handler = String(props.Handler ?? globals.Handler ?? '');
      const entryPoint = build.EntryPoints?.[0] ?? `${handler.slice(0, handler.lastIndexOf('.'))}.ts`;
      const codeUri = String(props.CodeUri ?? globals.CodeUri ?? '.');
      const env = {
        ...(((globals.Environment as { Variables?: Record<string, Json> })?.Variables ?? {}) as Record<
          string,
          Json
        >),
        ...(((props.Environment as { Variables?: Record<string, Json> })?.Variables ?? {}) as Record<
          string,
          Json
        >),
      };
      // Lambda sets AWS_LAMBDA_LOG_LEVEL from LoggingConfig (the broker's logger reads it), as sam local does.
      const logging = (props.LoggingConfig ?? globals.LoggingConfig ?? {}) as { ApplicationLogLevel?: Json };
      if (logging.ApplicationLogLevel) env.AWS_LAMBDA_LOG_LEVEL = String(logging.ApplicationLogLevel);
      routes.push({
        method: String(event.Properties.Method).toUpperCase(),
        path: String(event.Properties.Path),
        functionId: id,
        entry: join(repoRoot, codeUri, entryPoint),
        exportName: handler.slice(handler.lastIndexOf('.') + 1),
        timeoutSeconds: Number(props.Timeout ?? globals.Timeout ?? 3),
        environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v ?? '')])),
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

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2 | unknown>;

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
  /** Load every handler at start, as `--warm-containers EAGER` does, so configuration errors show at once. */
  eager?: boolean;
  quiet?: boolean;
}

export interface LocalApi {
  url: string;
  routes: readonly LocalRoute[];
  server: Server;
  close(): Promise<void>;
}

let instances = 0;

export async function startLocalApi(options: LocalApiOptions): Promise<LocalApi> {
  const routes = routesFromTemplate(options.resolver);
  const cors = corsFromTemplate(options.resolver);
  const instance = ++instances;

  // One process hosts every function, so their environments share process.env: the union is
  // applied before the handlers load, and a variable two functions set differently is an error.
  const applied = new Map<string, { value: string; functionId: string }>();
  for (const route of routes) {
    const env = {
      ...route.environment,
      ...pick(options.envVars?.Parameters, route.environment),
      ...pick(options.envVars?.[route.functionId], route.environment),
    };
    route.environment = env;
    for (const [key, value] of Object.entries(env)) {
      const seen = applied.get(key);
      if (seen && seen.value !== value) {
        throw new Error(`local API: ${key} differs between ${seen.functionId} and ${route.functionId}`);
      }
      applied.set(key, { value, functionId: route.functionId });
    }
  }
  for (const [key, { value }] of applied) process.env[key] = value;
  process.env.AWS_REGION = options.region ?? 'us-east-1';
  process.env.AWS_DEFAULT_REGION = process.env.AWS_REGION;

  const handlers = new Map<string, Promise<Handler>>();
  const load = (route: LocalRoute): Promise<Handler> => {
    let h = handlers.get(route.functionId);
    if (h === undefined) {
      // A query string gives each API instance its own module (its own "container").
      h = import(`${pathToFileURL(route.entry).href}?container=${instance}`).then((mod) => {
        const fn = mod[route.exportName];
        if (typeof fn !== 'function') throw new Error(`${route.entry} does not export ${route.exportName}`);
        return fn as Handler;
      });
      handlers.set(route.functionId, h);
    }
    return h;
  };
  if (options.eager) await Promise.all(routes.map(load));

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
    const handler = await load(route);
    const started = Date.now();
    const context = lambdaContext(route, started);
    let result: unknown;
    try {
      result = await withTimeout(handler(event, context), route.timeoutSeconds * 1000);
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

  const port = await listen(server, options.port ?? 3000, options.host ?? '127.0.0.1', 'local API');
  return {
    url: `http://localhost:${port}`,
    routes,
    server,
    close: () => closeServer(server),
  };
}

function pick(
  values: Record<string, string> | undefined,
  declared: Record<string, string>,
): Record<string, string> {
  if (!values) return {};
  return Object.fromEntries(Object.entries(values).filter(([k]) => k in declared));
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

function lambdaContext(route: LocalRoute, started: number): Context {
  const deadline = started + route.timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: route.functionId,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${route.functionId}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${route.functionId}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Task timed out after ${ms / 1000} seconds`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
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
