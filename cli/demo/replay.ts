// The demo: generate a population, import it through the real import path, load the cart-policy
// calendar, then replay the days in the order the schedules fire (shared/jobs/registry.ts) — 00:00
// activate and cart-policies, violations during the day, 23:59 expire — delivering each day's notices
// through the stream.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Deps } from '../../shared/deps';
import { ConflictError } from '../../shared/errors';
import { occurrenceOn } from '../../shared/jobs/input';
import { JOB_NAMES_BY_TIME_OF_DAY, type JobName } from '../../shared/jobs/registry';
import { type RunReport, runJob } from '../../shared/jobs/run';
import { revokePromotion } from '../../shared/merchants/record';
import { type CartFlag, cartPolicyInputSchema, flagTimeline } from '../../shared/policies/policy';
import { listPolicies } from '../../shared/store/policies';
import { promotionStatuses } from '../../shared/store/promotions';
import { type CalendarDate, daysBetween, formatInstant, startOfDay } from '../../shared/time';
import { importMerchants } from '../import/import';
import { announcePolicy } from '../policies/announcements';
import { DEFAULT_CART_POLICIES } from '../policies/calendar';
import { generatePopulation } from './population';

export const DEMO_ONBOARDING = { from: '2020-04-25', to: '2020-10-13' };

export interface ReplayOptions {
  from: CalendarDate;
  to: CalendarDate;
  merchants: number;
  seed: number;
  home: string;
}

export interface DaySummary {
  day: CalendarDate;
  transitions: Record<string, number>;
  notices: Record<string, number>;
  /** Promotions ACTIVE at the end of the day. */
  active: number;
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
  statuses: Record<string, number>;
  flagTimeline: (CartFlag & { since: string })[];
  days: DaySummary[];
  /** True when this replay changed nothing: the range was already replayed with this population. */
  alreadyReplayed: boolean;
  durationMs: number;
}

export interface ReplayHooks {
  /** Delivers the notices the day's writes caused (the stream reader), returning counts by type. */
  deliver(): Promise<{ notices: Record<string, number> }>;
  onDay?(index: number, total: number, day: DaySummary): void;
}

function add(into: Record<string, number>, from: Record<string, number>) {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export async function replay(deps: Deps, options: ReplayOptions, hooks: ReplayHooks): Promise<ReplaySummary> {
  const started = Date.now(); // only for the report's duration; nothing below depends on it
  const population = generatePopulation({
    merchants: options.merchants,
    seed: options.seed,
    onboardFrom: DEMO_ONBOARDING.from,
    onboardTo: DEMO_ONBOARDING.to,
  });
  const dir = join(options.home, 'demo');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `merchants-seed${options.seed}-n${options.merchants}.jsonl`);
  writeFileSync(file, `${population.records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  const imported = await importMerchants(deps, file, 'jsonl');

  const policies = { created: 0, updated: 0, unchanged: 0 };
  for (const policy of DEFAULT_CART_POLICIES)
    policies[await announcePolicy(deps, cartPolicyInputSchema.parse(policy))]++;

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
    flagTimeline: [],
    days: [],
    alreadyReplayed: false,
    durationMs: 0,
  };
  // Notices of the import and the calendar (none are expected) are delivered before day one.
  add(summary.notices, (await hooks.deliver()).notices);

  const days = daysBetween(options.from, options.to);
  const runOnce = async (job: JobName, day: CalendarDate): Promise<RunReport> => {
    const {
      reports: [report],
    } = await runJob(deps, job, { kind: 'asOf', asOf: occurrenceOn(job, day), dryRun: false });
    summary.runs++;
    return report as RunReport;
  };
  let active = 0;
  for (const [index, day] of days.entries()) {
    const transitions: Record<string, number> = {};
    const dayStart = formatInstant(startOfDay(day));
    // The jobs at midnight, then the day's violations, then the later jobs.
    const atMidnight = (job: JobName) => occurrenceOn(job, day) === dayStart;
    for (const job of JOB_NAMES_BY_TIME_OF_DAY.filter(atMidnight)) {
      add(transitions, (await runOnce(job, day)).transitions);
    }
    const dayEnd = formatInstant(startOfDay(day).plus({ days: 1 }));
    let revokedWhileActive = 0;
    for (const v of population.violations.filter((x) => x.at >= dayStart && x.at < dayEnd)) {
      try {
        const result = await revokePromotion(deps, v.merchantId, v.at, v.reason);
        summary.revocations[result.changed ? 'revoked' : 'unchanged']++;
        if (result.changed) transitions.REVOKED = (transitions.REVOKED ?? 0) + 1;
        if (result.changed && result.previousStatus === 'ACTIVE') revokedWhileActive++;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        summary.revocations.refused++; // e.g. a merchant onboarded before the program start
      }
    }
    for (const job of JOB_NAMES_BY_TIME_OF_DAY.filter((job) => !atMidnight(job))) {
      add(transitions, (await runOnce(job, day)).transitions);
    }
    const { notices } = await hooks.deliver();
    active += (transitions.ACTIVE ?? 0) - (transitions.EXPIRED ?? 0) - revokedWhileActive;
    add(summary.transitions, transitions);
    add(summary.notices, notices);
    const daySummary = { day, transitions, notices, active };
    summary.days.push(daySummary);
    hooks.onDay?.(index, days.length, daySummary);
  }
  summary.statuses = await statusCounts(
    deps,
    population.records.map((r) => r.merchantId),
  );
  summary.flagTimeline = flagTimeline(await listPolicies(deps));
  summary.alreadyReplayed =
    imported.created + imported.updated === 0 &&
    policies.created + policies.updated === 0 &&
    Object.keys(summary.transitions).length === 0 &&
    Object.keys(summary.notices).length === 0;
  summary.durationMs = Date.now() - started;
  return summary;
}

/** Counts the promotions of the given merchants by status. */
async function statusCounts(deps: Deps, merchantIds: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const status of (await promotionStatuses(deps, merchantIds)).values()) {
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}
