// Backfills of any length (`run <job> --from … --to …`): the range is run in order in chunks of at most
// MAX_RANGE_DAYS days (what one job input, one Lambda event, may hold), each occurrence reported as it
// finishes. A real backfill is resumable: its progress item `JOB#<job> / BACKFILL#<from>..<to>` says
// through which day every occurrence ran to its end with no failed item, and the same command again
// continues after that day (checked against the job-run items first). Dry runs never record nor resume.
import type { Deps } from '../../shared/deps';
import { MAX_RANGE_DAYS, occurrenceOn, parseJobInput, refuseRunAhead } from '../../shared/jobs/input';
import { createProjection } from '../../shared/jobs/projection';
import type { JobName } from '../../shared/jobs/registry';
import { type RunOptions, type RunReport, runJob } from '../../shared/jobs/run';
import {
  advanceBackfill,
  finishBackfill,
  type JobRunItem,
  listRuns,
  readBackfill,
} from '../../shared/store/job-runs';
import {
  addDays,
  type CalendarDate,
  dateOf,
  daysBetween,
  formatInstant,
  parseInstant,
} from '../../shared/time';

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

/** The range in consecutive chunks of at most `size` days, in order. */
export function chunksOf({ from, to }: DayRange, size = MAX_RANGE_DAYS): DayRange[] {
  const chunks: DayRange[] = [];
  for (let start = from; start <= to; start = addDays(start, size)) {
    const end = addDays(start, size - 1);
    chunks.push({ from: start, to: end < to ? end : to });
  }
  return chunks;
}

/** An occurrence whose job-run item says it ran to its end with nothing failed and nothing left to continue. */
const finished = (run: JobRunItem | undefined) =>
  run !== undefined && run.report.complete !== false && run.report.failed === 0 && !run.checkpoint;

/**
 * The first day of the range to run: the day after the recorded progress, once the job-run items
 * confirm that every day up to it really finished; from the first day that did not, if one did not
 * (a day re-run since and failed, a hand edit): then the progress item is dropped, as it overstates.
 */
async function resumeFrom(deps: Deps, job: JobName, range: DayRange): Promise<CalendarDate | undefined> {
  const progress = await readBackfill(deps, job, range.from, range.to);
  if (!progress || progress.through < range.from) return undefined;
  const through = progress.through > range.to ? range.to : progress.through;
  let firstUnfinished: CalendarDate | undefined;
  for (const chunk of chunksOf({ from: range.from, to: through })) {
    const runs = new Map(
      (await listRuns(deps, job, occurrenceOn(job, chunk.from), occurrenceOn(job, chunk.to))).map((r) => [
        r.asOf,
        r,
      ]),
    );
    firstUnfinished = daysBetween(chunk.from, chunk.to).find(
      (day) => !finished(runs.get(occurrenceOn(job, day))),
    );
    if (firstUnfinished) break;
  }
  if (firstUnfinished === undefined) return through;
  await finishBackfill(deps, job, range.from, range.to);
  return firstUnfinished === range.from ? undefined : addDays(firstUnfinished, -1);
}

/**
 * Runs the job once per day of the range, in order, chunk by chunk, under the job's lease for each
 * chunk. A real run notes its progress after each occurrence that finished with nothing failed (while
 * every earlier one did too), and removes it once the whole range has; the same command after an
 * interruption (even SIGKILL) continues after the last day noted. An occurrence cut short mid-day was
 * never noted, so it is run again, and the job's own run is idempotent.
 */
export async function runBackfill(
  deps: Deps,
  job: JobName,
  range: DayRange & { dryRun: boolean },
  events: BackfillEvents = {},
  runOptions: RunOptions = {},
): Promise<BackfillResult> {
  const { from, to, dryRun } = range;
  // The whole range is refused before anything runs, not at its last chunk.
  refuseRunAhead({ kind: 'range', from, to, dryRun }, [occurrenceOn(job, to)], deps.clock());
  const resumedAfter = dryRun ? undefined : await resumeFrom(deps, job, range);
  const start = resumedAfter === undefined ? from : addDays(resumedAfter, 1);
  const days = daysBetween(from, to).length;
  const skipped = resumedAfter === undefined ? 0 : daysBetween(from, resumedAfter).length;
  const plan: BackfillPlan = {
    job,
    from,
    to,
    dryRun,
    days,
    chunks: start <= to ? chunksOf({ from: start, to }) : [],
    ...(resumedAfter === undefined ? {} : { resumedAfter }),
    skipped,
  };
  events.onPlan?.(plan);
  const result: BackfillResult = { plan, ran: 0, changed: 0, failed: 0, transitions: {}, complete: true };
  // A dry run's projection spans its chunks: each day plans from what the days before would have written.
  const projection = dryRun ? createProjection() : undefined;
  // Progress moves only while every occurrence so far finished with nothing failed.
  let advancing = true;
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
        runOptions.onReport?.(report);
        events.onReport?.(report, skipped + result.ran);
      },
      onRecorded: async (report) => {
        advancing &&= report.complete && report.failed === 0;
        if (!advancing) return;
        const day = dateOf(parseInstant(report.asOf));
        await advanceBackfill(deps, { job, from, to, through: day, at: formatInstant(deps.clock()) });
      },
    });
    events.onChunk?.(chunk, index, plan);
    if (continuation) {
      result.complete = false; // an occurrence stopped early (its lease was lost): the rest waits for a re-run
      return result;
    }
  }
  if (!dryRun && advancing) await finishBackfill(deps, job, from, to);
  return result;
}
