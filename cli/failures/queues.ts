// The deployed failure queues (infra/constructs/failure-queue.ts) as the CLI reads and re-drives them:
// which queue a name stands for, what each message is (a scheduler dead letter, a Lambda on-failure
// record, a stream batch the notifier gave up on, a merchant event the rule could not deliver), and how
// it is handled again: the function it was meant for invoked synchronously with the original input
// (a stream batch's records read back from the stream first). A message is deleted only once that
// invocation succeeded; one that failed is made visible again and stays.
import {
  type _Record,
  type DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { InputError } from '../../shared/errors';
import { JOB_NAMES } from '../../shared/jobs/registry';

/** What a failure queue parks: the work of one job, the notifier's or the recorder's. */
export type QueueOwner = { kind: 'job'; job: string } | { kind: 'notifier' } | { kind: 'recorder' };

export interface FailureQueue {
  /** `<prefix>-<owner>-failures`. */
  name: string;
  /** Its URL, when it was given as one (otherwise looked up by name). */
  url?: string;
  owner: QueueOwner;
  /** The function its messages were meant for: `<prefix>-<job|notifier|recorder>`. */
  functionName: string;
}

export const QUEUE_OWNERS = [...JOB_NAMES, 'notifier', 'recorder'] as const;

const ownerOf = (name: string): QueueOwner | undefined =>
  name === 'notifier' || name === 'recorder'
    ? { kind: name }
    : (JOB_NAMES as readonly string[]).includes(name)
      ? { kind: 'job', job: name }
      : undefined;

export const ownerName = (owner: QueueOwner) => (owner.kind === 'job' ? owner.job : owner.kind);

/**
 * The queue `<queue>` names: a job's name, `notifier` or `recorder` (in the stage's prefix), or a queue
 * URL whose name is one of those queues' (`https://sqs.<region>.amazonaws.com/<account>/<prefix>-<owner>-failures`).
 */
export function failureQueueOf(given: string, prefix: string): FailureQueue {
  const owner = ownerOf(given);
  if (owner) return { name: `${prefix}-${given}-failures`, owner, functionName: `${prefix}-${given}` };
  const url = /^https:\/\/sqs\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/\d{12}\/([A-Za-z0-9_-]{1,80})$/.exec(given);
  const name = url?.[2];
  if (url && name) {
    for (const candidate of QUEUE_OWNERS) {
      const suffix = `-${candidate}-failures`;
      if (name.endsWith(suffix) && name.length > suffix.length) {
        const queuePrefix = name.slice(0, -suffix.length);
        return {
          name,
          url: given,
          owner: ownerOf(candidate) as QueueOwner,
          functionName: `${queuePrefix}-${candidate}`,
        };
      }
    }
    throw new InputError(
      `<queue>: ${name} is not a failure queue of this app (<prefix>-<${QUEUE_OWNERS.join('|')}>-failures)`,
    );
  }
  throw new InputError(
    `<queue>: must be one of ${QUEUE_OWNERS.join(', ')}, or a failure queue's URL (got ${given})`,
  );
}

export async function queueUrlOf(sqs: SQSClient, queue: FailureQueue): Promise<string> {
  if (queue.url) return queue.url;
  const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue.name }));
  if (!QueueUrl) throw new Error(`GetQueueUrl gave no URL for ${queue.name}`);
  return QueueUrl;
}

/** What a message stands for, read from its body. */
export type Parked =
  | { kind: 'scheduler-dead-letter'; payload: unknown; summary: string }
  | { kind: 'lambda-failure'; payload: unknown; summary: string }
  | { kind: 'stream-batch'; batch: StreamBatch; summary: string }
  | { kind: 'merchant-event'; payload: unknown; summary: string }
  | { kind: 'unknown'; summary: string };

