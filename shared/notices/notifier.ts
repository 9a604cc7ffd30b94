// The notifier: a batch of the table's stream records in, the notices they cause published, and the
// records to be redelivered reported back — the same code behind the Lambda's event source mapping
// and the local stream reader.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import type { Log } from '../deps';
import { readNotifyingItem } from '../store/items';
import { type Notice, noticesFor, programIdOf } from './notice';
import type { NoticePublisher } from './publisher';

/** The part of a DynamoDB stream record the notifier reads (Lambda's and GetRecords' shapes agree). */
export const streamRecordSchema = z.object({
  eventName: z.enum(['INSERT', 'MODIFY', 'REMOVE']),
  dynamodb: z.object({
    SequenceNumber: z.string().min(1),
    NewImage: z.record(z.string(), z.unknown()).optional(),
    OldImage: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type StreamRecord = z.infer<typeof streamRecordSchema>;
export const streamEventSchema = z.object({ Records: z.array(streamRecordSchema) });

export interface NotifierResult {
  /** For a stream, the first record to redeliver; everything after it comes again too. */
  batchItemFailures: { itemIdentifier: string }[];
  notices: number;
  published: number;
  failed: number;
  requests: number;
  byType: Record<string, number>;
  /** Promotion notices published, by program and type (cart-policy notices have no program). */
  byProgram: Record<string, Record<string, number>>;
}

/** An image of an item merchants are told of, checked by its schema; undefined for any other item. */
const image = (value: Record<string, unknown> | undefined) =>
  value ? readNotifyingItem(unmarshall(value as Record<string, AttributeValue>)) : undefined;

/** The notices one stream record carries (a malformed image of an item merchants are told of throws). */
export function noticesOfRecord(record: StreamRecord): Notice[] {
  return noticesFor({ oldImage: image(record.dynamodb.OldImage), newImage: image(record.dynamodb.NewImage) });
}

export async function notifyFromStream(
  records: StreamRecord[],
  publisher: NoticePublisher,
  log: Log,
): Promise<NotifierResult> {
  const notices: { notice: Notice; index: number }[] = [];
  let firstFailure: number | undefined;
  for (const [index, record] of records.entries()) {
    try {
      for (const notice of noticesOfRecord(record)) notices.push({ notice, index });
    } catch (error) {
      // A record we cannot read is a bug to look at, not a notice to drop: fail it, and after the
      // bounded retries it lands in the on-failure destination.
      log.error('cannot derive notices from stream record', {
        sequenceNumber: record.dynamodb.SequenceNumber,
        error: error instanceof Error ? error.message : String(error),
      });
      firstFailure = index;
      break;
    }
  }
  const outcome = await publisher.publish(notices.map((n) => n.notice));
  const failedIds = new Set(outcome.failed.map((f) => f.notice.eventId));
  for (const { notice, index } of notices) {
    if (failedIds.has(notice.eventId) && (firstFailure === undefined || index < firstFailure))
      firstFailure = index;
  }
  for (const failure of outcome.failed.slice(0, 5)) {
    log.error('notice not published', {
      eventId: failure.notice.eventId,
      type: failure.notice.type,
      error: failure.error,
    });
  }
  const byType: Record<string, number> = {};
  const byProgram: Record<string, Record<string, number>> = {};
  for (const { notice } of notices) {
    if (failedIds.has(notice.eventId)) continue;
    byType[notice.type] = (byType[notice.type] ?? 0) + 1;
    const programId = programIdOf(notice);
    if (programId === undefined) continue;
    byProgram[programId] ??= {};
    const ofProgram = byProgram[programId];
    ofProgram[notice.type] = (ofProgram[notice.type] ?? 0) + 1;
  }
  const failedRecord = firstFailure === undefined ? undefined : records[firstFailure];
  return {
    batchItemFailures: failedRecord ? [{ itemIdentifier: failedRecord.dynamodb.SequenceNumber }] : [],
    notices: notices.length,
    published: outcome.published,
    failed: outcome.failed.length,
    requests: outcome.requests,
    byType,
    byProgram,
  };
}
