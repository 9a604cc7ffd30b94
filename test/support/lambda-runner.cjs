// Runs a bundled Lambda handler the way the Node.js runtime does: a fresh process, configuration in
// the environment, `index.handler` imported from the bundle folder's ES module (index.mjs), invoked once per event in order (one warm container), each with the function's time limit.
// Usage: node lambda-runner.cjs <bundle dir> <events.json> <results.json> <timeout seconds>
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');

const [bundleDir, eventsPath, resultsPath, timeoutSeconds] = process.argv.slice(2);
const events = JSON.parse(readFileSync(eventsPath, 'utf8'));

const context = (n) => {
  const deadline = Date.now() + Number(timeoutSeconds) * 1000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: `request-${n}`,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'bundle-test',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
};

(async () => {
  const results = [];
  try {
    const { handler } = await import(pathToFileURL(join(bundleDir, 'index.mjs')).href);
    for (const [n, event] of events.entries()) {
      try {
        results.push({ ok: await handler(event, context(n)) });
      } catch (error) {
        results.push({ error: { name: error.name, message: error.message } });
      }
    }
  } catch (error) {
    // A failure at cold start (loading the bundle, configuration): every event fails with it.
    results.push({ initError: { name: error.name, message: error.message } });
  }
  writeFileSync(resultsPath, JSON.stringify(results));
  process.exit(0); // keep-alive sockets of the bundled SDK clients would hold the process open
})();
