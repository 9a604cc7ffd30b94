// Reading a job's work from index partitions: all partitions in parallel, each page by page from its
// checkpoint cursor, each page's items handled with bounded concurrency before the next page is read
// (memory stays flat however large the cohort). A failing item is counted and listed; it does not
// stop the run, and stays due for the next one.
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { createLimiter } from '../concurrency';
import type { Deps } from '../deps';
import type { Instant } from '../time';
import { LeaseLostError } from './lease';
import { type RunProgress, readUnit } from './progress';
import type { Projection } from './projection';

export interface SweepCounts {
  examined: number;
  changed: number;
  alreadyDone: number;
  failed: number;
  /** Changes by kind: the statuses entered (ACTIVE, EXPIRED, …), ENDING_SOON reminders, notices, flags. */
  transitions: Record<string, number>;
  failures: { merchantId: string; error: string }[];
}

export function emptyCounts(): SweepCounts {
  return { examined: 0, changed: 0, alreadyDone: 0, failed: 0, transitions: {}, failures: [] };
}

export function countChange(counts: SweepCounts, kinds: string[]): void {
  counts.changed++;
  for (const kind of kinds) counts.transitions[kind] = (counts.transitions[kind] ?? 0) + 1;
}

/** Everything a run carries while it works. */
export interface RunContext {
  deps: Deps;
  asOf: Instant;
  dryRun: boolean;
  counts: SweepCounts;
  progress: RunProgress;
  /** In a dry run, what its earlier occurrences would have written (one per runJob call). */
  projection?: Projection;
  onProgress?: (counts: SweepCounts) => void;
}

const MAX_LISTED_FAILURES = 20;

export interface PartitionRead {
  /** The checkpoint's name for this read. */
  unit: string;
  query: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;
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
        ctx.progress,
        unit,
        async (startKey) => {
          const page = await deps.db.send(
            new QueryCommand({
              TableName: deps.tableName,
              ...query,
              Limit: deps.pageSize,
              ExclusiveStartKey: startKey,
            }),
          );
          return { items: page.Items ?? [], next: page.LastEvaluatedKey };
        },
        async (page) => {
          const items = view ? page.map(view).filter((item) => item !== undefined) : page;
          counts.examined += items.length;
          await Promise.all(items.map((item) => limit(() => one(item))));
          ctx.onProgress?.(counts);
        },
      ),
    ),
  );
}
