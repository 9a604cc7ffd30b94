// The job-run items `JOB#<job> / RUN#<asOf>`: the latest report of each occurrence of a job, and while
// the occurrence is unfinished the checkpoint it resumes from and the token a continuation names it by.
// Beside them, the CLI's backfill progress items `JOB#<job> / BACKFILL#<from>..<to>`.
import { randomUUID } from 'node:crypto';
import { GetCommand, paginateQuery, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import type { CalendarDate, Instant } from '../time';
import { deleteIf, type Update, updateExpression } from './conditional-write';
import { backfillSk, JOB_BACKFILL_TYPE, JOB_RUN_TYPE, jobPk, jobRunSk } from './keys';

export type { BackfillItem, Checkpoint, Cursor, JobRunItem, StoredReport } from './items';

import {
  type BackfillItem,
  backfillItemSchema,
  type Checkpoint,
  type JobRunItem,
  jobRunItemSchema,
  parseItem,
  type StoredReport,
} from './items';

export interface RunRecord {
  job: string;
  asOf: Instant;
  report: StoredReport;
  /** Present when the run stopped early: it is kept, with a token, until the occurrence finishes. */
  checkpoint?: Checkpoint;
}

/**
 * Records the latest report of an occurrence; `attempts` counts invocations. While it is unfinished
 * the item keeps its checkpoint and one token (the same until it finishes, so a retried continuation
 * still finds it), which this returns; a finished run removes both.
 */
export async function recordRun(deps: Deps, run: RunRecord): Promise<string | undefined> {
  const { job, asOf, report, checkpoint } = run;
  const always = { set: { type: JOB_RUN_TYPE, job, asOf, report }, add: { attempts: 1 } };
  const update: Update = checkpoint
    ? { ...always, set: { ...always.set, checkpoint }, setIfMissing: { resumeToken: randomUUID() } }
    : { ...always, remove: ['checkpoint', 'resumeToken'] };
  const { Attributes } = await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: { pk: jobPk(job), sk: jobRunSk(asOf) },
      ...updateExpression(update),
      ReturnValues: checkpoint ? 'UPDATED_NEW' : 'NONE',
    }),
  );
  return checkpoint ? String(Attributes?.resumeToken) : undefined;
}

/** The job-run item of an occurrence, read consistently, or undefined when it never ran. */
export async function readRun(deps: Deps, job: string, asOf: Instant): Promise<JobRunItem | undefined> {
  const { Item } = await deps.db.send(
    new GetCommand({
      TableName: deps.tableName,
      Key: { pk: jobPk(job), sk: jobRunSk(asOf) },
      ConsistentRead: true,
    }),
  );
  return Item ? parseItem(jobRunItemSchema, Item) : undefined;
}

/** The job-run items of the occurrences from `from` to `to` (inclusive), in order, read consistently. */
export async function listRuns(deps: Deps, job: string, from: Instant, to: Instant): Promise<JobRunItem[]> {
  const runs: JobRunItem[] = [];
  for await (const run of runsBetween(deps, job, jobRunSk(from), jobRunSk(to))) runs.push(run);
  return runs;
}

/** After every `RUN#<asOf>` key: asOf instants are digits, `T`, `:`, `.`, `+`, `-`, `Z`. */
const AFTER_EVERY_RUN = jobRunSk('\uffff');

/**
 * The job's job-run items in order of asOf, from `from` and up to `to` where given (inclusive), page by
 * page: one Query of the job's partition, never a Scan.
 */
export async function* iterateRuns(
  deps: Deps,
  job: string,
  range: { from?: Instant; to?: Instant } = {},
): AsyncGenerator<JobRunItem> {
  const from = range.from === undefined ? jobRunSk('') : jobRunSk(range.from);
  const to = range.to === undefined ? AFTER_EVERY_RUN : jobRunSk(range.to);
  if (to < from) return;
  yield* runsBetween(deps, job, from, to);
}

async function* runsBetween(
  deps: Deps,
  job: string,
  fromSk: string,
  toSk: string,
): AsyncGenerator<JobRunItem> {
  const pages = paginateQuery(
    { client: deps.db },
    {
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': jobPk(job), ':from': fromSk, ':to': toSk },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) {
    for (const item of page.Items ?? []) yield parseItem(jobRunItemSchema, item);
  }
}

/** The job's latest recorded run (by its asOf), if any: one Query, newest first. */
export async function latestRun(deps: Deps, job: string): Promise<JobRunItem | undefined> {
  const { Items = [] } = await deps.db.send(
    new QueryCommand({
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :run)',
      ExpressionAttributeValues: { ':pk': jobPk(job), ':run': jobRunSk('') },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  return Items[0] ? parseItem(jobRunItemSchema, Items[0]) : undefined;
}

const backfillKey = (job: string, from: CalendarDate, to: CalendarDate) => ({
  pk: jobPk(job),
  sk: backfillSk(from, to),
});

/** How far the backfill of `job` from `from` to `to` got, read consistently; undefined if none is under way. */
export async function readBackfill(
  deps: Deps,
  job: string,
  from: CalendarDate,
  to: CalendarDate,
): Promise<BackfillItem | undefined> {
  const { Item } = await deps.db.send(
    new GetCommand({ TableName: deps.tableName, Key: backfillKey(job, from, to), ConsistentRead: true }),
  );
  return Item ? parseItem(backfillItemSchema, Item) : undefined;
}

/** Notes that a backfill of the range started at `at`, unless one is under way already (its start stays). */
export async function startBackfill(
  deps: Deps,
  backfill: { job: string; from: CalendarDate; to: CalendarDate; at: Instant },
): Promise<void> {
  const { job, from, to, at } = backfill;
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: backfillKey(job, from, to),
      ...updateExpression({
        set: { type: JOB_BACKFILL_TYPE, job, from, to },
        setIfMissing: { startedAt: at },
      }),
    }),
  );
}

/** Removes a finished backfill's progress: the same command again starts from its first day. */
export async function finishBackfill(
  deps: Deps,
  job: string,
  from: CalendarDate,
  to: CalendarDate,
): Promise<void> {
  await deleteIf(deps, backfillKey(job, from, to), { expression: 'attribute_exists(pk)' });
}
