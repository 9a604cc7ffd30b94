// BatchGetItem with its unprocessed keys (what DynamoDB leaves out under throttling or the 16 MB limit)
// asked for again, a bounded number of times with backoff: never a loop that spins while a table throttles.
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { createLimiter } from '../concurrency';
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

/**
 * Every item found for the keys, in no particular order: one request per 100 keys, a few at a time
 * (`deps.writeConcurrency`), so callers never split keys themselves.
 */
export async function batchGet(
  deps: Deps,
  keys: readonly Record<string, unknown>[],
  options: KeysAndAttributes = {},
): Promise<Record<string, unknown>[]> {
  const limit = createLimiter(deps.writeConcurrency);
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < keys.length; i += MAX_BATCH_GET_KEYS)
    chunks.push(keys.slice(i, i + MAX_BATCH_GET_KEYS));
  return (await Promise.all(chunks.map((chunk) => limit(() => batchGetChunk(deps, chunk, options))))).flat();
}

/** One BatchGetItem of at most 100 keys, asking again for what it leaves unprocessed. */
async function batchGetChunk(
  deps: Deps,
  keys: Record<string, unknown>[],
  options: KeysAndAttributes,
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
