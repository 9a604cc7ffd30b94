// The demo: generate a population, import it through the real import path, load the cart-policy
// calendar, then replay the days in the order the schedules fire (shared/jobs/registry.ts) — 00:00
// activate and cart-policies, violations during the day, 23:59 expire — delivering each day's notices
// through the stream. Every program in effect is replayed (today's promotion and the seed plan); the
// summary tells enrolments and notices apart by program.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Deps } from '../../shared/deps';
import { ConflictError } from '../../shared/errors';
import { occurrenceOn } from '../../shared/jobs/input';
import { JOB_NAMES_BY_TIME_OF_DAY, type JobName } from '../../shared/jobs/registry';
import { type RunReport, runJob } from '../../shared/jobs/run';
import { revokePromotion } from '../../shared/merchants/record';
import {
  type CartFlag,
  type FeePolicy,
  flagTimeline,
  type Policy,
  policyInputSchema,
} from '../../shared/policies/policy';
import type { Promotion } from '../../shared/promotion/lifecycle';
import { PROMOTION_PROGRAM } from '../../shared/store/keys';
import { listPolicies } from '../../shared/store/policies';
import { readPrograms } from '../../shared/store/programs';
import { getEnrolments } from '../../shared/store/promotions';
import { type CalendarDate, daysBetween, formatInstant, type Instant, startOfDay } from '../../shared/time';
import { importMerchants } from '../import/import';
import { announcePolicy } from '../policies/announcements';
import { DEFAULT_POLICIES } from '../policies/calendar';
import { generatePopulation } from './population';
import type { StageClock } from './stages';

export const DEMO_ONBOARDING = { from: '2020-04-25', to: '2020-10-13' };

export interface ReplayOptions {
  from: CalendarDate;
  to: CalendarDate;
  merchants: number;
  seed: number;
  home: string;
}

/** Counts by program, then by kind (a status or a notice type). */
export type ByProgram = Record<string, Record<string, number>>;

export interface DaySummary {
  day: CalendarDate;
  transitions: Record<string, number>;
  notices: Record<string, number>;
  /** The day's promotion notices by program and type. */
  noticesByProgram: ByProgram;
  /** Enrolments ACTIVE at the end of the day, every program together. */
  active: number;
  /** Enrolments ACTIVE at the end of the day, by program. */
  activeByProgram: Record<string, number>;
}

/** A program in effect, as the summary and the chart mark it. */
export interface ProgramDates {
  programId: string;
  name: string;
  status: string;
  /** Merchants onboarded from this day on are eligible (and before `until`, if any). */
  from: CalendarDate;
  until?: CalendarDate;
  dateAssumed: boolean;
}

/** A fee policy on the calendar (any kind but CART), as the chart marks it. */
export interface FeePolicyDate {
  policyId: string;
  kind: string;
  effectiveAt: Instant;
  dateAssumed: boolean;
}

export interface ReplaySummary {
  from: CalendarDate;
  to: CalendarDate;
  merchants: number;
  seed: number;
  imported: { created: number; updated: number; unchanged: number };
  policies: { created: number; updated: number; unchanged: number };
  runs: number;
  transitions: Record<string, number>;
  notices: Record<string, number>;
  revocations: { revoked: number; unchanged: number; refused: number };
  /** Today's promotion (NEW_MERCHANT_FEE) by status, as before programs existed. */
  statuses: Record<string, number>;
  programs: ProgramDates[];
  /** Every program's enrolments by status (a program's merchants not eligible have no enrolment). */
  statusesByProgram: ByProgram;
  /** Promotion notices by program and type (cart-policy notices belong to no program). */
  noticesByProgram: ByProgram;
  feePolicies: FeePolicyDate[];
  /** Enrolments ACTIVE at the end of the last day, by program (the chart's lines end there). */
  activeAtEnd: Record<string, number>;
  flagTimeline: (CartFlag & { since: string })[];
  days: DaySummary[];
  /** True when this replay changed nothing: the range was already replayed with this population. */
  alreadyReplayed: boolean;
  durationMs: number;
}

