// Promotion programs as data (rules §4): who is eligible (onboarding dates and categories), the window
// relative to the onboarding date T, and the benefits. The new-merchant fee promotion is one of them;
// the 种子计划 (seed plan) another. Pure: no store, no SDK.
import * as z from 'zod';
import { unlessMissing } from '../errors';
import type { EnrolledProgram } from '../promotion/lifecycle';
import type { PromotionWindow } from '../promotion/window';
import {
  addDays,
  type CalendarDate,
  calendarDateSchema,
  formatInstant,
  type Instant,
  startOfDay,
} from '../time';

export const CAPABILITIES = ['LIVE_CART_ZERO_FOLLOWERS', 'LIVE_TRAFFIC_SUPPORT'] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const programIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Z0-9_]+$/, 'may contain only A–Z, 0–9 and _');

const categorySchema = z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters');

/** What an enrolment gives: a fee cap, capabilities, training. */
export const benefitsSchema = z
  .strictObject({
    feeRate: z.number().min(0, 'must be at least 0').max(1, 'must be at most 1').optional(),
    capabilities: z.array(z.enum(CAPABILITIES)).optional(),
    training: z.literal(true).optional(),
  })
  .refine((b) => b.feeRate !== undefined || (b.capabilities?.length ?? 0) > 0 || b.training, {
    message: 'must give at least one benefit (feeRate, capabilities or training)',
  });

/** A program as an operator announces it (`programs announce <file.json>`), and as stored. */
export const programSchema = z
  .strictObject({
    programId: programIdSchema,
    name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
    eligibility: z
      .strictObject({
        from: calendarDateSchema,
        /** Onboarded before this date (exclusive); absent: no end. */
        until: calendarDateSchema.optional(),
        categories: z.union([z.literal('ALL'), z.array(categorySchema).min(1, 'must name a category')], {
          error: unlessMissing('must be "ALL" or a list of categories'),
        }),
      })
      .refine((e) => e.until === undefined || e.until > e.from, {
        message: 'must be after from',
        path: ['until'],
      }),
    window: z.strictObject({
      startOffsetDays: z.number().int('must be a whole number').min(0, 'must be at least 0').max(366),
      lengthDays: z.number().int('must be a whole number').min(1, 'must be at least 1').max(366),
    }),
    benefits: benefitsSchema,
    /** The source gives no exact date; the one here is assumed and an operator may correct it. */
    dateAssumed: z.boolean().optional(),
  })
  .readonly();
export type Program = z.output<typeof programSchema>;

/** Today's promotion (rules §1) as a program: every merchant onboarded from 2020-05-01, T+2 for 30 days, 1%. */
export const NEW_MERCHANT_FEE: Program = {
  programId: 'NEW_MERCHANT_FEE',
  name: '新入驻商家技术服务费专项优惠',
  eligibility: { from: '2020-05-01', categories: 'ALL' },
  window: { startOffsetDays: 2, lengthDays: 30 },
  benefits: { feeRate: 0.01 },
};

/** Present without any load step; a stored program with the same id overrides one of these. */
export const BUILT_IN_PROGRAMS: readonly Program[] = [
  NEW_MERCHANT_FEE,
  {
    programId: 'SEED_PLAN_2020',
    name: '种子计划',
    // The source says only "July": its first day is assumed.
    eligibility: {
      from: '2020-07-01',
      categories: ['apparel', 'beauty', 'cosmetics', 'home', 'baby', 'pets'],
    },
    window: { startOffsetDays: 2, lengthDays: 30 },
    benefits: {
      feeRate: 0.01,
      capabilities: ['LIVE_CART_ZERO_FOLLOWERS', 'LIVE_TRAFFIC_SUPPORT'],
      training: true,
    },
    dateAssumed: true,
  },
];

/** Whether a merchant onboarded on T with these categories is eligible for the program. */
export function isEligible(
  program: Program,
  onboardedOn: CalendarDate,
  categories: readonly string[],
): boolean {
  const { from, until, categories: scope } = program.eligibility;
  if (onboardedOn < from || (until !== undefined && onboardedOn >= until)) return false;
  return scope === 'ALL' || categories.some((category) => scope.includes(category));
}

/** A program's window for T: `[T+start 00:00, T+start+length 00:00)` in Asia/Shanghai. */
export function programWindow(program: Pick<Program, 'window'>, onboardedOn: CalendarDate) {
  const { startOffsetDays, lengthDays } = program.window;
  const start = startOfDay(addDays(onboardedOn, startOffsetDays));
  const endsBefore = startOfDay(addDays(onboardedOn, startOffsetDays + lengthDays));
  return {
    startsAt: formatInstant(start),
    endsBefore: formatInstant(endsBefore),
    lastDay: addDays(onboardedOn, startOffsetDays + lengthDays - 1),
    days: Math.round(endsBefore.diff(start, 'days').days),
  };
}

/** The programs in effect: the built-in ones, each overridden by a stored one with its id, then the rest stored. */
export function programsInEffect(stored: readonly Program[]): Program[] {
  const byId = new Map<string, Program>(BUILT_IN_PROGRAMS.map((p) => [p.programId, p]));
  for (const program of stored) byId.set(program.programId, program);
  return [...byId.values()];
}

/** What an enrolment records of its program. */
export const enrolledIn = ({ program, version }: ProgramInEffect): EnrolledProgram => ({
  programId: program.programId,
  program: { name: program.name, benefits: program.benefits },
  programVersion: version,
});

/** Today's promotion, as items recorded before programs existed were enrolled in. */
export const NEW_MERCHANT_FEE_ENROLMENT: EnrolledProgram = enrolledIn({
  program: NEW_MERCHANT_FEE,
  status: 'ANNOUNCED',
  version: 0,
  source: 'built-in',
});

/** The window and eligibility of a merchant onboarded on T with these categories, in one program. */
export function enrolmentWindow(
  program: Program,
  onboardedOn: CalendarDate,
  categories: readonly string[],
): PromotionWindow {
  return {
    onboardedOn,
    eligible: isEligible(program, onboardedOn, categories),
    ...programWindow(program, onboardedOn),
  };
}

/** At most this many programs not withdrawn: a new merchant's enrolments are written in one transaction (design §3). */
export const MAX_PROGRAMS = 50;

export const PROGRAM_STATUSES = ['ANNOUNCED', 'WITHDRAWN'] as const;
export type ProgramStatus = (typeof PROGRAM_STATUSES)[number];
export const PROGRAM_CHANGES = ['ANNOUNCED', 'CORRECTED', 'WITHDRAWN'] as const;

/** One change to a stored program; a correction keeps the content it replaced. */
export interface ProgramHistoryEntry {
  status: (typeof PROGRAM_CHANGES)[number];
  processedAt: Instant;
  reason?: string;
  previous?: Program;
}

/** A program as stored: its content exactly as announced, its status, and how it got there. */
export type StoredProgram = Program & {
  status: ProgramStatus;
  /** 1, 2, … (a built-in's content, never stored, counts as version 0). */
  version: number;
  history: ProgramHistoryEntry[];
  withdrawReason?: string;
};

/** A program as the jobs and the CLI see it: a built-in (version 0) or a stored one, and its status. */
export interface ProgramInEffect {
  program: Program;
  /** When the stored program last changed (announced, corrected, withdrawn); absent for a built-in. */
  changedAt?: Instant;
  status: ProgramStatus;
  version: number;
  source: 'built-in' | 'stored';
}
