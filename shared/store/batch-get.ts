// BatchGetItem with its unprocessed keys (what DynamoDB leaves out under throttling or the 16 MB limit)
// asked for again, a bounded number of times with backoff: never a loop that spins while a table throttles.
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { attempts, RetriesExhaustedError, type RetryPolicy } from '../retry';

const BATCH_GET_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 25, maxDelayMs: 1000 };
/** BatchGetItem's limit of keys per request. */
export const MAX_BATCH_GET_KEYS = 100;

type KeysAndAttributes = {
  ConsistentRead?: boolean;
  ProjectionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
};

/** Every item found for the keys (at most 100), in no particular order. */
export async function batchGet(
  deps: Deps,
  keys: Record<string, unknown>[],
  options: KeysAndAttributes = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let pending = keys;
  for await (const _attempt of attempts(BATCH_GET_RETRY)) {
    if (pending.length === 0) return items;
    const result = await deps.db.send(
      new BatchGetCommand({ RequestItems: { [deps.tableName]: { Keys: pending, ...options } } }),
    );
    items.push(...(result.Responses?.[deps.tableName] ?? []));
    pending = result.UnprocessedKeys?.[deps.tableName]?.Keys ?? [];
    if (pending.length === 0) return items;
  }
  throw new RetriesExhaustedError(
    `BatchGetItem of ${keys.length} key(s): ${pending.length} still unprocessed`,
    BATCH_GET_RETRY.attempts,
  );
}
