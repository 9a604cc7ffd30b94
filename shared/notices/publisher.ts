// Where notices go: an SNS topic (PublishBatch, ≤ 10 entries and ≤ 256 KiB a request, failed
// entries retried), or a local sink file that stands in for the topic on a workstation.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  PublishBatchCommand,
  type PublishBatchRequestEntry,
  type SNSClient,
  SNSServiceException,
} from '@aws-sdk/client-sns';
import { createLimiter } from '../concurrency';
import type { Log } from '../deps';
import type { Notice } from './notice';

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

export function snsEntry(notice: Notice): PublishBatchRequestEntry {
  return {
    Id: notice.eventId,
    Message: JSON.stringify(notice),
    MessageAttributes: {
      type: { DataType: 'String', StringValue: notice.type },
      merchantId: { DataType: 'String', StringValue: notice.merchantId },
    },
  };
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

export function snsPublisher(
  sns: SNSClient,
  topicArn: string,
  log: Log,
  options: SnsPublisherOptions = {},
): NoticePublisher {
  const attempts = options.attempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const limit = createLimiter(options.concurrency ?? 8);

  return {
    async publish(notices) {
      const byId = new Map(notices.map((n) => [n.eventId, n]));
      const outcome: PublishOutcome = { published: 0, failed: [], requests: 0 };
      // A notice listed twice in one call (a redelivered record) is published once.
      let pending = [...byId.values()].map(snsEntry);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const retry: { entry: PublishBatchRequestEntry; error: string }[] = [];
        await Promise.all(
          batchesOf(pending).map((batch) =>
            limit(async () => {
              outcome.requests++;
              try {
                const result = await sns.send(
                  new PublishBatchCommand({ TopicArn: topicArn, PublishBatchRequestEntries: batch }),
                );
                outcome.published += result.Successful?.length ?? 0;
                for (const failed of result.Failed ?? []) {
                  const entry = batch.find((e) => e.Id === failed.Id);
                  if (!entry) continue;
                  const error = `${failed.Code}: ${failed.Message ?? ''}`.trim();
                  if (failed.SenderFault)
                    outcome.failed.push({ notice: byId.get(entry.Id as string) as Notice, error });
                  else retry.push({ entry, error });
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
                  if (PERMANENT_ERRORS.has(name))
                    outcome.failed.push({ notice: byId.get(entry.Id as string) as Notice, error: message });
                  else retry.push({ entry, error: message });
                }
              }
            }),
          ),
        );
        if (retry.length > 0 && attempt >= attempts) {
          for (const { entry, error } of retry)
            outcome.failed.push({ notice: byId.get(entry.Id as string) as Notice, error });
          break;
        }
        if (retry.length > 0) {
          log.warn('retrying notices SNS did not take', {
            count: retry.length,
            attempt,
            error: retry[0]?.error,
          });
          // Full jitter backoff: throttling clears faster when retries do not arrive together.
          await new Promise((r) => setTimeout(r, Math.random() * baseDelayMs * 2 ** attempt));
        }
        pending = retry.map((r) => r.entry);
      }
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
