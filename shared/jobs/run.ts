// Running a job for its input: one run per occurrence, in order, each reported and (unless a dry run)
// recorded on the job-run item `JOB#<job> / RUN#<asOf>`.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { jobPk, jobRunSk } from '../store/keys';
import { formatInstant, type Instant } from '../time';
import { runCartPolicies } from './cart-policies';
import { type JobInput, type JobName, occurrences } from './input';
import { activateJob, expireJob } from './promotion-jobs';
import { type SweepCounts, sweep } from './sweep';

type JobRunner = (
  deps: Deps,
  asOf: Instant,
  options: { dryRun: boolean; onProgress?: (counts: SweepCounts) => void },
) => Promise<SweepCounts>;

const RUNNERS: Record<JobName, JobRunner> = {
  activate: (deps, asOf, options) => sweep(deps, activateJob, asOf, options),
  expire: (deps, asOf, options) => sweep(deps, expireJob, asOf, options),
  'cart-policies': runCartPolicies,
};

export interface RunReport extends SweepCounts {
  job: JobName;
  asOf: Instant;
  dryRun: boolean;
  startedAt: Instant;
  finishedAt: Instant;
  durationMs: number;
}

export interface RunHooks {
  onProgress?: (job: JobName, asOf: Instant, counts: SweepCounts) => void;
  onReport?: (report: RunReport) => void;
}

export async function runJob(
  deps: Deps,
  job: JobName,
  input: JobInput,
  hooks: RunHooks = {},
): Promise<RunReport[]> {
  const reports: RunReport[] = [];
  for (const asOf of occurrences(job, input)) {
    const started = deps.clock();
    const counts = await RUNNERS[job](deps, asOf, {
      dryRun: input.dryRun,
      onProgress: (c) => hooks.onProgress?.(job, asOf, c),
    });
    const finished = deps.clock();
    const report: RunReport = {
      job,
      asOf,
      dryRun: input.dryRun,
      ...counts,
      startedAt: formatInstant(started),
      finishedAt: formatInstant(finished),
      durationMs: Math.max(0, finished.toMillis() - started.toMillis()),
    };
    if (!input.dryRun) await recordRun(deps, report);
    deps.log.info('job run', { ...report });
    hooks.onReport?.(report);
    reports.push(report);
  }
  return reports;
}

/** The latest report for an occurrence; `attempts` counts how often it was run. */
async function recordRun(deps: Deps, report: RunReport): Promise<void> {
  const { job, asOf, ...rest } = report;
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: { pk: jobPk(job), sk: jobRunSk(asOf) },
      UpdateExpression: 'SET #type = :type, #job = :job, asOf = :asOf, report = :report ADD attempts :one',
      ExpressionAttributeNames: { '#type': 'type', '#job': 'job' },
      ExpressionAttributeValues: {
        ':type': 'JOB_RUN',
        ':job': job,
        ':asOf': asOf,
        ':report': rest,
        ':one': 1,
      },
    }),
  );
}
