import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';

/** An HTTP API payload-format 2.0 event with overrides. */
export function apiEvent(
  options: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    cookies?: string[];
    query?: Record<string, string>;
    /** The query exactly as sent (duplicates, odd encodings); overrides `query` for rawQueryString. */
    rawQueryString?: string;
    body?: string;
  } = {},
): APIGatewayProxyEventV2 {
  const method = options.method ?? 'GET';
  const path = options.path ?? '/credentials';
  const query = options.query ?? {};
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: options.rawQueryString ?? new URLSearchParams(query).toString(),
    ...(options.cookies ? { cookies: options.cookies } : {}),
    headers: Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: 'req-test-1',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(options.body !== undefined ? { body: options.body } : {}),
    isBase64Encoded: false,
  };
}

/** A Lambda context without getRemainingTimeInMillis, so middy sets no early timeout. */
export const lambdaContext = {
  awsRequestId: 'aws-req-1',
  functionName: 'test',
  callbackWaitsForEmptyEventLoop: false,
} as unknown as Context;
