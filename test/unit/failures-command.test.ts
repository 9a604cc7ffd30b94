// `failures list|replay <queue>` against mocked SQS, Lambda and DynamoDB Streams clients
// (aws-sdk-client-mock): the exact calls made, nothing deleted by list, a message deleted only after
// its re-drive succeeded, a failed one kept (made visible again) and reported with exit 1.
import {
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  type Message,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cliInProcess } from '../support/cli';

const sqs = mockClient(SQSClient);
const lambda = mockClient(LambdaClient);
const streams = mockClient(DynamoDBStreamsClient);

const URL = 'https://sqs.ap-east-1.amazonaws.com/123456789012/promo-jobs-prod-activate-failures';
const aws = (...args: string[]) =>
  cliInProcess(['--aws', 'failures', ...args], { PROMO_JOBS_HOME: '/tmp/no-home' });

beforeEach(() => {
  sqs.reset();
  lambda.reset();
  streams.reset();
  vi.stubEnv('AWS_REGION', 'ap-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  vi.stubEnv('PROMO_JOBS_STAGE', '');
  sqs.on(GetQueueUrlCommand).callsFake(({ QueueName }: { QueueName: string }) => ({
    QueueUrl: `https://sqs.ap-east-1.amazonaws.com/123456789012/${QueueName}`,
  }));
  sqs.on(DeleteMessageCommand).resolves({});
  sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
});
afterEach(() => vi.unstubAllEnvs());

const message = (id: string, body: unknown, attributes: Message['MessageAttributes'] = {}): Message => ({
  MessageId: id,
  ReceiptHandle: `handle-${id}`,
  Body: typeof body === 'string' ? body : JSON.stringify(body),
  Attributes: { SentTimestamp: '1593619200000', ApproximateReceiveCount: '2' },
  MessageAttributes: attributes,
});

/** The queue holds these messages: one receive gives them, the next nothing. */
function queueHolds(...messages: Message[]) {
  sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: messages }).resolves({ Messages: [] });
}

const SCHEDULER_DLQ = message(
  'm-1',
  { scheduledTime: '2020-05-08T00:00:00+08:00' },
  {
    ERROR_MESSAGE: { DataType: 'String', StringValue: 'Lambda throttled' },
  },
);
const LAMBDA_FAILURE = message('m-2', {
  version: '1.0',
  requestContext: { requestId: 'r-1', condition: 'RetriesExhausted', approximateInvokeCount: 3 },
  requestPayload: { asOf: '2020-05-09T00:00:00+08:00' },
  responsePayload: { errorType: 'Error', errorMessage: 'table throttled' },
});
const payloadOf = (call: { args: [{ input: { Payload?: Uint8Array } }] }) =>
  JSON.parse(new TextDecoder().decode(call.args[0].input.Payload));
const ok = (payload: unknown = { ok: true }): never =>
  ({
    StatusCode: 200,
    Payload: new TextEncoder().encode(JSON.stringify(payload)),
  }) as never;

