// Running a job for its input: one run per occurrence, in order, under the job's lease, each run
// reported and (unless a dry run) recorded on its job-run item `JOB#<job> / RUN#<asOf>`. A run that
// must stop before a deadline saves a checkpoint on that item and returns the input that continues
// it, which names the checkpoint by a token instead of carrying it.
import type { Deps } from '../deps';
import { InputError } from '../errors';
import { readRun, recordRun } from '../store/job-runs';
import { dateOf, formatInstant, type Instant, parseInstant } from '../time';
import { type Checkpoint, createRunCursors } from './checkpoint';
import { type JobInput, occurrences, type Resume, refuseRunAhead } from './input';
import { acquireLease, type Lease, type LeaseHolder } from './lease';
import { createProjection, type Projection } from './projection';
import { JOBS, type JobName } from './registry';
import { emptyCounts, type RunContext, type RunCounts } from './run-context';

export interface RunReport extends RunCounts {
  job: JobName;
  asOf: Instant;
  dryRun: boolean;
  /** False when the run stopped before its deadline; `continuation` then finishes it. */
  complete: boolean;
  startedAt: Instant;
  finishedAt: Instant;
  durationMs: number;
}

/** The input that continues a stopped run: the rest of the occurrences, resuming from the stored checkpoint. */
export type Continuation = JobInput & { resume: Resume };

export interface RunOptions {
  /** Called after each page of work is handled, with the occurrence's counts so far. */
  onPage?: (job: JobName, asOf: Instant, counts: RunCounts) => void;
  onReport?: (report: RunReport) => void;
  /** Awaited once a real run's report is recorded on its job-run item (e.g. to note a backfill's progress). */
  onRecorded?: (report: RunReport) => Promise<void>;
  /** A dry run's picture of what earlier occurrences would have written, to carry across runJob calls. */
  projection?: Projection;
  /** True when the run should stop and hand over to a continuation (e.g. Lambda's time is running out). */
  shouldStop?: () => boolean;
  leaseTtlMs?: number;
  /** Who runs, as the lease names its holder (e.g. `cli:<host>:<pid>`). */
  leaseOwner?: string;
  /** Wait for a lapsing lease (calling this once) instead of refusing at once; see AcquireOptions.onWait. */
  onLeaseWait?: (holder: LeaseHolder) => void;
}

export interface RunResult {
  reports: RunReport[];
  continuation?: Continuation;
}

export async function runJob(
  deps: Deps,
  job: JobName,
  input: JobInput,
  options: RunOptions = {},
): Promise<RunResult> {
  const all = occurrences(job, input);
  refuseRunAhead(input, all, deps.clock()); // before the lease: a refused run takes nothing
  // A continuation starts at the occurrence it stopped in; earlier ones were finished.
  const todo = input.resume ? all.filter((asOf) => asOf >= (input.resume?.asOf ?? '')) : all;
  // Dry runs write nothing and take no lease; real runs take the job's lease for their whole length.
  const lease: Lease | undefined = input.dryRun
    ? undefined
    : await acquireLease(deps, job, {
        ttlMs: options.leaseTtlMs,
        owner: options.leaseOwner,
        asOf: todo[0],
        onWait: options.onLeaseWait,
      });
  // A dry run projects its changes forward, so each occurrence plans from what the earlier ones would have written.
  const projection = input.dryRun ? (options.projection ?? createProjection()) : undefined;
  const reports: RunReport[] = [];
  try {
    // Everything the run sends checks the lease first: once lost, the run sends nothing more.
    const runDeps = lease ? fenced(deps, lease) : deps;
    const resumeFrom = input.resume ? await storedCheckpoint(runDeps, job, input.resume) : undefined;
    for (const asOf of todo) {
      const started = deps.clock();
      const cursors = createRunCursors({
        from: input.resume?.asOf === asOf ? resumeFrom : undefined,
        // A run that lost its lease stops at the next page, like one out of time.
        shouldStop: () => (lease?.lost ?? false) || (options.shouldStop?.() ?? false),
      });
      const ctx: RunContext = {
        deps: runDeps,
        asOf,
        dryRun: input.dryRun,
        counts: emptyCounts(),
        cursors,
        projection,
        onPage: (c) => options.onPage?.(job, asOf, c),
      };
      await JOBS[job].run(ctx);
      lease?.assertHeld(); // a run that lost its lease is not complete: it fails, and is run again
      const finished = deps.clock();
      const report: RunReport = {
        job,
        asOf,
        dryRun: input.dryRun,
        ...ctx.counts,
        complete: !cursors.stopped,
        startedAt: formatInstant(started),
        finishedAt: formatInstant(finished),
        durationMs: Math.max(0, finished.toMillis() - started.toMillis()),
      };
      // A dry run keeps nothing to continue from: it reports `complete: false` and ends there.
      const checkpoint = cursors.stopped && !input.dryRun ? cursors.checkpoint() : undefined;
      const token = input.dryRun ? undefined : await record(runDeps, report, checkpoint);
      if (!input.dryRun) await options.onRecorded?.(report);
      deps.log.info('job run', { ...report });
      options.onReport?.(report);
      reports.push(report);
      // A dry run has no token: its projection cannot travel to another invocation, so one cut short
      // ends here (complete: false) rather than continue from a picture that lacks its earlier occurrences.
      if (cursors.stopped) {
        return { reports, continuation: token ? continuationOf(input, { asOf, token }) : undefined };
      }
    }
    return { reports };
  } finally {
    await lease?.release();
  }
}

/** The deps of a run under a lease: its table client refuses every request once the lease is lost. */
function fenced(deps: Deps, lease: Lease): Deps {
  const db = new Proxy(deps.db, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return (...args: unknown[]) => {
        lease.assertHeld();
        return Reflect.apply(target.send, target, args);
      };
    },
  });
  return { ...deps, db };
}

/**
 * The checkpoint a continuation resumes from: the one on the job-run item, if that item's token is the
 * continuation's. An event never brings its own checkpoint, so a forged one cannot skip work.
 */
async function storedCheckpoint(deps: Deps, job: JobName, resume: Resume): Promise<Checkpoint> {
  const run = await readRun(deps, job, resume.asOf);
  if (!run?.checkpoint || run.resumeToken !== resume.token) {
    throw new InputError([
      {
        field: 'resume.token',
        problem: `no unfinished run of ${job} as of ${resume.asOf} has this token (a continuation comes only from the run it continues)`,
      },
    ]);
  }
  return run.checkpoint;
}

function continuationOf(input: JobInput, resume: Resume): Continuation {
  if (input.kind === 'range') return { ...input, from: dateOf(parseInstant(resume.asOf)), resume };
  return { kind: 'asOf', asOf: resume.asOf, dryRun: input.dryRun, resume };
}

/**
 * Records the report on the occurrence's job-run item, and while it is unfinished its checkpoint;
 * returns the token a continuation names that checkpoint by.
 */
function record(
  deps: Deps,
  report: RunReport,
  checkpoint: Checkpoint | undefined,
): Promise<string | undefined> {
  const { job, asOf, ...rest } = report;
  return recordRun(deps, { job, asOf, report: rest, checkpoint });
}
