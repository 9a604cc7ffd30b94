import type { Context } from 'aws-lambda';

/**
 * A Lambda context as the runtime passes it. Its remaining time is real (`remainingMs` from now), or
 * given by a function — e.g. one that runs out after a number of readings, so that a test of a
 * deadline does not depend on how fast the machine is.
 */
export function fakeContext(functionName: string, remaining: number | (() => number) = 600_000): Context {
  const deadline = Date.now() + (typeof remaining === 'number' ? remaining : 0);
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:ap-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: `req-${Math.random().toString(36).slice(2)}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'test',
    getRemainingTimeInMillis:
      typeof remaining === 'number' ? () => Math.max(0, deadline - Date.now()) : remaining,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
