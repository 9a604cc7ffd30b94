// Backfills of any length (`run <job> --from … --to …`): the range is run in order in chunks of at most
// MAX_RANGE_DAYS days (what one job input, one Lambda event, may hold), each occurrence reported as it
// finishes. A real backfill is resumable: its item `JOB#<job> / BACKFILL#<from>..<to>` says since when
// it is under way, and the same command again continues after the days of the range whose job-run
// items say they finished since then with nothing failed. Dry runs never record nor resume.
import type { Deps } from '../../shared/deps';
import { MAX_RANGE_DAYS, occurrenceOn, parseJobInput, refuseRunAhead } from '../../shared/jobs/input';
import { createProjection } from '../../shared/jobs/projection';
import type { JobName } from '../../shared/jobs/registry';
import { type RunOptions, type RunReport, runJob } from '../../shared/jobs/run';
import {
  finishBackfill,
  type JobRunItem,
  listRuns,
  readBackfill,
  startBackfill,
} from '../../shared/store/job-runs';
import { addDays, type CalendarDate, daysBetween, formatInstant, type Instant } from '../../shared/time';

export interface DayRange {
  from: CalendarDate;
  to: CalendarDate;
}

export interface BackfillPlan extends DayRange {
  job: JobName;
  dryRun: boolean;
  /** Days in the whole range. */
  days: number;
  /** The chunks still to run, in order (none when an earlier run finished every day). */
  chunks: DayRange[];
  /** The last day an earlier run of the same backfill finished (with every day before it). */
  resumedAfter?: CalendarDate;
  /** Days not run again: finished by an earlier run of the same backfill. */
  skipped: number;
}

export interface BackfillEvents {
  /** Once, before anything runs. */
  onPlan?: (plan: BackfillPlan) => void;
  /** Each occurrence's report as it finishes; `done` counts the days of the range done so far (skipped ones too). */
  onReport?: (report: RunReport, done: number) => void;
  /** After each chunk. */
  onChunk?: (chunk: DayRange, index: number, plan: BackfillPlan) => void;
}

export interface BackfillResult {
  plan: BackfillPlan;
  /** Occurrences run by this command. */
  ran: number;
  changed: number;
  failed: number;
  /** Changes by kind, summed over the occurrences run. */
  transitions: Record<string, number>;
  /** False if an occurrence stopped before its end (the backfill stops there). */
  complete: boolean;
}

/** The earlier of two calendar days (strings: Math.min does not apply). */
const earlier = (a: CalendarDate, b: CalendarDate) => (a < b ? a : b);

/** The range in consecutive chunks of at most `size` days, in order. */
export function chunksOf({ from, to }: DayRange, size = MAX_RANGE_DAYS): DayRange[] {
  const chunks: DayRange[] = [];
  for (let start = from; start <= to; start = addDays(start, size)) {
    const end = addDays(start, size - 1);
    chunks.push({ from: start, to: earlier(end, to) });
  }
  return chunks;
}

/**
 * An occurrence that this backfill finished: its job-run item says it ran to its end with nothing failed
 * and nothing left to continue, and it finished after the backfill started (a run from before it, or
 * one recorded before runs had finishedAt, does not count: it is run again).
 */
const finishedSince = (run: JobRunItem | undefined, startedAt: Instant) =>
  run !== undefined &&
  run.report.complete !== false &&
  run.report.failed === 0 &&
  !run.checkpoint &&
  typeof run.report.finishedAt === 'string' &&
  run.report.finishedAt >= startedAt;

/**
 * The last day of the range that an earlier run of the same backfill finished, with every day before
 * it: where the same command continues. Undefined when none is under way, or its first day is not done.
 */
async function resumeAfter(deps: Deps, job: JobName, range: DayRange): Promise<CalendarDate | undefined> {
  const progress = await readBackfill(deps, job, range.from, range.to);
  if (!progress) return undefined;
  let last: CalendarDate | undefined;
  for (const chunk of chunksOf(range)) {
    const runs = await listRuns(deps, job, occurrenceOn(job, chunk.from), occurrenceOn(job, chunk.to));
    const byAsOf = new Map(runs.map((r) => [r.asOf, r]));
    for (const day of daysBetween(chunk.from, chunk.to)) {
      if (!finishedSince(byAsOf.get(occurrenceOn(job, day)), progress.startedAt)) return last;
      last = day;
    }
  }
  return last;
}

/**
 * Runs the job once per day of the range, in order, chunk by chunk, under the job's lease for each
 * chunk. A real run notes when it started (unless an earlier run of it is under way), and removes the
 * note once every day finished with nothing failed; the same command after an interruption (even
 * SIGKILL) continues after the days finished since. An occurrence cut short mid-day has no finished
 * job-run item, so it is run again (the job's own run is idempotent); so is one with a failed item.
 */
export async function runBackfill(
  deps: Deps,
  job: JobName,
  range: DayRange & {
    dryRun: boolean;
    /** At most MAX_RANGE_DAYS (the default); tests use shorter ones. */
    chunkDays?: number;
  },
  events: BackfillEvents = {},
  runOptions: RunOptions = {},
): Promise<BackfillResult> {
  const { from, to, dryRun } = range;
  const chunkDays = Math.min(range.chunkDays ?? MAX_RANGE_DAYS, MAX_RANGE_DAYS);
  // The whole range is refused before anything runs, not at its last chunk.
  refuseRunAhead({ kind: 'range', from, to, dryRun }, [occurrenceOn(job, to)], deps.clock());
  const resumedAfter = dryRun ? undefined : await resumeAfter(deps, job, range);
  if (!dryRun) await startBackfill(deps, { job, from, to, at: formatInstant(deps.clock()) });
  const start = resumedAfter === undefined ? from : addDays(resumedAfter, 1);
  const days = daysBetween(from, to).length;
  const skipped = resumedAfter === undefined ? 0 : daysBetween(from, resumedAfter).length;
  const plan: BackfillPlan = {
    job,
    from,
    to,
    dryRun,
    days,
    chunks: start <= to ? chunksOf({ from: start, to }, chunkDays) : [],
    ...(resumedAfter === undefined ? {} : { resumedAfter }),
    skipped,
  };
  events.onPlan?.(plan);
  const result: BackfillResult = { plan, ran: 0, changed: 0, failed: 0, transitions: {}, complete: true };
  // A dry run's projection spans its chunks: each day plans from what the days before would have written.
  const projection = dryRun ? createProjection() : undefined;
  // The backfill is done once every occurrence finished with nothing failed.
  let finishedAll = true;
  for (const [index, chunk] of plan.chunks.entries()) {
    const input = parseJobInput({ from: chunk.from, to: chunk.to, dryRun });
    const { continuation } = await runJob(deps, job, input, {
      ...runOptions,
      projection,
      onReport: (report) => {
        result.ran++;
        result.changed += report.changed;
        result.failed += report.failed;
        for (const [kind, n] of Object.entries(report.transitions)) {
          result.transitions[kind] = (result.transitions[kind] ?? 0) + n;
        }
        finishedAll &&= report.complete && report.failed === 0;
        runOptions.onReport?.(report);
        events.onReport?.(report, skipped + result.ran);
      },
    });
    events.onChunk?.(chunk, index, plan);
    if (continuation) {
      result.complete = false; // an occurrence stopped early (its lease was lost): the rest waits for a re-run
      return result;
    }
  }
  if (!dryRun && finishedAll) await finishBackfill(deps, job, from, to);
  return result;
}
