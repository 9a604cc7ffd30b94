// The job-run items `JOB#<job> / RUN#<asOf>`: the latest report of each occurrence of a job, and while
// the occurrence is unfinished the checkpoint it resumes from and the token a continuation names it by.
import { randomUUID } from 'node:crypto';
import { GetCommand, paginateQuery, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import type { Instant } from '../time';
import { type Update, updateExpression } from './conditional-write';
import { JOB_RUN_TYPE, jobPk, jobRunSk } from './keys';

export type { Checkpoint, Cursor, StoredReport } from './items';

import { type Checkpoint, type JobRunItem, jobRunItemSchema, parseItem, type StoredReport } from './items';

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
    for (const item of page.Items ?? []) runs.push(parseItem(jobRunItemSchema, item));
  }
  return runs;
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