/** The part of a stream on-failure record (DDBStreamBatchInfo) that says which records were given up on. */
export interface StreamBatch {
  streamArn: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  batchSize?: number;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const short = (text: string) => (text.length > 120 ? `${text.slice(0, 117)}…` : text);

export function parkedOf(message: Message): Parked {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    return { kind: 'unknown', summary: 'not JSON' };
  }
  if (!isObject(body)) return { kind: 'unknown', summary: 'not a JSON object' };
  const info = body.DDBStreamBatchInfo;
  if (isObject(info)) {
    const batch: StreamBatch = {
      streamArn: String(info.streamArn),
      shardId: String(info.shardId),
      startSequenceNumber: String(info.startSequenceNumber),
      endSequenceNumber: String(info.endSequenceNumber),
      batchSize: typeof info.batchSize === 'number' ? info.batchSize : undefined,
    };
    return {
      kind: 'stream-batch',
      batch,
      summary: `stream batch of ${batch.batchSize ?? '?'} records, ${batch.startSequenceNumber}…${batch.endSequenceNumber} of ${batch.shardId}`,
    };
  }
  if ('requestPayload' in body && isObject(body.requestContext)) {
    const response = isObject(body.responsePayload) ? body.responsePayload : {};
    const why = response.errorMessage ?? body.requestContext.condition ?? 'failed';
    return {
      kind: 'lambda-failure',
      payload: body.requestPayload,
      summary: short(`invocation with ${JSON.stringify(body.requestPayload)} failed: ${String(why)}`),
    };
  }
  if ('detail-type' in body && 'detail' in body) {
    const detail = isObject(body.detail) ? body.detail : {};
    return {
      kind: 'merchant-event',
      payload: body,
      summary: short(`${String(body['detail-type'])} ${String(detail.merchantId ?? '')}`.trim()),
    };
  }
  if (typeof body.scheduledTime === 'string') {
    const error = message.MessageAttributes?.ERROR_MESSAGE?.StringValue;
    return {
      kind: 'scheduler-dead-letter',
      payload: body,
      summary: short(`scheduled run ${body.scheduledTime} not delivered${error ? `: ${error}` : ''}`),
    };
  }
  return { kind: 'unknown', summary: short(`unrecognised message: ${message.Body ?? ''}`) };
}

/** A message as `failures list` prints it. */
export interface ListedMessage {
  messageId: string;
  sentAt: string | null;
  receiveCount: number;
  kind: Parked['kind'];
  summary: string;
  body: unknown;
}

function listed(message: Message): ListedMessage {
  const parked = parkedOf(message);
  const sent = Number(message.Attributes?.SentTimestamp);
  let body: unknown = message.Body;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    // kept as text
  }
  return {
    messageId: message.MessageId ?? '',
    sentAt: Number.isFinite(sent) ? new Date(sent).toISOString() : null,
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    kind: parked.kind,
    summary: parked.summary,
    body,
  };
}

/** How long `list` hides what it read (then it gives it back at once); `replay` hides each while it works on it. */
export const LIST_VISIBILITY_S = 30;
/** Longer than a job function's time limit (15 min), so no other reader takes a message being replayed. */
export const REPLAY_VISIBILITY_S = 960;

/**
 * Every message of the queue, each once, until a receive brings nothing new; or `max` of them.
 * The caller gives each back (or deletes it).
 */
async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  visibility: number,
  onMessage: (message: Message) => Promise<void>,
  max: number,
): Promise<void> {
  const seen = new Set<string>();
  while (seen.size < max) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, max - seen.size),
        VisibilityTimeout: visibility,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
        MessageAttributeNames: ['All'],
      }),
    );
    const fresh = Messages.filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) return;
    for (const message of fresh) {
      seen.add(message.MessageId as string);
      await onMessage(message);
    }
  }
}

/** Makes these messages visible again at once (10 a request). */
async function giveBack(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.slice(i, i + 10).map((m, j) => ({
          Id: String(i + j),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/** The messages of a queue, read without deleting any: each is visible again when this returns. */
export async function listFailures(sqs: SQSClient, queueUrl: string, max: number): Promise<ListedMessage[]> {
  const received: Message[] = [];
  try {
    await receiveAll(sqs, queueUrl, LIST_VISIBILITY_S, async (m) => void received.push(m), max);
  } finally {
    await giveBack(sqs, queueUrl, received);
  }
  return received.map(listed);
}

export interface Redrivers {
  lambda: LambdaClient;
  streams: DynamoDBStreamsClient;
}

export interface ReplayLine {
  messageId: string;
  kind: Parked['kind'];
  summary: string;
  outcome: 'replayed' | 'failed';
  error?: string;
}

/** Invokes the function synchronously with the payload; throws with the function's error if it failed. */
async function invoke(lambda: LambdaClient, functionName: string, payload: unknown): Promise<unknown> {
  const out = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(payload)),
    }),
  );
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
  if (out.FunctionError) {
    let message = text;
    try {
      const parsed = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      message = `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage ?? text}`;
    } catch {
      // the raw payload says it
    }
    throw new Error(`${functionName} failed (${out.FunctionError}): ${message}`);
  }
  return text ? JSON.parse(text) : undefined;
}

