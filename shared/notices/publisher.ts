// Where notices go: an SNS topic (PublishBatch, ≤ 10 entries and ≤ 256 KiB a request, failed
// entries retried with the shared backoff), or a local sink file that stands in for the topic on a workstation.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  type MessageAttributeValue,
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type SNSClient,
  SNSServiceException,
} from '@aws-sdk/client-sns';
import { createLimiter } from '../concurrency';
import type { Log } from '../deps';
import { attempts, type RetryPolicy } from '../retry';
import { type Notice, programIdOf } from './notice';

export interface PublishOutcome {
  published: number;
  failed: { notice: Notice; error: string }[];
  /** Requests made to the destination (for the benchmark's requests-per-notice figure). */
  requests: number;
}

export interface NoticePublisher {
  publish(notices: Notice[]): Promise<PublishOutcome>;
}

export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 256 * 1024;

/**
 * The message attributes a notice can carry, what subscribers' filter policies may name (the stage
 * files' `filterPolicy`, infra/stage.ts): `programId` on promotion notices only.
 */
export const NOTICE_ATTRIBUTES = ['type', 'merchantId', 'programId'] as const;
export type NoticeAttribute = (typeof NOTICE_ATTRIBUTES)[number];

export function snsEntry(notice: Notice): PublishBatchRequestEntry {
  const attributes: Partial<Record<NoticeAttribute, MessageAttributeValue>> = {
    type: { DataType: 'String', StringValue: notice.type },
    merchantId: { DataType: 'String', StringValue: notice.merchantId },
    // Promotion notices only: a subscriber filtering on a program never receives cart notices.
    ...(programIdOf(notice) === undefined
      ? {}
      : { programId: { DataType: 'String', StringValue: programIdOf(notice) } }),
  };
  return { Id: notice.eventId, Message: JSON.stringify(notice), MessageAttributes: attributes };
}

function entryBytes(entry: PublishBatchRequestEntry): number {
  let bytes = Buffer.byteLength(entry.Message ?? '');
  for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
    bytes +=
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? '');
  }
  return bytes;
}

/** Groups entries into PublishBatch requests within both limits, keeping their order. */
export function batchesOf(entries: PublishBatchRequestEntry[]): PublishBatchRequestEntry[][] {
  const batches: PublishBatchRequestEntry[][] = [];
  let batch: PublishBatchRequestEntry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = entryBytes(entry);
    if (batch.length === MAX_BATCH_ENTRIES || (batch.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += size;
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

export interface SnsPublisherOptions {
  /** Attempts per entry, counting the first (SDK retries of a whole request come on top). */
  attempts?: number;
  baseDelayMs?: number;
  concurrency?: number;
  /** Injected by tests. */
  sleep?: RetryPolicy['sleep'];
  /** Injected by tests (the backoff's jitter). */
  random?: RetryPolicy['random'];
}

/** Errors after which trying the same request again cannot help. */
const PERMANENT_ERRORS = new Set([
  'InvalidParameterException',
  'InvalidParameterValueException',
  'NotFoundException',
  'AuthorizationErrorException',
  'InvalidSecurityException',
  'EmptyBatchRequestException',
  'BatchEntryIdsNotDistinctException',
  'TooManyEntriesInBatchRequestException',
  'BatchRequestTooLongException',
  'InvalidBatchEntryIdException',
  'KMSDisabledException',
  'KMSNotFoundException',
]);

const UNACCOUNTED =
  'Unaccounted: the PublishBatch response listed this entry neither as Successful nor as Failed';

export function snsPublisher(
  sns: SNSClient,
  topicArn: string,
  log: Log,
  options: SnsPublisherOptions = {},
): NoticePublisher {
  const policy: RetryPolicy = {
    attempts: options.attempts ?? 4,
    baseDelayMs: options.baseDelayMs ?? 100,
    maxDelayMs: 5000,
    sleep: options.sleep,
    random: options.random,
  };
  const limit = createLimiter(options.concurrency ?? 8);

  return {
    async publish(notices) {
      const byId = new Map(notices.map((n) => [n.eventId, n]));
      const outcome: PublishOutcome = { published: 0, failed: [], requests: 0 };
      const fail = (entry: PublishBatchRequestEntry, error: string) =>
        outcome.failed.push({ notice: byId.get(entry.Id as string) as Notice, error });
      // A notice listed twice in one call (a redelivered record) is published once.
      let pending = [...byId.values()].map(snsEntry);
      let retry: { entry: PublishBatchRequestEntry; error: string }[] = [];
      for await (const attempt of attempts(policy)) {
        retry = [];
        await Promise.all(
          batchesOf(pending).map((batch) =>
            limit(async () => {
              outcome.requests++;
              try {
                const result = await sns.send(
                  new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: batch }),
                );
                // Only what the response accounts for is settled; an entry it leaves out is retried.
                const successful = new Set((result.Successful ?? []).map((s) => s.Id));
                const failed = new Map((result.Failed ?? []).map((f) => [f.Id, f]));
                for (const entry of batch) {
                  const failure = failed.get(entry.Id);
                  if (successful.has(entry.Id) && !failure) outcome.published++;
                  else if (!failure) retry.push({ entry, error: UNACCOUNTED });
                  else {
                    const error = `${failure.Code}: ${failure.Message ?? ''}`.trim();
                    if (failure.SenderFault) fail(entry, error);
                    else retry.push({ entry, error });
                  }
                }
              } catch (error) {
                const name =
                  error instanceof SNSServiceException
                    ? error.name
                    : error instanceof Error
                      ? error.name
                      : 'Error';
                const message = `${name}: ${error instanceof Error ? error.message : String(error)}`;
                for (const entry of batch) {
                  if (PERMANENT_ERRORS.has(name)) fail(entry, message);
                  else retry.push({ entry, error: message });
                }
              }
            }),
          ),
        );
        if (retry.length === 0) break;
        if (attempt < policy.attempts) {
          log.warn('retrying notices SNS did not take', {
            count: retry.length,
            attempt,
            error: retry[0]?.error,
          });
        }
        pending = retry.map((r) => r.entry);
      }
      for (const { entry, error } of retry) fail(entry, error); // still failing after the last attempt
      return outcome;
    },
  };
}

/** Appends each notice as a JSON line to a file: the local stand-in for the topic. */
export function fileSink(path: string): NoticePublisher {
  return {
    async publish(notices) {
      if (notices.length > 0) {
        mkdirSync(dirname(path), { recursive: true });
        appendFileSync(path, notices.map((n) => `${JSON.stringify(n)}\n`).join(''));
      }
      return { published: notices.length, failed: [], requests: notices.length > 0 ? 1 : 0 };
    },
  };
}
