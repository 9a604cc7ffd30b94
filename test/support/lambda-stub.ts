// A tiny local stand-in for the Lambda Invoke API (REST-JSON), for a bundle that invokes a function
// (a job continuing itself). Point a client at it with AWS_ENDPOINT_URL_LAMBDA.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Invocation {
  functionName: string;
  invocationType: string;
  payload: unknown;
}

export interface LambdaStub {
  endpoint: string;
  invocations: Invocation[];
  close(): Promise<void>;
}

export async function startLambdaStub(): Promise<LambdaStub> {
  const invocations: Invocation[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(request.url ?? '');
      if (request.method !== 'POST' || !match?.[1]) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ Type: 'User', message: 'stub: only Invoke' }));
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      invocations.push({
        functionName: decodeURIComponent(match[1]),
        invocationType: String(request.headers['x-amz-invocation-type'] ?? 'RequestResponse'),
        payload: body ? JSON.parse(body) : undefined,
      });
      // An asynchronous invocation is accepted with 202 and no body.
      response.writeHead(202);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invocations,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
