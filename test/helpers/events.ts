import type { Context } from 'aws-lambda';

export { apiEvent } from '../../local/fixtures.ts';

/** A Lambda context without getRemainingTimeInMillis, so middy sets no early timeout. */
export const lambdaContext = {
  awsRequestId: 'aws-req-1',
  functionName: 'test',
  callbackWaitsForEmptyEventLoop: false,
} as unknown as Context;
