// Reading a job's work from index partitions: all partitions in parallel, each page by page from its
// checkpoint cursor, each page's items handled with bounded concurrency before the next page is read
// (memory stays flat however large the cohort). A failing item is counted and listed; it does not
// stop the run, and stays due for the next one.
import { createLimiter } from '../concurrency';
import { type IndexQuery, readIndexPage } from '../store/index-reads';
import { readUnit } from './checkpoint';
import { LeaseLostError } from './lease';
import type { RunContext } from './run-context';

const MAX_LISTED_FAILURES = 20;

export interface PartitionRead {
  /** The checkpoint's name for this read. */
  unit: string;
  query: IndexQuery;
  /**
   * A dry run's view of an item read: the item as its earlier occurrences would have left it, or
   * undefined when the real run would no longer find it here. Items not in view are not examined.
   */
  view?: (item: Record<string, unknown>) => Record<string, unknown> | undefined;
  /** Reads what the page's items need, once per page (e.g. one BatchGetItem), before they are handled. */
  prefetch?: (items: Record<string, unknown>[]) => Promise<void>;
}

type Handle = (item: Record<string, unknown>) => Promise<'changed' | 'alreadyDone'>;

/** Handles every item the reads return; `handle` says whether the item changed. */
export async function forEachItem(ctx: RunContext, reads: PartitionRead[], handle: Handle): Promise<void> {
  const handleAll = itemHandler(ctx, handle);
  await Promise.all(
    reads.map(({ unit, query, view, prefetch }) =>
      readUnit(
        ctx.cursors,
        unit,
        (startKey) => readIndexPage(ctx.deps, query, startKey),
        async (page) => {
          const items = view ? page.map(view).filter((item) => item !== undefined) : page;
          await prefetch?.(items);
          await handleAll(items);
          ctx.onPage?.(ctx.counts);
        },
      ),
    ),
  );
}

/**
 * Handles items with bounded concurrency, each counted as examined; a failing one is counted and
 * listed, and does not stop the others.
 */
export function itemHandler(
  ctx: RunContext,
  handle: Handle,
): (items: Record<string, unknown>[]) => Promise<void> {
  const { deps, counts } = ctx;
  const limit = createLimiter(deps.writeConcurrency);
  const one = async (item: Record<string, unknown>) => {
    try {
      if ((await handle(item)) === 'alreadyDone') counts.alreadyDone++;
    } catch (error) {
      if (error instanceof LeaseLostError) throw error; // not this item's failure: the whole run stops
      counts.failed++;
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const merchantId = String(item.merchantId);
      if (counts.failures.length < MAX_LISTED_FAILURES) counts.failures.push({ merchantId, error: message });
      deps.log.error('change failed', { merchantId, asOf: ctx.asOf, error: message });
    }
  };
  return async (items) => {
    counts.examined += items.length;
    await Promise.all(items.map((item) => limit(() => one(item))));
  };
}
