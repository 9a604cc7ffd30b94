// Running a job for its input: one run per occurrence, in order, under the job's lease, each run
// reported and (unless a dry run) recorded on its job-run item `JOB#<job> / RUN#<asOf>`. A run that
// must stop before a deadline saves a checkpoint and returns the input that continues it.
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import { jobPk, jobRunSk } from '../store/keys';
import { dateOf, formatInstant, type Instant, parseInstant } from '../time';
import { runCartPolicies } from './cart-policies';
import { type JobInput, type JobName, occurrences } from './input';
import { acquireLease, type Lease } from './lease';
import { emptyCounts, type RunContext, type SweepCounts } from './partitions';
import { type Checkpoint, createProgress } from './progress';
import { createProjection } from './projection';
import { activateJob, expireJob } from './promotion-jobs';
import { sweep } from './sweep';

const RUNNERS: Record<JobName, (ctx: RunContext) => Promise<void>> = {
  activate: (ctx) => sweep(ctx, activateJob),
  expire: (ctx) => sweep(ctx, expireJob),
  'cart-policies': runCartPolicies,
};

export interface RunReport extends SweepCounts {
  job: JobName;
  asOf: Instant;
  dryRun: boolean;
  /** False when the run stopped before its deadline; `continuation` then finishes it. */
  complete: boolean;
  startedAt: Instant;
  finishedAt: Instant;
  durationMs: number;
}

/** The input that continues a stopped run: the rest of the occurrences, resuming from the checkpoint. */
export type Continuation = JobInput & { resume: { asOf: Instant; checkpoint: Checkpoint } };

export interface RunOptions {
  onProgress?: (job: JobName, asOf: Instant, counts: SweepCounts) => void;
  onReport?: (report: RunReport) => void;
  /** True when the run should stop and hand over to a continuation (e.g. Lambda's time is running out). */
  shouldStop?: () => boolean;
  leaseTtlMs?: number;
}

export interface RunResult {
  reports: RunReport[];
  continuation?: Continuation;
}

/** How often a long run renews its lease. */
const LEASE_RENEWAL_MS = 60_000;

export async function runJob(
  deps: Deps,
  job: JobName,
  input: JobInput,
  options: RunOptions = {},
): Promise<RunResult> {
  const all = occurrences(job, input);
  // A continuation starts at the occurrence it stopped in; earlier ones were finished.
  const todo = input.resume ? all.filter((asOf) => asOf >= (input.resume?.asOf ?? '')) : all;
  // Dry runs write nothing and take no lease; real runs take the job's lease for their whole length.
  const lease: Lease | undefined = input.dryRun
    ? undefined
    : await acquireLease(deps, job, { ttlMs: options.leaseTtlMs, asOf: todo[0] });
  let renewedAt = deps.clock().toMillis();
  const keepLeaseAlive = async () => {
    if (!lease || deps.clock().toMillis() - renewedAt < LEASE_RENEWAL_MS) return;
    renewedAt = deps.clock().toMillis();
    await lease.renew();
  };
  // A dry run projects its changes forward, so each occurrence plans from what the earlier ones would have written.
  const projection = input.dryRun ? createProjection() : undefined;
  const reports: RunReport[] = [];
  try {
    for (const asOf of todo) {
      const started = deps.clock();
      const progress = createProgress({
        from: input.resume?.asOf === asOf ? input.resume.checkpoint : undefined,
        shouldStop: options.shouldStop,
        onAdvance: keepLeaseAlive,
      });
      const ctx: RunContext = {
        deps,
        asOf,
        dryRun: input.dryRun,
        counts: emptyCounts(),
        progress,
        projection,
        onProgress: (c) => options.onProgress?.(job, asOf, c),
      };
      await RUNNERS[job](ctx);
      const finished = deps.clock();
      const report: RunReport = {
        job,
        asOf,
        dryRun: input.dryRun,
        ...ctx.counts,
        complete: !progress.stopped,
        startedAt: formatInstant(started),
        finishedAt: formatInstant(finished),
        durationMs: Math.max(0, finished.toMillis() - started.toMillis()),
      };
      const checkpoint = progress.stopped ? progress.checkpoint() : undefined;
      if (!input.dryRun) await recordRun(deps, report, checkpoint);
      deps.log.info('job run', { ...report });
      options.onReport?.(report);
      reports.push(report);
      // A dry run's projection cannot travel to another invocation: one cut short ends here
      // (complete: false) rather than continue from a picture that lacks its earlier occurrences.
      if (checkpoint && input.dryRun) return { reports };
      if (checkpoint) return { reports, continuation: continuationOf(input, asOf, checkpoint) };
      await keepLeaseAlive();
    }
    return { reports };
  } finally {
    await lease?.release();
  }
}

function continuationOf(input: JobInput, asOf: Instant, checkpoint: Checkpoint): Continuation {
  const resume = { asOf, checkpoint };
  if (input.kind === 'range') return { ...input, from: dateOf(parseInstant(asOf)), resume };
  return { kind: 'asOf', asOf, dryRun: input.dryRun, resume };
}

/** The latest report for an occurrence, and its checkpoint while it is unfinished; `attempts` counts invocations. */
async function recordRun(deps: Deps, report: RunReport, checkpoint: Checkpoint | undefined): Promise<void> {
  const { job, asOf, ...rest } = report;
  await deps.db.send(
    new UpdateCommand({
      TableName: deps.tableName,
      Key: { pk: jobPk(job), sk: jobRunSk(asOf) },
      UpdateExpression: `SET #type = :type, #job = :job, asOf = :asOf, report = :report${checkpoint ? ', #checkpoint = :checkpoint' : ''} ADD attempts :one${checkpoint ? '' : ' REMOVE #checkpoint'}`,
      ExpressionAttributeNames: { '#type': 'type', '#job': 'job', '#checkpoint': 'checkpoint' },
      ExpressionAttributeValues: {
        ':type': 'JOB_RUN',
        ':job': job,
        ':asOf': asOf,
        ':report': rest,
        ':one': 1,
        ...(checkpoint ? { ':checkpoint': checkpoint } : {}),
      },
    }),
  );
}