export interface ReplayHooks {
  /** Delivers the notices the day's writes caused (the stream reader), returning counts by type. */
  deliver(): Promise<{ notices: Record<string, number>; noticesByProgram: ByProgram }>;
  onDay?(index: number, total: number, day: DaySummary): void;
  /** Times each stage of the replay (import, each job, violations, delivery, summary). */
  stages?: StageClock;
}

function add(into: Record<string, number>, from: Record<string, number>) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

function addByProgram(into: ByProgram, from: ByProgram) {
  for (const [programId, counts] of Object.entries(from)) {
    into[programId] ??= {};
    add(into[programId], counts);
  }
}

export async function replay(deps: Deps, options: ReplayOptions, hooks: ReplayHooks): Promise<ReplaySummary> {
  const started = Date.now(); // only for the report's duration; nothing below depends on it
  const stage = <T>(name: string, work: () => Promise<T>) =>
    hooks.stages ? hooks.stages.time(name, work) : work();
  const deliver = () => stage('notice delivery', () => hooks.deliver());
  const population = generatePopulation({
    merchants: options.merchants,
    seed: options.seed,
    onboardFrom: DEMO_ONBOARDING.from,
    onboardTo: DEMO_ONBOARDING.to,
  });
  const dir = join(options.home, 'demo');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `merchants-seed${options.seed}-n${options.merchants}.jsonl`);
  // Written aside and moved into place whole: a demo running at once on the same home may be reading it.
  writeFileSync(`${file}.${process.pid}`, `${population.records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  renameSync(`${file}.${process.pid}`, file);
  const imported = await stage('import', () => importMerchants(deps, file, 'jsonl'));

  const policies = { created: 0, updated: 0, unchanged: 0 };
  await stage('policy calendar', async () => {
    for (const policy of DEFAULT_POLICIES)
      policies[await announcePolicy(deps, policyInputSchema.parse(policy))]++;
  });

  const summary: ReplaySummary = {
    from: options.from,
    to: options.to,
    merchants: options.merchants,
    seed: options.seed,
    imported: { created: imported.created, updated: imported.updated, unchanged: imported.unchanged },
    policies,
    runs: 0,
    transitions: {},
    notices: {},
    revocations: { revoked: 0, unchanged: 0, refused: 0 },
    statuses: {},
    programs: [],
    statusesByProgram: {},
    noticesByProgram: {},
    feePolicies: [],
    activeAtEnd: {},
    flagTimeline: [],
    days: [],
    alreadyReplayed: false,
    durationMs: 0,
  };
  // Notices of the import and the calendar (none are expected) are delivered before day one.
  const beforeDayOne = await deliver();
  add(summary.notices, beforeDayOne.notices);
  addByProgram(summary.noticesByProgram, beforeDayOne.noticesByProgram);

  const days = daysBetween(options.from, options.to);
  const runOnce = async (job: JobName, day: CalendarDate): Promise<RunReport> => {
    const {
      reports: [report],
    } = await stage(`job ${job}`, () =>
      runJob(deps, job, { kind: 'asOf', asOf: occurrenceOn(job, day), dryRun: false }),
    );
    summary.runs++;
    return report as RunReport;
  };
  for (const [index, day] of days.entries()) {
    const transitions: Record<string, number> = {};
    const dayStart = formatInstant(startOfDay(day));
    // The jobs at midnight, then the day's violations, then the later jobs.
    const atMidnight = (job: JobName) => occurrenceOn(job, day) === dayStart;
    for (const job of JOB_NAMES_BY_TIME_OF_DAY.filter(atMidnight)) {
      add(transitions, (await runOnce(job, day)).transitions);
    }
    const dayEnd = formatInstant(startOfDay(day).plus({ days: 1 }));
    for (const v of population.violations.filter((x) => x.at >= dayStart && x.at < dayEnd)) {
      try {
        const result = await stage('violations', () => revokePromotion(deps, v.merchantId, v.at, v.reason));
        summary.revocations[result.changed ? 'revoked' : 'unchanged']++;
        // One transition per enrolment revoked (a merchant in both programs loses both).
        const revoked = result.enrolments.filter((e) => e.changed).length;
        if (revoked > 0) transitions.REVOKED = (transitions.REVOKED ?? 0) + revoked;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        summary.revocations.refused++; // e.g. a merchant onboarded before the program start
      }
    }
    for (const job of JOB_NAMES_BY_TIME_OF_DAY.filter((job) => !atMidnight(job))) {
      add(transitions, (await runOnce(job, day)).transitions);
    }
    const { notices, noticesByProgram } = await deliver();
    add(summary.transitions, transitions);
    add(summary.notices, notices);
    addByProgram(summary.noticesByProgram, noticesByProgram);
    // How many were active is read from the enrolments' histories once the replay is over.
    const daySummary: DaySummary = {
      day,
      transitions,
      notices,
      noticesByProgram,
      active: 0,
      activeByProgram: {},
    };
    summary.days.push(daySummary);
    hooks.onDay?.(index, days.length, daySummary);
  }
  await stage('summary', () =>
    summarise(
      deps,
      summary,
      population.records.map((r) => r.merchantId),
    ),
  );
  summary.alreadyReplayed =
    imported.created + imported.updated === 0 &&
    policies.created + policies.updated === 0 &&
    Object.keys(summary.transitions).length === 0 &&
    Object.keys(summary.notices).length === 0;
  summary.durationMs = Date.now() - started;
  return summary;
}

/** What the replay left, read back from the table: programs, enrolments by status, actives per day, the calendar. */
async function summarise(deps: Deps, summary: ReplaySummary, merchantIds: string[]): Promise<void> {
  const programs = await readPrograms(deps);
  summary.programs = programs.map(({ program, status }) => ({
    programId: program.programId,
    name: program.name,
    status,
    from: program.eligibility.from,
    ...(program.eligibility.until ? { until: program.eligibility.until } : {}),
    dateAssumed: program.dateAssumed === true,
  }));
  for (const { program } of programs) {
    const enrolments = [...(await getEnrolments(deps, merchantIds, program.programId)).values()].map((e) => {
      if (e instanceof Error) throw e; // an enrolment the demo cannot read is a bug, not a count to skip
      return e;
    });
    summary.statusesByProgram[program.programId] = countBy(enrolments.map((e) => e.status));
    for (const daySummary of summary.days) {
      const n = activeAtEndOf(daySummary.day, enrolments);
      daySummary.activeByProgram[program.programId] = n;
      daySummary.active += n;
    }
  }
  summary.activeAtEnd = summary.days.at(-1)?.activeByProgram ?? {};
  summary.statuses = summary.statusesByProgram[PROMOTION_PROGRAM] ?? {};
  const calendar = await listPolicies(deps);
  summary.feePolicies = feePolicyDates(calendar);
  summary.flagTimeline = flagTimeline(calendar);
}

function countBy(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

/**
 * How many of these enrolments were ACTIVE at the end of a day, by their histories' effective
 * instants: activated by then, and not expired (effective at the next midnight, written at 23:59)
 * or revoked by then.
 */
export function activeAtEndOf(day: CalendarDate, enrolments: readonly Promotion[]): number {
  const dayEnd = formatInstant(startOfDay(day).plus({ days: 1 }));
  return enrolments.filter(({ history }) => {
    const activated = history.some((h) => h.status === 'ACTIVE' && h.effectiveAt < dayEnd);
    const over = history.some(
      (h) => (h.status === 'EXPIRED' || h.status === 'REVOKED') && h.effectiveAt <= dayEnd,
    );
    return activated && !over;
  }).length;
}

/** The fee policies on the calendar (the chart marks their dates). */
function feePolicyDates(policies: readonly Policy[]): FeePolicyDate[] {
  return policies
    .filter((p): p is FeePolicy => p.kind !== 'CART' && p.status !== 'WITHDRAWN')
    .map((p) => ({
      policyId: p.policyId,
      kind: p.kind,
      effectiveAt: p.effectiveAt,
      dateAssumed: p.dateAssumed === true,
    }))
    .sort((a, b) => a.effectiveAt.localeCompare(b.effectiveAt));
}
