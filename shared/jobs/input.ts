// What a job run may be asked to do, from any entry point (schedule, operator, CLI), and the
// occurrences ("as of" instants) that follow from it.
import { z } from 'zod';
import { InputError, parseInput, unlessMissing } from '../errors';
import {
  addDays,
  type CalendarDate,
  calendarDateSchema,
  daysBetween,
  formatInstant,
  type Instant,
  instantSchema,
  startOfDay,
} from '../time';

/** Each job's daily schedule in Asia/Shanghai; a {from,to} backfill runs one occurrence per day at this time. */
export const JOB_SCHEDULES = {
  activate: { hour: 0, minute: 0 },
  expire: { hour: 23, minute: 59 },
  'cart-policies': { hour: 0, minute: 0 },
} as const;
export type JobName = keyof typeof JOB_SCHEDULES;
export const JOB_NAMES = Object.keys(JOB_SCHEDULES) as JobName[];

/** A backfill longer than this is refused: split it, so that each invocation stays within its time limit. */
export const MAX_RANGE_DAYS = 366;

const dryRun = z
  .boolean({ error: unlessMissing('must be true or false') })
  .optional()
  .default(false);

/** Where a run that stopped before its deadline resumes (see RunResult.continuation). */
const resume = z
  .strictObject({
    asOf: instantSchema,
    checkpoint: z.record(
      z.string().max(300),
      z.union([z.literal('done'), z.record(z.string(), z.unknown())], {
        message: 'must be "done" or a page key',
      }),
    ),
  })
  .optional();

const scheduledSchema = z.strictObject({ scheduledTime: instantSchema, dryRun });
const asOfSchema = z
  .strictObject({ asOf: instantSchema, dryRun, resume })
  .refine((r) => !r.resume || r.resume.asOf === r.asOf, {
    message: 'must be the run’s asOf',
    path: ['resume', 'asOf'],
  });
const rangeSchema = z
  .strictObject({ from: calendarDateSchema, to: calendarDateSchema, dryRun, resume })
  .refine((r) => r.to >= r.from, { message: 'must be on or after from', path: ['to'] })
  .refine((r) => r.to < addDays(r.from, MAX_RANGE_DAYS), {
    message: `must be at most ${MAX_RANGE_DAYS} days after from (split longer backfills)`,
    path: ['to'],
  });

type Resume = { resume?: { asOf: Instant; checkpoint: Record<string, 'done' | Record<string, unknown>> } };

export type JobInput =
  | ({ kind: 'scheduled'; scheduledTime: Instant; dryRun: boolean } & Resume)
  | ({ kind: 'asOf'; asOf: Instant; dryRun: boolean } & Resume)
  | ({ kind: 'range'; from: CalendarDate; to: CalendarDate; dryRun: boolean } & Resume);

/**
 * A scheduled event `{ scheduledTime }` (EventBridge Scheduler's <aws.scheduler.scheduled-time>),
 * or a manual `{ asOf }` or `{ from, to }`, each with optional `dryRun`.
 */
export function parseJobInput(value: unknown): JobInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError('(input): must be an object with scheduledTime, asOf, or from and to');
  }
  if ('scheduledTime' in value) return { kind: 'scheduled', ...parseInput(scheduledSchema, value) };
  if ('asOf' in value) return { kind: 'asOf', ...parseInput(asOfSchema, value) };
  if ('from' in value || 'to' in value) return { kind: 'range', ...parseInput(rangeSchema, value) };
  throw new InputError('(input): must have scheduledTime, asOf, or from and to');
}

/** The scheduled occurrence of a job on a day. */
export function occurrenceOn(job: JobName, day: CalendarDate): Instant {
  return formatInstant(startOfDay(day).set(JOB_SCHEDULES[job]));
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
