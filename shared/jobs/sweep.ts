// The engine every promotion job shares: read what is due from the sparse index (all shards in
// parallel, page by page), plan each item with a pure function, and apply the change with one
// conditional write. A lost race re-plans from the item returned by the failed condition.
import type { JobContext, Promotion, PromotionChange } from '../promotion/lifecycle';
import { DUE_SHARDS, type DueAction, duePartition } from '../store/keys';
import { applyPromotionChange, fromItem } from '../store/promotions';
import { DUE_INDEX } from '../store/table';
import { formatInstant, type Instant } from '../time';
import { countChange, forEachItem, type RunContext } from './partitions';

export interface DueRead {
  action: DueAction;
  /** The latest due instant this run takes (inclusive). */
  upTo: Instant;
}

/** A promotion job: which due partitions it reads, and how it plans each promotion found there. */
export interface SweepSpec {
  reads(asOf: Instant): DueRead[];
  plan(promotion: Promotion, ctx: JobContext): PromotionChange | undefined;
}

const MAX_REPLANS = 4;

export async function sweep(ctx: RunContext, spec: SweepSpec): Promise<void> {
  const { deps, asOf } = ctx;
  const settle = async (item: Record<string, unknown>): Promise<'changed' | 'alreadyDone'> => {
    let promotion = fromItem<Promotion>(item);
    for (let attempt = 1; attempt <= MAX_REPLANS; attempt++) {
      const change = spec.plan(promotion, { asOf, processedAt: formatInstant(deps.clock()) });
      if (!change) return 'alreadyDone';
      if (!ctx.dryRun) {
        const result = await applyPromotionChange(deps, promotion, change);
        if (!result.applied) {
          if (!result.current) return 'alreadyDone';
          promotion = result.current; // lost a race: plan again from what is there now
          continue;
        }
      }
      countChange(ctx.counts, changeKinds(change));
      return 'changed';
    }
    throw new Error(`still changing after ${MAX_REPLANS} attempts`);
  };
  // Every shard of every due action is read in parallel; the limiter bounds the writes.
  const reads = spec.reads(asOf).flatMap(({ action, upTo }) =>
    Array.from({ length: DUE_SHARDS }, (_, shard) => {
      const partition = duePartition(action, shard);
      return {
        unit: partition,
        query: {
          IndexName: DUE_INDEX.indexName,
          KeyConditionExpression: '#pk = :pk AND #sk <= :upTo',
          ExpressionAttributeNames: { '#pk': DUE_INDEX.partitionKey, '#sk': DUE_INDEX.sortKey },
          ExpressionAttributeValues: { ':pk': partition, ':upTo': upTo },
        },
      };
    }),
  );
  await forEachItem(ctx, reads, settle);
}

function changeKinds(change: PromotionChange): string[] {
  const kinds: string[] = change.entries.map((entry) => entry.status);
  if (change.reminder) kinds.push('ENDING_SOON');
  return kinds;
}
