// A small reader of the table's stream on DynamoDB Local: the local equivalent of Lambda's event
// source mapping. It hands batches of records to the notifier, keeps a checkpoint (the last sequence
// number handled, per shard) in a file, and on a reported failure resumes from the failed record.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type _Record as RawRecord,
  type Shard,
  TrimmedDataAccessException,
} from '@aws-sdk/client-dynamodb-streams';
import type { Log } from '../../shared/deps';
import type { StreamRecord } from '../../shared/notices/notifier';
import { backoff } from '../../shared/retry';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../shared/store/client';

type Checkpoint = Record<string, Record<string, string>>; // streamArn → shardId → last sequence number handled

export interface StreamReaderOptions {
  dynamodb: DynamoDBClient;
  streams: DynamoDBStreamsClient;
  tableName: string;
  checkpointPath: string;
  handle(records: StreamRecord[]): Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
  log: Log;
  /** Records per GetRecords call, like the event source mapping's batch size. */
  batchSize?: number;
  /** Attempts per batch before giving up (the records stay after the checkpoint for the next time). */
  attempts?: number;
}

export interface DrainResult {
  records: number;
  batches: number;
}

function loadCheckpoint(path: string): Checkpoint {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Checkpoint) : {};
}

function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  const temporary = `${path}.tmp`;
  writeFileSync(temporary, JSON.stringify(checkpoint));
  renameSync(temporary, path); // atomic: a crash leaves the old checkpoint or the new one
}

/**
 * DynamoDB Local's stream writes an empty map as `{}` instead of `{ "M": {} }` (DynamoDB itself and
 * Lambda's events do not): put the type back so the images unmarshall as they would in AWS.
 */
export function repairEmptyMaps(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const attribute = value as Record<string, unknown>;
  if (Object.keys(attribute).length === 0) return { M: {} };
  if (attribute.M) return { M: repairImage(attribute.M as Record<string, unknown>) };
  if (Array.isArray(attribute.L)) return { L: attribute.L.map(repairEmptyMaps) };
  return attribute;
}

function repairImage(image: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  return (
    image && Object.fromEntries(Object.entries(image).map(([name, value]) => [name, repairEmptyMaps(value)]))
  );
}

function toStreamRecord(raw: RawRecord): StreamRecord {
  return {
    eventName: raw.eventName as StreamRecord['eventName'],
    dynamodb: {
      SequenceNumber: raw.dynamodb?.SequenceNumber as string,
      NewImage: repairImage(raw.dynamodb?.NewImage as Record<string, unknown> | undefined),
      OldImage: repairImage(raw.dynamodb?.OldImage as Record<string, unknown> | undefined),
    },
  };
}

async function allShards(streams: DynamoDBStreamsClient, streamArn: string): Promise<Shard[]> {
  const shards: Shard[] = [];
  let start: string | undefined;
  do {
    const { StreamDescription } = await streams.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }),
    );
    shards.push(...(StreamDescription?.Shards ?? []));
    start = StreamDescription?.LastEvaluatedShardId;
  } while (start);
  // Parents hold older records than their children: read in order of first sequence number.
  return shards.sort((a, b) =>
    (a.SequenceNumberRange?.StartingSequenceNumber ?? '').localeCompare(
      b.SequenceNumberRange?.StartingSequenceNumber ?? '',
    ),
  );
}

export interface StreamReader {
  drain(): Promise<DrainResult>;
}

/**
 * A reader that keeps its place between drains: the stream ARN, the shard list and each open shard's
 * next iterator are kept in memory (the checkpoint file remains the truth across processes), so a
 * drain that finds nothing new costs one GetRecords per open shard. A kept iterator is used only if
 * the checkpoint still says what it said when the iterator was taken: another process may have
 * delivered further meanwhile. Callers make drains of one checkpoint exclusive (the CLI's delivery lock).
 */
/** A Streams client for DynamoDB Local at `endpoint` (the region and credentials it accepts). */
export function localStreamsClient(endpoint: string, maxAttempts?: number): DynamoDBStreamsClient {
  return new DynamoDBStreamsClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts,
  });
}

