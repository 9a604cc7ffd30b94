// "Was anything missed?": for each job, the scheduled occurrences of the last days without a complete
// run, and what is overdue in the table (the job's own rule in shared/jobs/registry.ts).
import type { Deps } from '../../shared/deps';
import { occurrenceOn } from '../../shared/jobs/input';
import { JOB_NAMES, JOBS, type JobName } from '../../shared/jobs/registry';
import { latestRun, listRuns, type StoredReport } from '../../shared/store/job-runs';
import { addDays, dateOf, type Instant, parseInstant } from '../../shared/time';

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

async function jobStatus(deps: Deps, job: JobName, asOf: Instant, days: number): Promise<JobStatus> {
  const today = dateOf(parseInstant(asOf));
  const occurrences = Array.from({ length: days }, (_, i) =>
    occurrenceOn(job, addDays(today, i - days + 1)),
  ).filter((at) => at <= asOf);
  const first = occurrences[0];
  const last = occurrences.at(-1);
  const runs = new Map<string, StoredReport>(
    first && last ? (await listRuns(deps, job, first, last)).map((run) => [run.asOf, run.report]) : [],
  );
  const lastOccurrence = occurrenceOn(job, asOf >= occurrenceOn(job, today) ? today : addDays(today, -1));
  return {
    missing: occurrences.filter((at) => !runs.has(at)),
    incomplete: occurrences.filter((at) => {
      const report = runs.get(at);
      return report !== undefined && (report.complete === false || report.failed > 0);
    }),
    overdue: await JOBS[job].overdue(deps, { asOf, lastOccurrence }),
  };
}

/** The status as of an instant, over the scheduled occurrences of the `days` days up to it. */
export async function systemStatus(deps: Deps, asOf: Instant, days: number): Promise<SystemStatus> {
  const jobs = {} as Record<JobName, JobStatus>;
  for (const job of JOB_NAMES) jobs[job] = await jobStatus(deps, job, asOf, days);
  const ok = Object.values(jobs).every(
    (j) => j.missing.length === 0 && j.incomplete.length === 0 && j.overdue === 0,
  );
  return { asOf, days, jobs, ok };
}

/**
 * What `status` says on stderr: one line per job that is not as it should be, and, when nothing at all
 * ran in the window but runs are recorded before it (a replayed range, such as the demo's), the
 * `--as-of` that looks at them.
 */
export async function statusLines(deps: Deps, status: SystemStatus): Promise<string[]> {
  if (status.ok) return [`status: ok as of ${status.asOf} (the last ${status.days} days)`];
  const lines = JOB_NAMES.flatMap((job) => {
    const { missing, incomplete, overdue } = status.jobs[job];
    if (missing.length === 0 && incomplete.length === 0 && overdue === 0) return [];
    return [`status: ${job}: ${missing.length} missing, ${incomplete.length} incomplete, ${overdue} overdue`];
  });
  const nothingRan =
    JOB_NAMES.every((job) => status.jobs[job].incomplete.length === 0) &&
    JOB_NAMES.every((job) => status.jobs[job].missing.length > 0);
  if (nothingRan) {
    const latest = (await Promise.all(JOB_NAMES.map((job) => latestRun(deps, job))))
      .map((run) => run?.asOf)
      .filter((asOf): asOf is Instant => asOf !== undefined && asOf < status.asOf)
      .sort()
      .at(-1);
    lines.push(
      latest
        ? `status: no run in the last ${status.days} days before ${status.asOf}; the latest recorded run is as of ${latest} (a replayed range?): try status --as-of ${latest}`
        : `status: no run recorded yet: run the jobs (run <job> --as-of …), or wait for their schedules`,
    );
  }
  return lines;
}
