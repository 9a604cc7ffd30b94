// What a job run may be asked to do, from any entry point (schedule, operator, CLI), and the
// occurrences ("as of" instants) that follow from it.
import type { DateTime } from 'luxon';
import * as z from 'zod';
import { InputError, parseInput, unlessMissing } from '../errors';
import {
  addDays,
  type CalendarDate,
  CLOCK_SKEW_TEXT,
  calendarDateSchema,
  dateOf,
  daysBetween,
  formatInstant,
  type Instant,
  instantSchema,
  parseInstant,
  pastClockSkew,
  startOfDay,
} from '../time';
import { JOB_NAMES, JOBS, type JobName } from './registry';

/** A job's name, as operators type it (`run <job>`, `leases release <job>`). */
export const jobNameSchema = z.enum(JOB_NAMES as [JobName, ...JobName[]], {
  error: unlessMissing(`must be one of ${JOB_NAMES.join(', ')}`),
});

/** A backfill longer than this is refused: split it, so that each invocation stays within its time limit. */
export const MAX_RANGE_DAYS = 366;

const dryRun = z
  .boolean({ error: unlessMissing('must be true or false') })
  .optional()
  .default(false);

/**
 * Where a run that stopped before its deadline resumes (see RunResult.continuation): the occurrence,
 * and the token its job-run item holds beside the checkpoint. The checkpoint itself stays in the
 * table; with every field bounded, so is the event.
 */
const resume = z
  .strictObject({
    asOf: instantSchema,
    token: z.uuid({ error: unlessMissing('must be the token of the run it continues') }),
  })
  .optional();

/** Only real runs continue: a dry run keeps no checkpoint in the table. */
const notDry = (r: { dryRun: boolean; resume?: unknown }) => !(r.dryRun && r.resume);
const NOT_DRY = { message: 'a dry run is not continued', path: ['resume'] };

const scheduledSchema = z.strictObject({ scheduledTime: instantSchema, dryRun });
const asOfSchema = z
  .strictObject({ asOf: instantSchema, dryRun, resume })
  .refine((r) => !r.resume || r.resume.asOf === r.asOf, {
    message: 'must be the run’s asOf',
    path: ['resume', 'asOf'],
  })
  .refine(notDry, NOT_DRY);
const rangeSchema = z
  .strictObject({ from: calendarDateSchema, to: calendarDateSchema, dryRun, resume })
  .refine(notDry, NOT_DRY)
  .refine((r) => r.to >= r.from, { message: 'must be on or after from', path: ['to'] })
  .refine((r) => r.to < addDays(r.from, MAX_RANGE_DAYS), {
    message: `must be at most ${MAX_RANGE_DAYS} days after from (split longer backfills)`,
    path: ['to'],
  });

export interface Resume {
  asOf: Instant;
  token: string;
}

export type JobInput =
  | { kind: 'scheduled'; scheduledTime: Instant; dryRun: boolean; resume?: Resume }
  | { kind: 'asOf'; asOf: Instant; dryRun: boolean; resume?: Resume }
  | { kind: 'range'; from: CalendarDate; to: CalendarDate; dryRun: boolean; resume?: Resume };

/**
 * A scheduled event `{ scheduledTime }` (EventBridge Scheduler's <aws.scheduler.scheduled-time>),
 * or a manual `{ asOf }` or `{ from, to }`, each with optional `dryRun`.
 */
export function parseJobInput(value: unknown): JobInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError([
      { field: '(input)', problem: 'must be an object with scheduledTime, asOf, or from and to' },
    ]);
  }
  if ('scheduledTime' in value) return { kind: 'scheduled', ...parseInput(scheduledSchema, value) };
  if ('asOf' in value) return { kind: 'asOf', ...parseInput(asOfSchema, value) };
  if ('from' in value || 'to' in value) return { kind: 'range', ...parseInput(rangeSchema, value) };
  throw new InputError([{ field: '(input)', problem: 'must have scheduledTime, asOf, or from and to' }]);
}

/** The scheduled occurrence of a job on a day. */
export function occurrenceOn(job: JobName, day: CalendarDate): Instant {
  return formatInstant(
    startOfDay(day).set({ hour: JOBS[job].schedule.hour, minute: JOBS[job].schedule.minute }),
  );
}

/**
 * The job's latest scheduled occurrence at or before `now` (what its schedule fired, or should have):
 * today's if its time of day has come in Asia/Shanghai, else yesterday's.
 */
export function latestOccurrence(job: JobName, now: DateTime): Instant {
  const today = dateOf(now);
  const todays = occurrenceOn(job, today);
  return parseInstant(todays) <= now ? todays : occurrenceOn(job, addDays(today, -1));
}

/** The instants a run works as of, in order. */
export function occurrences(job: JobName, input: JobInput): Instant[] {
  switch (input.kind) {
    case 'scheduled':
      return [input.scheduledTime];
    case 'asOf':
      return [input.asOf];
    case 'range':
      return daysBetween(input.from, input.to).map((day) => occurrenceOn(job, day));
  }
}

/** The field of each kind of input that says when it runs as of. */
const WHEN_FIELD: Record<JobInput['kind'], string> = {
  scheduled: 'scheduledTime',
  asOf: 'asOf',
  range: 'to',
};

/**
 * Refuses a real run as of more than the allowed clock skew past the wall clock `now`: it would expire and
 * activate promotions early, irreversibly. The field named is the one that says when: `scheduledTime`,
 * `asOf`, or a range's `to`. Dry runs may look ahead.
 */
export function refuseRunAhead(input: JobInput, occurrencesOfInput: Instant[], now: DateTime): void {
  if (input.dryRun) return;
  const last = occurrencesOfInput.at(-1);
  if (last === undefined || !pastClockSkew(last, now)) return;
  const field = WHEN_FIELD[input.kind];
  throw new InputError([
    {
      field,
      problem: `a real run as of ${last} is more than ${CLOCK_SKEW_TEXT} past the wall clock (${formatInstant(now)}); it would change promotions early (a dry run may look ahead)`,
    },
  ]);
}