export function createStreamReader(options: StreamReaderOptions): StreamReader {
  const { streams, checkpointPath, log } = options;
  const attempts = options.attempts ?? 3;
  const limit = options.batchSize ?? 1000;
  let streamArn: string | undefined;
  let shards: Shard[] | undefined;
  /** shardId → the next iterator, and the checkpoint's position for the shard when it was taken. */
  const openIterators = new Map<string, { iterator: string; after: string | undefined }>();

  const drain = async (): Promise<DrainResult> => {
    if (!streamArn) {
      const { Table } = await options.dynamodb.send(
        new DescribeTableCommand({ TableName: options.tableName }),
      );
      streamArn = Table?.LatestStreamArn;
      if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
    }
    const arn = streamArn;
    shards ??= await allShards(streams, arn);
    const checkpoint = loadCheckpoint(checkpointPath);
    const positions = checkpoint[arn] ?? {};
    checkpoint[arn] = positions;
    const result: DrainResult = { records: 0, batches: 0 };
    let shardClosed = false;

    for (const shard of shards) {
      const shardId = shard.ShardId as string;
      const kept = openIterators.get(shardId);
      openIterators.delete(shardId);
      let iterator =
        kept && kept.after === positions[shardId]
          ? kept.iterator
          : await shardIterator(streams, arn, shardId, positions[shardId]);
      while (iterator) {
        let page: GetRecordsCommandOutput;
        try {
          page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }));
        } catch (error) {
          if (!(error instanceof ExpiredIteratorException)) throw error;
          iterator = await shardIterator(streams, arn, shardId, positions[shardId]); // kept too long: start again from the checkpoint
          continue;
        }
        let records = (page.Records ?? []).map(toStreamRecord);
        for (let attempt = 1; records.length > 0; attempt++) {
          const { batchItemFailures } = await options.handle(records);
          result.batches++;
          const failedAt = batchItemFailures[0]
            ? records.findIndex((r) => r.dynamodb.SequenceNumber === batchItemFailures[0]?.itemIdentifier)
            : -1;
          const handled = failedAt === -1 ? records : records.slice(0, failedAt);
          const last = handled.at(-1);
          if (last) {
            positions[shardId] = last.dynamodb.SequenceNumber;
            saveCheckpoint(checkpointPath, checkpoint);
            result.records += handled.length;
          }
          if (failedAt === -1) break;
          records = records.slice(failedAt);
          if (attempt >= attempts) {
            throw new Error(
              `notices for ${records.length} stream record(s) could not be delivered after ${attempts} attempts; the next command retries them`,
            );
          }
          log.warn('redelivering stream records after a failure', {
            from: records[0]?.dynamodb.SequenceNumber,
            attempt,
          });
          await backoff(attempt, { attempts, baseDelayMs: 400, maxDelayMs: 5000 });
        }
        if (!page.NextShardIterator) {
          shardClosed = true; // read to its end: its children (if any) come with the next shard list
          break;
        }
        // A page short of the batch size means we have caught up: continue from here next time, so
        // that records written meanwhile are handled together, in full batches (as a batching window would).
        if ((page.Records ?? []).length < limit) {
          openIterators.set(shardId, { iterator: page.NextShardIterator, after: positions[shardId] });
          break;
        }
        iterator = page.NextShardIterator;
      }
    }
    if (shardClosed) shards = undefined;
    return result;
  };
  return { drain };
}

/** Delivers everything in the stream after the checkpoint, then returns. */
export function drainStream(options: StreamReaderOptions): Promise<DrainResult> {
  return createStreamReader(options).drain();
}

async function shardIterator(
  streams: DynamoDBStreamsClient,
  streamArn: string,
  shardId: string,
  after: string | undefined,
): Promise<string | undefined> {
  try {
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(after
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
          : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    return ShardIterator;
  } catch (error) {
    // The checkpointed record aged out of the stream (24 h): start from the oldest one still there.
    if (after && error instanceof TrimmedDataAccessException)
      return shardIterator(streams, streamArn, shardId, undefined);
    throw error;
  }
}
