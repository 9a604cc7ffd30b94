// The recorded runs (`runs list`, `runs show`): each occurrence's job-run item as operators read it,
// from one Query per job partition (never a Scan), filtered by Asia/Shanghai calendar days.
import { Duration } from 'luxon';
import type { Deps } from '../../shared/deps';
import type { JobName } from '../../shared/jobs/registry';
import { iterateRuns, type JobRunItem, readRun } from '../../shared/store/job-runs';
import { addDays, type CalendarDate, formatInstant, type Instant, startOfDay } from '../../shared/time';

/** One recorded run, as `runs list` prints it. */
export interface RunView {
  job: string;
  asOf: Instant;
  /** False while the occurrence stopped early and waits for its continuation. */
  complete: boolean;
  examined: number | null;
  changed: number | null;
  alreadyDone: number | null;
  failed: number;
  /** The wall clock when the run (its latest invocation) started and finished; null on runs recorded before these were. */
  startedAt: Instant | null;
  finishedAt: Instant | null;
  /** finishedAt − startedAt as an ISO 8601 duration (`PT1M2.345S`), and in milliseconds. */
  duration: string | null;
  durationMs: number | null;
  /** Invocations that reported this occurrence (a continued run, or the same occurrence run again). */
  attempts: number;
}

/** A run with what went wrong: the failed items and their errors as the report records them. */
export interface RunDetail extends RunView {
  transitions: Record<string, number>;
  failures: { merchantId: string; error: string }[];
}

/** The columns of `runs list --output table`. */
export const RUN_COLUMNS = [
  'job',
  'asOf',
  'complete',
  'examined',
  'changed',
  'failed',
  'startedAt',
  'finishedAt',
  'duration',
  'attempts',
] as const;

const numberOr = (value: unknown) => (typeof value === 'number' ? value : null);
const textOr = (value: unknown) => (typeof value === 'string' ? value : null);

export function runView(run: JobRunItem): RunView {
  const { report } = run;
  const durationMs = numberOr(report.durationMs);
  return {
    job: run.job,
    asOf: run.asOf,
    // `complete` is absent on runs recorded before runs could stop early: those ran to their end.
    complete: report.complete !== false && run.checkpoint === undefined,
    examined: numberOr(report.examined),
    changed: numberOr(report.changed),
    alreadyDone: numberOr(report.alreadyDone),
    failed: report.failed,
    startedAt: textOr(report.startedAt),
    finishedAt: textOr(report.finishedAt),
    duration: durationMs === null ? null : (Duration.fromMillis(durationMs).rescale().toISO() ?? null),
    durationMs,
    attempts: run.attempts,
  };
}

export function runDetail(run: JobRunItem): RunDetail {
  const { transitions, failures } = run.report;
  return {
    ...runView(run),
    transitions: (transitions ?? {}) as Record<string, number>,
    failures: Array.isArray(failures) ? (failures as RunDetail['failures']) : [],
  };
}

export interface RunFilter {
  jobs: readonly JobName[];
  from?: CalendarDate;
  to?: CalendarDate;
}

/** The recorded runs of the jobs over the days, ordered by asOf then job. */
export async function listRecordedRuns(deps: Deps, filter: RunFilter): Promise<RunView[]> {
  const range = {
    from: filter.from === undefined ? undefined : formatInstant(startOfDay(filter.from)),
    to:
      filter.to === undefined
        ? undefined
        : formatInstant(startOfDay(addDays(filter.to, 1)).minus({ milliseconds: 1 })),
  };
  const views: RunView[] = [];
  for (const job of filter.jobs) {
    for await (const run of iterateRuns(deps, job, range)) views.push(runView(run));
  }
  return views.sort((a, b) => (a.asOf === b.asOf ? a.job.localeCompare(b.job) : a.asOf < b.asOf ? -1 : 1));
}

/** One recorded run, or undefined when the job never ran as of that instant. */
export async function showRecordedRun(
  deps: Deps,
  job: JobName,
  asOf: Instant,
): Promise<RunDetail | undefined> {
  const run = await readRun(deps, job, asOf);
  return run ? runDetail(run) : undefined;
}
