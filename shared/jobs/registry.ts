// Every scheduled job, in one place: its daily schedule and what it does. The stack's schedules,
// status, the CLI's help and the demo's replay order derive from this.
import { ZONE } from '../time';

export interface JobDefinition {
  /** When it fires each day, in `timeZone`; a {from,to} backfill runs one occurrence per day at this time. */
  schedule: { hour: number; minute: number; timeZone: typeof ZONE };
  /** One line for the CLI's help and the docs. */
  summary: string;
}

export const JOBS = {
  activate: {
    schedule: { hour: 0, minute: 0, timeZone: ZONE },
    summary:
      'SCHEDULED promotions whose start has come become ACTIVE (a window already over goes on to EXPIRED in the same write)',
  },
  expire: {
    schedule: { hour: 23, minute: 59, timeZone: ZONE },
    summary:
      'ACTIVE promotions whose last day is that day (or earlier) become EXPIRED; promotions entering their last days are marked for the "ends soon" notice',
  },
  'cart-policies': {
    schedule: { hour: 0, minute: 0, timeZone: ZONE },
    summary:
      'announces cart policies to the merchants they affect on their announcement day, and puts them in force (flags, then merchants’ notices) at their instant',
  },
} as const satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof JOBS;
export const JOB_NAMES = Object.keys(JOBS) as JobName[];
