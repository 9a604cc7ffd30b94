// What the stack deploys for each scheduled job, as plain data (no CDK): the physical names (schedule,
// schedule group, failure queue), the schedule's description and its delivery policy. The stack
// (infra/constructs/scheduled-job.ts) builds from these, and the operators' CLI (`schedules …`) finds
// the deployed resources by them, so the two cannot disagree on a name.
import { JOBS, type JobName } from '../shared/jobs/registry';

/** The stage the stack deploys when none is given (infra/stage.ts), and the CLI's default too. */
export const DEFAULT_STAGE = 'dev';
/** A stage name, as infra/stage.ts accepts it. */
export const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** `promo-jobs-<stage>`: the prefix of every physical name of a stage. */
export const stagePrefix = (stage: string) => `promo-jobs-${stage}`;
/** The EventBridge Scheduler schedule group of a stage: the prefix itself. */
export const scheduleGroupName = (prefix: string) => prefix;
/** A job's EventBridge Scheduler schedule, in the stage's group. */
export const scheduleName = (prefix: string, job: JobName) => `${prefix}-${job}`;
/** A job's failure queue (the scheduler's DLQ and Lambda's on-failure destination). */
export const failureQueueName = (prefix: string, job: JobName) => `${prefix}-${job}-failures`;

/** `00:00`: a job's time of day in its zone. */
export function timeOfDay(job: JobName): string {
  const at = JOBS[job].schedule;
  return `${String(at.hour).padStart(2, '0')}:${String(at.minute).padStart(2, '0')}`;
}

/** The schedule's description as deployed (and as `schedules resume` restores it). */
export const scheduleDescription = (job: JobName) =>
  `${job} at ${timeOfDay(job)} ${JOBS[job].schedule.timeZone} every day`;

/**
 * How long a run may still start after its scheduled time, both for the scheduler's delivery and for
 * Lambda's asynchronous queue. Later is still correct (a run works as of its scheduled time and is
 * idempotent), but by then an operator should know: the run goes to the failure queue, which alarms,
 * and the next day's run catches up whatever this one missed.
 */
export const RUN_MAX_AGE_SECONDS = 2 * 60 * 60;
/** Scheduler delivery retries (exponential backoff); RUN_MAX_AGE_SECONDS is what bounds them in practice. */
export const SCHEDULER_RETRY_ATTEMPTS = 20;
/** Lambda's own retries of a run that failed or timed out: a retry continues where the run stopped. */
export const RUN_RETRY_ATTEMPTS = 2;
