// "Was anything missed?": for each job, the scheduled occurrences of the last days without a complete
// run, and what is overdue in the table (due before the instant asked about, still waiting).
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { announcementInstant } from '../policies/policy';
import { endOfDayCutoff } from '../promotion/lifecycle';
import { DUE_SHARDS, type DueQueue, duePartition, jobPk, jobRunSk } from '../store/keys';
import { listPolicies } from '../store/policies';
import { DUE_INDEX } from '../store/table';
import { addDays, dateOf, type Instant, parseInstant } from '../time';
import { JOB_NAMES, type JobName, occurrenceOn } from './input';

export interface JobStatus {
  /** Occurrences in the window with no run recorded. */
  missing: Instant[];
  /** Occurrences whose last run stopped early or had failed items. */
  incomplete: Instant[];
  /** Items or policies that should have been handled by `asOf` and are still waiting. */
  overdue: number;
}

export interface SystemStatus {
  asOf: Instant;
  days: number;
  jobs: Record<JobName, JobStatus>;
  ok: boolean;
}

async function countDue(deps: Deps, queue: DueQueue, upTo: Instant): Promise<number> {
  const counts = await Promise.all(
    Array.from({ length: DUE_SHARDS }, async (_, shard) => {
      let total = 0;
      const pages = paginateQuery(
        { client: deps.db },
        {
          TableName: deps.tableName,
          IndexName: DUE_INDEX.indexName,
          KeyConditionExpression: '#pk = :pk AND #sk <= :upTo',
          ExpressionAttributeNames: { '#pk': DUE_INDEX.partitionKey, '#sk': DUE_INDEX.sortKey },
          ExpressionAttributeValues: { ':pk': duePartition(queue, shard), ':upTo': upTo },
          Select: 'COUNT',
        },
      );
      for await (const page of pages) total += page.Count ?? 0;
      return total;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

async function runsOf(deps: Deps, job: JobName, from: Instant, to: Instant) {
  const runs = new Map<string, { complete?: boolean; failed?: number }>();
  const pages = paginateQuery(
    { client: deps.db },
    {
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': jobPk(job), ':from': jobRunSk(from), ':to': jobRunSk(to) },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) runs.set(String(item.asOf), item.report ?? {});
  }
  return runs;
}

/** The status as of an instant, over the scheduled occurrences of the `days` days up to it. */
export async function systemStatus(deps: Deps, asOf: Instant, days: number): Promise<SystemStatus> {
  const today = dateOf(parseInstant(asOf));
  const jobs = {} as Record<JobName, JobStatus>;
  for (const job of JOB_NAMES) {
    const occurrences = Array.from({ length: days }, (_, i) =>
      occurrenceOn(job, addDays(today, i - days + 1)),
    ).filter((at) => at <= asOf);
    const runs =
      occurrences.length > 0
        ? await runsOf(deps, job, occurrences[0] as string, occurrences.at(-1) as string)
        : new Map();
    jobs[job] = {
      missing: occurrences.filter((at) => !runs.has(at)),
      incomplete: occurrences.filter((at) => {
        const report = runs.get(at);
        return report !== undefined && (report.complete === false || (report.failed ?? 0) > 0);
      }),
      overdue: 0,
    };
  }
  // What the last run of each job before `asOf` should have cleared.
  jobs.activate.overdue = await countDue(deps, 'ACTIVATE', asOf);
  const lastExpire = occurrenceOn(
    'expire',
    asOf >= occurrenceOn('expire', today) ? today : addDays(today, -1),
  );
  jobs.expire.overdue = await countDue(deps, 'EXPIRE', endOfDayCutoff(lastExpire));
  jobs['cart-policies'].overdue = (await listPolicies(deps)).filter(
    (p) =>
      p.status === 'SCHEDULED' && (p.effectiveAt <= asOf || (!p.announced && announcementInstant(p) <= asOf)),
  ).length;
  const ok = Object.values(jobs).every(
    (j) => j.missing.length === 0 && j.incomplete.length === 0 && j.overdue === 0,
  );
  return { asOf, days, jobs, ok };
}