describe('failures', () => {
  it('locally: exit 2, there are no failure queues; a queue that is none of them: exit 2 naming them', async () => {
    const local = await cliInProcess(['failures', 'list', 'activate'], { PROMO_JOBS_HOME: '/tmp/no-home' });
    expect([local.status, local.stdout]).toEqual([2, '']);
    expect(local.stderr).toMatch(/there are no failure queues locally/);
    const unknown = await aws('list', 'nightly');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(
      /<queue>: must be one of activate, expire, cart-policies, notifier, recorder, or a failure queue's URL \(got nightly\)/,
    );
    const missing = await aws('replay');
    expect(missing.status).toBe(2);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('list: every message with its kind and summary, each made visible again, none deleted', async () => {
    queueHolds(SCHEDULER_DLQ, LAMBDA_FAILURE);
    const listed = await aws('list', 'activate', '--stage', 'prod');
    expect(listed.status).toBe(0);
    expect(listed.json).toEqual([
      {
        messageId: 'm-1',
        sentAt: '2020-07-01T16:00:00.000Z',
        receiveCount: 2,
        kind: 'scheduler-dead-letter',
        summary: 'scheduled run 2020-05-08T00:00:00+08:00 not delivered: Lambda throttled',
        body: { scheduledTime: '2020-05-08T00:00:00+08:00' },
      },
      expect.objectContaining({
        messageId: 'm-2',
        kind: 'lambda-failure',
        summary: 'invocation with {"asOf":"2020-05-09T00:00:00+08:00"} failed: table throttled',
      }),
    ]);
    expect(sqs.commandCalls(GetQueueUrlCommand)[0]?.args[0].input).toEqual({
      QueueName: 'promo-jobs-prod-activate-failures',
    });
    const receive = sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input;
    expect(receive).toMatchObject({ QueueUrl: URL, VisibilityTimeout: 30, MaxNumberOfMessages: 10 });
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: URL,
        Entries: [
          { Id: '0', ReceiptHandle: 'handle-m-1', VisibilityTimeout: 0 },
          { Id: '1', ReceiptHandle: 'handle-m-2', VisibilityTimeout: 0 },
        ],
      },
    ]);
    expect(lambda.calls()).toHaveLength(0);
  });

  it('replay of a job queue: the job invoked with each original input; only the one that succeeded is deleted; exit 1', async () => {
    queueHolds(SCHEDULER_DLQ, LAMBDA_FAILURE);
    lambda
      .on(InvokeCommand)
      .resolvesOnce(ok({ job: 'activate', changed: 3 }))
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: new TextEncoder().encode(
          JSON.stringify({ errorType: 'LeaseHeldError', errorMessage: 'held by run x' }),
        ),
      } as never);
    const replayed = await aws('replay', 'activate', '--stage', 'prod');
    expect(replayed.status).toBe(1);
    const invokes = lambda.commandCalls(InvokeCommand);
    expect(
      invokes.map((c) => [
        c.args[0].input.FunctionName,
        c.args[0].input.InvocationType,
        payloadOf(c as never),
      ]),
    ).toEqual([
      ['promo-jobs-prod-activate', 'RequestResponse', { scheduledTime: '2020-05-08T00:00:00+08:00' }],
      ['promo-jobs-prod-activate', 'RequestResponse', { asOf: '2020-05-09T00:00:00+08:00' }],
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: URL, ReceiptHandle: 'handle-m-1' },
    ]);
    // The failed one is visible again (after the replay: not taken twice by it), and stays.
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input.Entries)).toEqual(
      [[{ Id: '0', ReceiptHandle: 'handle-m-2', VisibilityTimeout: 0 }]],
    );
    expect(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.VisibilityTimeout).toBe(960);
    expect(replayed.json).toEqual([
      expect.objectContaining({ messageId: 'm-1', outcome: 'replayed' }),
      expect.objectContaining({
        messageId: 'm-2',
        outcome: 'failed',
        error: 'promo-jobs-prod-activate failed (Unhandled): LeaseHeldError: held by run x',
      }),
    ]);
    expect(replayed.stderr.trim().split('\n').at(-1)).toBe(
      'replayed 1 of 2 messages from promo-jobs-prod-activate-failures (deleted); 1 failed and stay in the queue',
    );
  });

  it('replay of the recorder queue by URL: the merchant event itself, or the requestPayload; an unknown message stays', async () => {
    const event = {
      version: '0',
      id: 'e-1',
      'detail-type': 'MerchantOnboarded',
      source: 'marketplace.merchants',
      time: '2020-05-06T02:00:00Z',
      detail: { merchantId: 'm-9', onboardedAt: '2020-05-06' },
    };
    queueHolds(
      message('r-1', event),
      message('r-2', {
        requestContext: { condition: 'RetriesExhausted' },
        requestPayload: event,
        responsePayload: {},
      }),
      message('r-3', 'not json'),
    );
    lambda.on(InvokeCommand).resolves(ok({ type: 'MerchantOnboarded', outcome: 'unchanged' }));
    const url = 'https://sqs.ap-east-1.amazonaws.com/123456789012/promo-jobs-test-recorder-failures';
    const replayed = await aws('replay', url);
    expect(replayed.status).toBe(1);
    expect(sqs.commandCalls(GetQueueUrlCommand)).toHaveLength(0);
    expect(
      lambda.commandCalls(InvokeCommand).map((c) => [c.args[0].input.FunctionName, payloadOf(c as never)]),
    ).toEqual([
      ['promo-jobs-test-recorder', event],
      ['promo-jobs-test-recorder', event],
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle)).toEqual([
      'handle-r-1',
      'handle-r-2',
    ]);
    expect(replayed.json.map((l) => (l as { kind: string }).kind)).toEqual([
      'merchant-event',
      'lambda-failure',
      'unknown',
    ]);
    expect(
      sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0]?.args[0].input.Entries?.[0]?.ReceiptHandle,
    ).toBe('handle-r-3');
  });

  it('replay of the notifier queue: the batch read back from the stream, the notifier invoked with its records', async () => {
    const streamArn =
      'arn:aws:dynamodb:ap-east-1:123456789012:table/promo-jobs-prod/stream/2020-01-01T00:00:00.000';
    queueHolds(
      message('n-1', {
        requestContext: { condition: 'RetryAttemptsExhausted' },
        DDBStreamBatchInfo: {
          shardId: 'shard-1',
          startSequenceNumber: '100',
          endSequenceNumber: '200',
          batchSize: 2,
          streamArn,
        },
      }),
    );
    const record = (seq: string) => ({
      eventName: 'MODIFY' as const,
      dynamodb: {
        SequenceNumber: seq,
        NewImage: { pk: { S: 'x' } },
        ApproximateCreationDateTime: new Date(1593619200000),
      },
    });
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-1' });
    streams
      .on(GetRecordsCommand)
      .resolves({ Records: [record('100'), record('200'), record('300')], NextShardIterator: 'it-2' });
    lambda.on(InvokeCommand).resolves(ok({ batchItemFailures: [] }));
    const replayed = await aws('replay', 'notifier', '--stage', 'prod');
    expect([replayed.status, replayed.stderr]).toEqual([
      0,
      'replayed 1 of 1 messages from promo-jobs-prod-notifier-failures (deleted)\n',
    ]);
    expect(streams.commandCalls(GetShardIteratorCommand)[0]?.args[0].input).toEqual({
      StreamArn: streamArn,
      ShardId: 'shard-1',
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      SequenceNumber: '100',
    });
    const invoked = lambda.commandCalls(InvokeCommand);
    expect(invoked.map((c) => c.args[0].input.FunctionName)).toEqual(['promo-jobs-prod-notifier']);
    expect(
      payloadOf(invoked[0] as never).Records.map(
        (r: { dynamodb: { SequenceNumber: string } }) => r.dynamodb.SequenceNumber,
      ),
    ).toEqual(['100', '200']);
    expect(payloadOf(invoked[0] as never).Records[0].dynamodb.ApproximateCreationDateTime).toBe(1593619200);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(1);
  });

  it('the notifier reporting a record to redeliver, or a batch gone from the stream: the message stays', async () => {
    const info = { shardId: 's', startSequenceNumber: '1', endSequenceNumber: '2', streamArn: 'arn:x' };
    queueHolds(message('n-1', { DDBStreamBatchInfo: info }), message('n-2', { DDBStreamBatchInfo: info }));
    streams.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    streams
      .on(GetRecordsCommand)
      .resolvesOnce({
        Records: [
          { eventName: 'INSERT', dynamodb: { SequenceNumber: '1' } },
          { eventName: 'INSERT', dynamodb: { SequenceNumber: '2' } },
        ],
      })
      .resolves({ Records: [], NextShardIterator: undefined });
    lambda.on(InvokeCommand).resolves(ok({ batchItemFailures: [{ itemIdentifier: '2' }] }));
    const replayed = await aws('replay', 'notifier');
    expect(replayed.status).toBe(1);
    expect(replayed.json.map((l) => (l as { error: string }).error)).toEqual([
      'promo-jobs-dev-notifier reported records to redeliver from 2',
      expect.stringMatching(
        /^the stream no longer holds these records \(it keeps them 24 h\): resend the notices/,
      ),
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(0);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(1);
  });

  it('an empty queue: "nothing to replay"; a queue that does not exist: exit 1 naming it', async () => {
    queueHolds();
    const empty = await aws('replay', 'expire');
    expect([empty.status, empty.stdout, empty.stderr]).toEqual([
      0,
      '',
      'nothing to replay: promo-jobs-dev-expire-failures is empty\n',
    ]);
    sqs.on(GetQueueUrlCommand).rejects(new QueueDoesNotExist({ message: 'no', $metadata: {} }));
    const gone = await aws('list', 'expire', '--stage', 'qa');
    expect([gone.status, gone.stderr]).toEqual([
      1,
      'error: no queue promo-jobs-qa-expire-failures (is the stage deployed? --stage)\n',
    ]);
  });
});
