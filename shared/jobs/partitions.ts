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
}

/** Handles every item the reads return; `handle` says whether the item changed. */
export async function forEachItem(
  ctx: RunContext,
  reads: PartitionRead[],
  handle: (item: Record<string, unknown>) => Promise<'changed' | 'alreadyDone'>,
): Promise<void> {
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
  await Promise.all(
    reads.map(({ unit, query, view }) =>
      readUnit(
        ctx.cursors,
        unit,
        (startKey) => readIndexPage(deps, query, startKey),
        async (page) => {
          const items = view ? page.map(view).filter((item) => item !== undefined) : page;
          counts.examined += items.length;
          await Promise.all(items.map((item) => limit(() => one(item))));
          ctx.onPage?.(counts);
        },
      ),
    ),
  );
}
