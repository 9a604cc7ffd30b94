// The engine every promotion job shares: read what is due from the sparse index (all shards in
// parallel, page by page), plan each item with a pure function, and apply the change with one
// conditional write. A lost race re-plans from the item returned by the failed condition.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { createLimiter } from '../concurrency';
import type { Deps } from '../deps';
import type { JobContext, Promotion, PromotionChange } from '../promotion/lifecycle';
import { DUE_SHARDS, type DueAction, duePartition } from '../store/keys';
import { applyPromotionChange, fromItem } from '../store/promotions';
import { DUE_INDEX } from '../store/table';
import { formatInstant, type Instant } from '../time';

export interface DueRead {
  action: DueAction;
  /** The latest due instant this run takes (inclusive). */
  upTo: Instant;
}

export interface SweepSpec {
  reads(asOf: Instant): DueRead[];
  plan(promotion: Promotion, ctx: JobContext): PromotionChange | undefined;
}

export interface SweepCounts {
  examined: number;
  changed: number;
  alreadyDone: number;
  failed: number;
  /** Changes by kind: the statuses entered (ACTIVE, EXPIRED, …) and ENDING_SOON reminders. */
  transitions: Record<string, number>;
  failures: { merchantId: string; error: string }[];
}

const MAX_LISTED_FAILURES = 20;
const MAX_REPLANS = 4;

export function emptyCounts(): SweepCounts {
  return { examined: 0, changed: 0, alreadyDone: 0, failed: 0, transitions: {}, failures: [] };
}

export async function sweep(
  deps: Deps,
  spec: SweepSpec,
  asOf: Instant,
  options: { dryRun: boolean; onProgress?: (counts: SweepCounts) => void },
): Promise<SweepCounts> {
  const counts = emptyCounts();
  const limit = createLimiter(deps.writeConcurrency);

  const settle = async (first: Promotion): Promise<void> => {
    let promotion = first;
    for (let attempt = 1; attempt <= MAX_REPLANS; attempt++) {
      const change = spec.plan(promotion, { asOf, processedAt: formatInstant(deps.clock()) });
      if (!change) {
        counts.alreadyDone++;
        return;
      }
      if (!options.dryRun) {
        const result = await applyPromotionChange(deps, promotion, change);
        if (!result.applied) {
          if (!result.current) {
            counts.alreadyDone++;
            return;
          }
          promotion = result.current;
          continue;
        }
      }
      counts.changed++;
      for (const kind of changeKinds(change)) counts.transitions[kind] = (counts.transitions[kind] ?? 0) + 1;
      return;
    }
    throw new Error(`still changing after ${MAX_REPLANS} attempts`);
  };

  const readPartition = async (partition: string, upTo: Instant) => {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await deps.db.send(
        new QueryCommand({
          TableName: deps.tableName,
          IndexName: DUE_INDEX.indexName,
          KeyConditionExpression: '#pk = :pk AND #sk <= :upTo',
          ExpressionAttributeNames: { '#pk': DUE_INDEX.partitionKey, '#sk': DUE_INDEX.sortKey },
          ExpressionAttributeValues: { ':pk': partition, ':upTo': upTo },
          ExclusiveStartKey: startKey,
        }),
      );
      const items = page.Items ?? [];
      counts.examined += items.length;
      await Promise.all(
        items.map((item) =>
          limit(async () => {
            const promotion = fromItem<Promotion>(item);
            try {
              await settle(promotion);
            } catch (error) {
              counts.failed++;
              const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
              if (counts.failures.length < MAX_LISTED_FAILURES) {
                counts.failures.push({ merchantId: promotion.merchantId, error: message });
              }
              deps.log.error('change failed', { merchantId: promotion.merchantId, asOf, error: message });
            }
          }),
        ),
      );
      options.onProgress?.(counts);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  };

  // Every shard of every due action is read in parallel; the limiter bounds the writes.
  await Promise.all(
    spec
      .reads(asOf)
      .flatMap(({ action, upTo }) =>
        Array.from({ length: DUE_SHARDS }, (_, shard) => readPartition(duePartition(action, shard), upTo)),
      ),
  );
  return counts;
}

function changeKinds(change: PromotionChange): string[] {
  const kinds: string[] = change.entries.map((entry) => entry.status);
  if (change.reminder) kinds.push('ENDING_SOON');
  return kinds;
}
