// `merchants list`: merchants and their enrolments, read through an index, never a Scan. With
// --due-before, the due index (whole enrolments waiting for a step due by then); otherwise the onboarded
// index (every merchant profile), a page at a time, with each page's enrolments read by BatchGet.
// Shard by shard, page by page: a --limit stops the reading as soon as it has enough lines.
import type { Deps } from '../shared/deps';
import type { PromotionStatus } from '../shared/promotion/lifecycle';
import { batchGet } from '../shared/store/batch-get';
import {
  dueQuery,
  type IndexQuery,
  onboardedPartitions,
  onboardedQuery,
  type PageStart,
  readIndexPage,
} from '../shared/store/index-reads';
import { DUE_SHARDS, duePartition, enrolmentKey } from '../shared/store/keys';
import { readOnboardedEntry } from '../shared/store/merchants';
import { readPrograms } from '../shared/store/programs';
import { readPromotion } from '../shared/store/promotions';
import type { Instant } from '../shared/time';

/** One line of `merchants list`: one merchant's enrolment in one program. */
export interface MerchantLine {
  merchantId: string;
  onboardedOn: string;
  programId: string;
  status: PromotionStatus;
  startsAt: Instant;
  endsBefore: Instant;
  /** When its job next acts on it (the due index key), null when it waits for nothing. */
  nextDueAt: Instant | null;
}

export interface MerchantListFilter {
  status?: PromotionStatus;
  programId?: string;
  /** Only enrolments waiting for a step due at or before this instant (the due index). */
  dueBefore?: Instant;
  /** At most this many lines; the reading stops once it has them. */
  limit?: number;
}

/** The lines of one page of an index, in the order they are printed. */
type PageLines = (deps: Deps, items: Record<string, unknown>[]) => Promise<MerchantLine[]>;

/**
 * The lines the filter selects, in index order (shard after shard, each by its sort key). Each index
 * page asks for no more items than lines are still missing (capped at the page size), and no page is
 * read once the limit is reached.
 */
export async function listMerchants(deps: Deps, filter: MerchantListFilter): Promise<MerchantLine[]> {
  const keep = (line: MerchantLine) =>
    (filter.status === undefined || line.status === filter.status) &&
    (filter.programId === undefined || line.programId === filter.programId);
  const { queries, linesOf } =
    filter.dueBefore === undefined
      ? await throughOnboarded(deps, filter)
      : throughDue(filter.dueBefore, filter.status);
  const lines: MerchantLine[] = [];
  const limit = filter.limit ?? Number.POSITIVE_INFINITY;
  for (const query of queries) {
    let start: PageStart | undefined;
    do {
      if (lines.length >= limit) return lines;
      const pageSize = Math.min(deps.pageSize, limit - lines.length);
      const page = await readIndexPage({ ...deps, pageSize }, query, start);
      for (const line of await linesOf(deps, page.items)) {
        if (keep(line) && lines.length < limit) lines.push(line);
      }
      start = page.next;
    } while (start);
  }
  return lines;
}

/** Which due partitions can hold enrolments of this status: SCHEDULED wait to activate, ACTIVE to expire. */
function duePartitionsFor(status: PromotionStatus | undefined): string[] {
  const queues =
    status === undefined
      ? (['ACTIVATE', 'EXPIRE'] as const)
      : status === 'SCHEDULED'
        ? (['ACTIVATE'] as const)
        : status === 'ACTIVE'
          ? (['EXPIRE'] as const)
          : ([] as const); // over, revoked or ineligible: waiting for nothing
  return queues.flatMap((queue) =>
    Array.from({ length: DUE_SHARDS }, (_, shard) => duePartition(queue, shard)),
  );
}

/** The due index holds whole enrolments (projection ALL): each item is a line. */
function throughDue(
  dueBefore: Instant,
  status: PromotionStatus | undefined,
): { queries: IndexQuery[]; linesOf: PageLines } {
  return {
    queries: duePartitionsFor(status).map((partition) => dueQuery(partition, dueBefore)),
    linesOf: async (_deps, items) => items.map((item) => lineOf(item)),
  };
}

/** The onboarded index gives the merchants; their enrolments in the programs asked for come by BatchGet. */
async function throughOnboarded(
  deps: Deps,
  filter: MerchantListFilter,
): Promise<{ queries: IndexQuery[]; linesOf: PageLines }> {
  const programIds =
    filter.programId === undefined
      ? (await readPrograms(deps)).map(({ program }) => program.programId)
      : [filter.programId];
  return {
    queries: onboardedPartitions().map((partition) => onboardedQuery(partition, { from: '0000-01-01' })),
    linesOf: async (deps, items) => {
      const merchants = items.map(readOnboardedEntry);
      const keys = merchants.flatMap(({ merchantId }) =>
        programIds.map((programId) => enrolmentKey(merchantId, programId)),
      );
      const byKey = new Map(
        (await batchGet(deps, keys, { ConsistentRead: true })).map((item) => [
          `${String(item.pk)}|${String(item.sk)}`,
          item,
        ]),
      );
      // BatchGet answers in no order: the page's order, then the programs' order.
      return keys.flatMap((key) => {
        const item = byKey.get(`${key.pk}|${key.sk}`);
        return item ? [lineOf(item)] : [];
      });
    },
  };
}

function lineOf(item: Record<string, unknown>): MerchantLine {
  const enrolment = readPromotion(item);
  return {
    merchantId: enrolment.merchantId,
    onboardedOn: enrolment.onboardedOn,
    programId: enrolment.programId,
    status: enrolment.status,
    startsAt: enrolment.startsAt,
    endsBefore: enrolment.endsBefore,
    nextDueAt: typeof item.due_sk === 'string' ? item.due_sk : null,
  };
}
