// The engine every promotion job shares: read what is due from the sparse index (all shards in
// parallel, page by page), plan each item with a pure function, and apply the change with one
// conditional write. A lost race re-plans from the item returned by the failed condition.
import {
  afterChange,
  type JobContext,
  type NextAction,
  type Promotion,
  type PromotionChange,
} from '../promotion/lifecycle';
import { dueQuery } from '../store/index-reads';
import { dueKeyOf, duePartitionsOf, enrolmentKey, readItemKey } from '../store/keys';
import { applyPromotionChange, promotionItem, readPromotion } from '../store/promotions';
import { formatInstant, type Instant } from '../time';
import { forEachItem, itemHandler, type PartitionRead } from './partitions';
import { countChange, type RunContext } from './run-context';

/** A promotion job: the steps it takes, how far it reads them, and how it plans each promotion found. */
export interface SweepSpec {
  /** The steps it takes: it reads the promotions waiting for them (the due index partitions they are filed in). */
  takes: readonly NextAction[];
  /** The latest due instant a run as of `asOf` takes (inclusive). */
  upTo(asOf: Instant): Instant;
  plan(promotion: Promotion, ctx: JobContext): PromotionChange | undefined;
}

const MAX_REPLANS = 4;

export async function sweep(ctx: RunContext, spec: SweepSpec): Promise<void> {
  const { deps, asOf, projection } = ctx;
  const upTo = spec.upTo(asOf);
  const partitions = duePartitionsOf(spec.takes);
  const settle = async (item: Record<string, unknown>): Promise<'changed' | 'alreadyDone'> => {
    let promotion = readPromotion(item);
    for (let attempt = 1; attempt <= MAX_REPLANS; attempt++) {
      const change = spec.plan(promotion, { asOf, processedAt: formatInstant(deps.clock()) });
      if (!change) return 'alreadyDone';
      if (ctx.dryRun) {
        checkProjectable(item, promotion, change, partitions);
        projection?.set(
          enrolmentKey(promotion.merchantId, promotion.programId),
          promotionItem(afterChange(promotion, change), change.next),
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
  // Every partition is read in parallel; the limiter bounds the writes.
  const reads: PartitionRead[] = partitions.map((partition) => ({
    unit: partition,
    query: dueQuery(partition, upTo),
    // A dry run plans from the projected item, and skips one whose projected due key the real
    // run's query would no longer match (an earlier occurrence moved or removed it).
    view: projection
      ? (item: Record<string, unknown>) => {
          const projected = projection.get<Record<string, unknown>>(readItemKey(item));
          if (!projected) return item;
          return projected.due_pk === partition && String(projected.due_sk) <= upTo ? projected : undefined;
        }
      : undefined,
  }));
  await forEachItem(ctx, reads, settle);
  if (projection && !ctx.cursors.stopped) {
    // What the dry run created (late enrolments) is in no index: take what is due of it here.
    const due = projection
      .created()
      .filter((item) => partitions.includes(String(item.due_pk)) && String(item.due_sk) <= upTo);
    await itemHandler(ctx, settle)(due);
  }
}

/**
 * A dry run sees only what the index still returns, so it can project a change only if the real run
 * would not find the item anywhere the index does not already show it: the change must move the due
 * key out of this job's partitions, or later within the same one. Every change the lifecycle plans
 * does (ACTIVATE → EXPIRE, reminder → end of window, or no key); this keeps it that way.
 */
function checkProjectable(
  item: Record<string, unknown>,
  promotion: Promotion,
  change: PromotionChange,
  partitions: string[],
): void {
  const due = dueKeyOf(promotion.merchantId, change.next);
  if (!due) return;
  const later = due.due_pk === item.due_pk && due.due_sk >= String(item.due_sk);
  if (partitions.includes(due.due_pk) && !later) {
    throw new Error(`dry run cannot project a due key moved back to ${due.due_pk} ${due.due_sk}`);
  }
}

function changeKinds(change: PromotionChange): string[] {
  const kinds: string[] = change.entries.map((entry) => entry.status);
  if (change.reminder) kinds.push('ENDING_SOON');
  return kinds;
}
