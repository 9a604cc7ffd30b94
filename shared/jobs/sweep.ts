// The engine every promotion job shares: read what is due from the sparse index (all shards in
// parallel, page by page), plan each item with a pure function, and apply the change with one
// conditional write. A lost race re-plans from the item returned by the failed condition.
import { afterChange, type JobContext, type Promotion, type PromotionChange } from '../promotion/lifecycle';
import { DUE_SHARDS, type DueAction, duePartition } from '../store/keys';
import { applyPromotionChange, fromItem, promotionItem } from '../store/promotions';
import { DUE_INDEX } from '../store/table';
import { formatInstant, type Instant } from '../time';
import { forEachItem, type PartitionRead } from './partitions';
import type { ItemKey } from './projection';
import { countChange, type RunContext } from './run-context';

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
  const { deps, asOf, projection } = ctx;
  const reads = spec.reads(asOf);
  const settle = async (item: Record<string, unknown>): Promise<'changed' | 'alreadyDone'> => {
    let promotion = fromItem<Promotion>(item);
    for (let attempt = 1; attempt <= MAX_REPLANS; attempt++) {
      const change = spec.plan(promotion, { asOf, processedAt: formatInstant(deps.clock()) });
      if (!change) return 'alreadyDone';
      if (ctx.dryRun) {
        checkProjectable(item, change, reads);
        projection?.set(
          item as unknown as ItemKey,
          promotionItem(afterChange(promotion, change), change.due),
        );
      } else {
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
  const partitions: PartitionRead[] = reads.flatMap(({ action, upTo }) =>
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
        // A dry run plans from the projected item, and skips one whose projected due key the real
        // run's query would no longer match (an earlier occurrence moved or removed it).
        view: projection
          ? (item: Record<string, unknown>) => {
              const projected = projection.get<Record<string, unknown>>(item as unknown as ItemKey);
              if (!projected) return item;
              return projected.due_pk === partition && String(projected.due_sk) <= upTo
                ? projected
                : undefined;
            }
          : undefined,
      };
    }),
  );
  await forEachItem(ctx, partitions, settle);
}

/**
 * A dry run sees only what the index still returns, so it can project a change only if the real run
 * would not find the item anywhere the index does not already show it: the change must move the due
 * key out of this job's partitions, or later within the same one. Every change the lifecycle plans
 * does (ACTIVATE → EXPIRE, reminder → end of window, or no key); this keeps it that way.
 */
function checkProjectable(item: Record<string, unknown>, change: PromotionChange, reads: DueRead[]): void {
  if (!change.due) return;
  const readsIt = reads.some(({ action }) => change.due?.due_pk.startsWith(`${action}#`));
  const later = change.due.due_pk === item.due_pk && change.due.due_sk >= String(item.due_sk);
  if (readsIt && !later) {
    throw new Error(
      `dry run cannot project a due key moved back to ${change.due.due_pk} ${change.due.due_sk}`,
    );
  }
}

function changeKinds(change: PromotionChange): string[] {
  const kinds: string[] = change.entries.map((entry) => entry.status);
  if (change.reminder) kinds.push('ENDING_SOON');
  return kinds;
}
