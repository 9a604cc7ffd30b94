// `merchants reindex`: the one-off migration that puts the profiles recorded before the onboarded index
// existed into it. A parallel Scan of the table for profiles without `onb_pk`, each given its key by a
// conditional update; profiles recorded since carry the key already. Run once after deploying the
// release that added the index, before the first activate run; a repeat finds nothing to do.
import { createLimiter } from '../../shared/concurrency';
import type { Deps } from '../../shared/deps';
import { merchantIdSchema, merchantPk } from '../../shared/store/keys';
import {
  addOnboardedKey,
  type ScanSegment,
  scanProfilesWithoutOnboardedKey,
} from '../../shared/store/merchants';

/** Segments of the parallel Scan: enough to keep a table's partitions busy, few enough for a laptop. */
export const REINDEX_SEGMENTS = 8;
const MAX_LISTED_FAILURES = 20;

export interface ReindexSummary {
  /** Profiles without the onboarded key that the Scan found. */
  examined: number;
  /** Profiles given the key (with --dry-run: that would be given it). */
  reindexed: number;
  /** Profiles that had the key by the time of their write (recorded again meanwhile) or were gone. */
  alreadyDone: number;
  failed: number;
  failures: { pk: string; error: string }[];
  dryRun: boolean;
}

export async function reindexMerchants(
  deps: Deps,
  options: { dryRun: boolean; segments?: number; onPage?: (summary: ReindexSummary) => void },
): Promise<ReindexSummary> {
  const summary: ReindexSummary = {
    examined: 0,
    reindexed: 0,
    alreadyDone: 0,
    failed: 0,
    failures: [],
    dryRun: options.dryRun,
  };
  const fail = (pk: string, error: unknown) => {
    summary.failed++;
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (summary.failures.length < MAX_LISTED_FAILURES) summary.failures.push({ pk, error: message });
  };
  const limit = createLimiter(deps.writeConcurrency);
  const reindexOne = async (item: Record<string, unknown>) => {
    const pk = String(item.pk);
    const id = merchantIdSchema.safeParse(item.merchantId);
    if (!id.success || pk !== merchantPk(id.data)) {
      fail(pk, `profile's merchantId ${JSON.stringify(item.merchantId)} does not match its key`);
      return;
    }
    if (options.dryRun) {
      summary.reindexed++;
      return;
    }
    try {
      if (await addOnboardedKey(deps, id.data)) summary.reindexed++;
      else summary.alreadyDone++;
    } catch (error) {
      fail(pk, error);
    }
  };
  const total = options.segments ?? REINDEX_SEGMENTS;
  const segment = async (scan: ScanSegment) => {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await scanProfilesWithoutOnboardedKey(deps, scan, start);
      summary.examined += page.items.length;
      await Promise.all(page.items.map((item) => limit(() => reindexOne(item))));
      options.onPage?.(summary);
      start = page.next;
    } while (start);
  };
  await Promise.all(Array.from({ length: total }, (_, n) => segment({ segment: n, total })));
  return summary;
}