/** The records of a stream batch, read back from the stream (it keeps them 24 h), as Lambda's event shows them. */
export async function readStreamBatch(
  streams: DynamoDBStreamsClient,
  batch: StreamBatch,
): Promise<unknown[]> {
  const end = BigInt(batch.endSequenceNumber);
  const { ShardIterator } = await streams.send(
    new GetShardIteratorCommand({
      StreamArn: batch.streamArn,
      ShardId: batch.shardId,
      ShardIteratorType: 'AT_SEQUENCE_NUMBER',
      SequenceNumber: batch.startSequenceNumber,
    }),
  );
  const records: _Record[] = [];
  let iterator = ShardIterator;
  let emptyPages = 0;
  while (iterator && emptyPages < 5) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    const got = page.Records ?? [];
    emptyPages = got.length === 0 ? emptyPages + 1 : 0;
    for (const record of got) {
      if (BigInt(record.dynamodb?.SequenceNumber ?? '0') > end) return records.map(asLambdaRecord);
      records.push(record);
    }
    if (records.at(-1)?.dynamodb?.SequenceNumber === batch.endSequenceNumber) break;
    iterator = page.NextShardIterator;
  }
  if (records.length === 0) {
    throw new Error(
      'the stream no longer holds these records (it keeps them 24 h): resend the notices from the stored state with "notices resend --merchant <id>"',
    );
  }
  return records.map(asLambdaRecord);
}

/** GetRecords gives the creation time as a Date; Lambda's event gives epoch seconds. */
function asLambdaRecord(record: _Record): unknown {
  const created = record.dynamodb?.ApproximateCreationDateTime;
  return {
    ...record,
    dynamodb: {
      ...record.dynamodb,
      ...(created instanceof Date ? { ApproximateCreationDateTime: created.getTime() / 1000 } : {}),
    },
  };
}

/** Handles one parked message again; throws if it could not be. */
async function redrive(queue: FailureQueue, parked: Parked, clients: Redrivers): Promise<void> {
  switch (parked.kind) {
    case 'scheduler-dead-letter':
    case 'lambda-failure':
    case 'merchant-event':
      await invoke(clients.lambda, queue.functionName, parked.payload);
      return;
    case 'stream-batch': {
      const Records = await readStreamBatch(clients.streams, parked.batch);
      const result = (await invoke(clients.lambda, queue.functionName, { Records })) as
        | { batchItemFailures?: { itemIdentifier: string }[] }
        | undefined;
      const failed = result?.batchItemFailures ?? [];
      if (failed.length > 0) {
        throw new Error(
          `${queue.functionName} reported records to redeliver from ${failed[0]?.itemIdentifier}`,
        );
      }
      return;
    }
    case 'unknown':
      throw new Error(`cannot tell what it stands for (${parked.summary}): look at it with "failures list"`);
  }
}

/**
 * Re-drives every message of the queue, one at a time: each is deleted once it was handled, and each
 * that failed is made visible again at the end (not before, or this replay would take it again).
 */
export async function replayFailures(
  sqs: SQSClient,
  queueUrl: string,
  queue: FailureQueue,
  clients: Redrivers,
  max: number,
  onLine: (line: ReplayLine) => void = () => {},
): Promise<ReplayLine[]> {
  const lines: ReplayLine[] = [];
  const failed: Message[] = [];
  try {
    await receiveAll(
      sqs,
      queueUrl,
      REPLAY_VISIBILITY_S,
      async (message) => {
        const parked = parkedOf(message);
        const base = { messageId: message.MessageId ?? '', kind: parked.kind, summary: parked.summary };
        let line: ReplayLine;
        try {
          await redrive(queue, parked, clients);
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
          line = { ...base, outcome: 'replayed' };
        } catch (error) {
          failed.push(message);
          line = {
            ...base,
            outcome: 'failed',
            error: error instanceof Error ? error.message : String(error),
          };
        }
        lines.push(line);
        onLine(line);
      },
      max,
    );
  } finally {
    await giveBack(sqs, queueUrl, failed);
  }
  return lines;
}
