// What the report draws, read from the stored state of any table (the demo's or a real one): the
// programs and the policy calendar (one Query each), every merchant through the onboarded index and its
// enrolments by BatchGet (their histories give the active enrolments per day and the promotion notices),
// each job's runs (its own partition), and the policy notices of the local sink. Never a Scan.
import { existsSync, readFileSync } from 'node:fs';
import type { Deps } from '../../shared/deps';
import { InputError, NotFoundError } from '../../shared/errors';
import { occurrenceOn } from '../../shared/jobs/input';
import { JOB_NAMES, type JobName } from '../../shared/jobs/registry';
import { NOTICE_TYPES, type NoticeType } from '../../shared/notices/notice';
import { type CartFlag, flagTimeline, type Policy } from '../../shared/policies/policy';
import type { HistoryEntry, Promotion } from '../../shared/promotion/lifecycle';
import type { JobRunItem } from '../../shared/store/items';
import { listRuns } from '../../shared/store/job-runs';
import { forEachOnboarded } from '../../shared/store/merchants';
import { listPolicies } from '../../shared/store/policies';
import { readPrograms } from '../../shared/store/programs';
import { getEnrolments } from '../../shared/store/promotions';
import {
  addDays,
  type CalendarDate,
  dateOf,
  daysBetween,
  formatInstant,
  type Instant,
  parseInstant,
  startOfDay,
} from '../../shared/time';

/** The longest range a report draws (ten years of days). */
export const MAX_REPORT_DAYS = 3660;
/** Merchants whose enrolments are read per round of BatchGets. */
const CHUNK = 2000;
/** Bounds that hold every stored instant (the CLI accepts 1970–2199). */
const EARLIEST = '1970-01-01T00:00:00+08:00';
const LATEST = '2200-01-01T00:00:00+08:00';

/** How a scheduled occurrence went, as its job-run item says (or its absence). */
export type RunState = 'ok' | 'failed' | 'incomplete' | 'missing' | 'not-due';

export interface RunDay {
  day: CalendarDate;
  occurrence: Instant;
  state: RunState;
  failed?: number;
  examined?: number;
  changed?: number;
  /** Runs recorded that day at another instant than the schedule's (e.g. run --as-of by hand). */
  offSchedule: number;
}

export interface ReportProgram {
  programId: string;
  name: string;
  status: string;
  from: CalendarDate;
  until?: CalendarDate;
  dateAssumed: boolean;
}

export interface ReportPolicy {
  policyId: string;
  kind: string;
  title: string;
  status: string;
  announcedOn: CalendarDate;
  effectiveAt: Instant;
  dateAssumed: boolean;
  thirdPartyProducts?: string;
}

export interface ReportData {
  from: CalendarDate;
  to: CalendarDate;
  /** Where the range came from: the options, or what the stored state covers. */
  range: 'options' | 'stored';
  days: CalendarDate[];
  programs: ReportProgram[];
  policies: ReportPolicy[];
  flagTimeline: (CartFlag & { since: Instant })[];
  /** Enrolments ACTIVE at the end of each day, by program (one number per day). */
  activeByProgram: Record<string, number[]>;
  /** Notices per day by type (one number per day); promotion notices also by program. */
  notices: Record<NoticeType, number[]>;
  noticesByProgram: Record<string, Partial<Record<NoticeType, number[]>>>;
  /** Every job's scheduled occurrences in the range, a day each. */
  runs: Record<JobName, RunDay[]>;
  /** The enrolments read, by program and current status. */
  statusesByProgram: Record<string, Record<string, number>>;
  /** What was read. `sinkNotices`: policy notices taken from the local sink (null: no sink read). */
  read: {
    merchants: number;
    enrolments: number;
    jobRuns: number;
    policies: number;
    programs: number;
    sinkNotices: number | null;
  };
}

export interface ReportOptions {
  from?: CalendarDate;
  to?: CalendarDate;
  /** The local notice sink (notices.jsonl) to take policy notices from, if any. */
  sinkPath?: string;
  now: Instant;
}

const dayOf = (at: Instant): CalendarDate => dateOf(parseInstant(at));
/** The day an instant just before `at` falls on (an end instant at 00:00 belongs to the day before). */
const dayBefore = (at: Instant): CalendarDate => dateOf(parseInstant(at).minus({ milliseconds: 1 }));

const isPolicyNotice = (type: NoticeType) =>
  type.startsWith('CART_POLICY_') || type.startsWith('XINGTU_FEE_');

/** A promotion notice the state implies: its type, program and the day the job (or operator) caused it. */
interface ImpliedNotice {
  type: NoticeType;
  day: CalendarDate;
}

/**
 * The notices an enrolment's history implies, as the notifier derives them from its writes
 * (shared/notices/notice.ts): entries written together (same processedAt and asOf) are one write; an
 * activation written with its end is not told, nor an expiry not following ACTIVE, nor a correction's
 * revocation; a reminder recorded while ACTIVE is. Each on the day of the run that wrote it (asOf),
 * or of its effective instant for an operator's change (a revocation).
 */
export function impliedNotices(enrolment: Promotion): ImpliedNotice[] {
  const notices: ImpliedNotice[] = [];
  const history = enrolment.history;
  const when = (e: HistoryEntry) => dayOf(e.asOf ?? e.effectiveAt);
  let i = 0;
  let before: string | undefined;
  while (i < history.length) {
    const first = history[i] as HistoryEntry;
    let j = i;
    while (
      j < history.length &&
      history[j]?.processedAt === first.processedAt &&
      history[j]?.asOf === first.asOf
    )
      j++;
    const write = history.slice(i, j);
    const statuses = new Set(write.map((e) => e.status));
    for (const entry of write) {
      if (entry.status === 'ACTIVE' && !statuses.has('EXPIRED') && !statuses.has('REVOKED'))
        notices.push({ type: 'PROMOTION_ACTIVATED', day: when(entry) });
      if (entry.status === 'EXPIRED' && before === 'ACTIVE')
        notices.push({ type: 'PROMOTION_EXPIRED', day: when(entry) });
      if (entry.status === 'REVOKED' && entry.by !== 'correct')
        notices.push({ type: 'PROMOTION_REVOKED', day: when(entry) });
    }
    before = write.at(-1)?.status;
    i = j;
  }
  const { reminder } = enrolment;
  if (reminder) {
    const wasActive = history.some((e) => e.status === 'ACTIVE' && e.processedAt <= reminder.processedAt);
    const endedInThatWrite = history.some(
      (e) => (e.status === 'EXPIRED' || e.status === 'REVOKED') && e.processedAt === reminder.processedAt,
    );
    if (wasActive && !endedInThatWrite)
      notices.push({ type: 'PROMOTION_ENDING_SOON', day: dayOf(reminder.asOf) });
  }
  return notices;
}

/**
 * The days an enrolment was ACTIVE at the end of, as [first, end) day strings (end exclusive): from
 * the day its activation takes effect until the day before its expiry or revocation takes effect
 * (an end at 00:00 is the previous day's end). Undefined if never active at a day's end.
 */
export function activeSpan(enrolment: Promotion): { first: CalendarDate; end?: CalendarDate } | undefined {
  const active = enrolment.history.find((e) => e.status === 'ACTIVE');
  if (!active) return undefined;
  const overAt = enrolment.history
    .filter((e) => e.status === 'EXPIRED' || e.status === 'REVOKED')
    .map((e) => e.effectiveAt)
    .sort()[0];
  const first = dayOf(active.effectiveAt);
  if (overAt === undefined) return { first };
  const end = dayBefore(overAt);
  return end > first ? { first, end } : undefined;
}

/** Every run recorded for each job (each job's partition, one Query). */
async function readRuns(deps: Deps): Promise<Map<JobName, JobRunItem[]>> {
  const entries = await Promise.all(
    JOB_NAMES.map(async (job) => [job, await listRuns(deps, job, EARLIEST, LATEST)] as const),
  );
  return new Map(entries);
}

function runDays(
  job: JobName,
  runs: readonly JobRunItem[],
  days: readonly CalendarDate[],
  now: Instant,
): RunDay[] {
  const byAsOf = new Map(runs.map((r) => [r.asOf, r]));
  const offSchedule = new Map<CalendarDate, number>();
  for (const run of runs) {
    const day = dayOf(run.asOf);
    if (run.asOf !== occurrenceOn(job, day)) offSchedule.set(day, (offSchedule.get(day) ?? 0) + 1);
  }
  return days.map((day) => {
    const occurrence = occurrenceOn(job, day);
    const run = byAsOf.get(occurrence);
    const extra = offSchedule.get(day) ?? 0;
    if (!run)
      return { day, occurrence, state: occurrence <= now ? 'missing' : 'not-due', offSchedule: extra };
    const report = run.report as {
      failed: number;
      complete?: boolean;
      examined?: unknown;
      changed?: unknown;
    };
    const state: RunState = report.complete === false ? 'incomplete' : report.failed > 0 ? 'failed' : 'ok';
    return {
      day,
      occurrence,
      state,
      failed: report.failed,
      ...(typeof report.examined === 'number' ? { examined: report.examined } : {}),
      ...(typeof report.changed === 'number' ? { changed: report.changed } : {}),
      offSchedule: extra,
    };
  });
}

/** The policy notices the local sink holds (each eventId once), with the day its policy's step ran. */
function sinkPolicyNotices(path: string, policies: readonly Policy[]): ImpliedNotice[] {
  if (!existsSync(path)) return [];
  const byId = new Map(policies.map((p) => [p.policyId, p]));
  const seen = new Set<string>();
  const found: ImpliedNotice[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let notice: { eventId?: unknown; type?: unknown; effectiveAt?: unknown; data?: { policyId?: unknown } };
    try {
      notice = JSON.parse(line);
    } catch {
      continue; // a torn last line of an interrupted append
    }
    const type = notice.type as NoticeType;
    if (!NOTICE_TYPES.includes(type) || !isPolicyNotice(type) || typeof notice.eventId !== 'string') continue;
    if (seen.has(notice.eventId)) continue;
    seen.add(notice.eventId);
    const policy = byId.get(String(notice.data?.policyId));
    const effectiveDay = typeof notice.effectiveAt === 'string' ? dayOf(notice.effectiveAt) : undefined;
    let step: Instant | undefined;
    if (type.endsWith('_ANNOUNCED'))
      step = policy?.announced?.asOf ?? (policy ? formatInstant(startOfDay(policy.announcedOn)) : undefined);
    else if (type.endsWith('_IN_FORCE')) step = policy?.history.find((h) => h.status === 'IN_FORCE')?.asOf;
    else step = policy?.withdrawalNotified?.asOf;
    const day = step ? dayOf(step) : effectiveDay;
    if (day) found.push({ type, day });
  }
  return found;
}

/** The range of days the stored state covers: its job runs and the days of the notices it implies. */
function coveredRange(runs: Map<JobName, JobRunItem[]>, eventDays: readonly CalendarDate[]) {
  const days = [...[...runs.values()].flat().map((r) => dayOf(r.asOf)), ...eventDays].sort();
  const first = days[0];
  const last = days.at(-1);
  return first && last ? { from: first, to: last } : undefined;
}

const zeros = (n: number) => Array.from({ length: n }, () => 0);

export async function readReport(deps: Deps, options: ReportOptions): Promise<ReportData> {
  const [programs, policies, runs] = await Promise.all([
    readPrograms(deps),
    listPolicies(deps),
    readRuns(deps),
  ]);
  const onboarded: { merchantId: string; onboardedOn: CalendarDate }[] = [];
  const until = options.to ? addDays(options.to, 1) : undefined;
  await forEachOnboarded(deps, { from: '0000-01-01', ...(until ? { until } : {}) }, (entry) =>
    onboarded.push({ merchantId: entry.merchantId, onboardedOn: entry.onboardedOn }),
  );
  const merchantIds = onboarded.map((m) => m.merchantId).sort();

  // One pass over the enrolments: their spans and implied notices (small), their statuses.
  const spans: { programId: string; first: CalendarDate; end?: CalendarDate }[] = [];
  const events: (ImpliedNotice & { programId?: string })[] = [];
  const statusesByProgram: Record<string, Record<string, number>> = {};
  let enrolments = 0;
  for (const { program } of programs) {
    const counts: Record<string, number> = {};
    for (let i = 0; i < merchantIds.length; i += CHUNK) {
      const found = await getEnrolments(deps, merchantIds.slice(i, i + CHUNK), program.programId);
      for (const enrolment of found.values()) {
        if (enrolment instanceof Error) throw enrolment; // a report drawn around an unreadable item would lie
        enrolments++;
        counts[enrolment.status] = (counts[enrolment.status] ?? 0) + 1;
        const span = activeSpan(enrolment);
        if (span) spans.push({ programId: program.programId, ...span });
        for (const notice of impliedNotices(enrolment))
          events.push({ ...notice, programId: program.programId });
      }
    }
    if (Object.keys(counts).length > 0) statusesByProgram[program.programId] = counts;
  }
  const sinkNotices = options.sinkPath ? sinkPolicyNotices(options.sinkPath, policies) : null;
  events.push(...(sinkNotices ?? []));

  let range: 'options' | 'stored' = 'options';
  let from = options.from;
  let to = options.to;
  if (!from || !to) {
    const covered = coveredRange(
      runs,
      events.map((e) => e.day),
    );
    if (!covered && (!from || !to))
      throw new NotFoundError(
        'nothing stored to draw: no job run and no notice recorded; give --from and --to to draw an empty range',
      );
    if (!options.from && !options.to) range = 'stored';
    from ??= covered?.from as CalendarDate;
    to ??= covered?.to as CalendarDate;
    if (from > to)
      throw new InputError(
        options.from
          ? `--from: ${from} is after the last day the stored state covers (${to})`
          : `--to: ${to} is before the first day the stored state covers (${from})`,
      );
    if (daysBetween(from, to).length > MAX_REPORT_DAYS) {
      if (options.from) to = addDays(from, MAX_REPORT_DAYS - 1);
      else from = addDays(to, -(MAX_REPORT_DAYS - 1));
    }
  }
  const days = daysBetween(from, to);
  const index = new Map(days.map((d, i) => [d, i]));
  const n = days.length;
  /** The index of the first day of the range on or after `day` (n when after the range). */
  const at = (day: CalendarDate) => (day < from ? 0 : day > to ? n : (index.get(day) as number));

  const activeByProgram: Record<string, number[]> = {};
  for (const { program } of programs) activeByProgram[program.programId] = zeros(n);
  const deltas: Record<string, number[]> = {};
  for (const span of spans) {
    deltas[span.programId] ??= zeros(n + 1);
    const d = deltas[span.programId] as number[];
    const start = at(span.first);
    const end = span.end === undefined ? n : at(span.end);
    if (end <= start) continue;
    d[start] = (d[start] ?? 0) + 1;
    d[end] = (d[end] ?? 0) - 1;
  }
  for (const [programId, d] of Object.entries(deltas)) {
    let running = 0;
    activeByProgram[programId] = days.map((_, i) => {
      running += d[i] ?? 0;
      return running;
    });
  }

  const notices = Object.fromEntries(NOTICE_TYPES.map((t) => [t, zeros(n)])) as Record<NoticeType, number[]>;
  const noticesByProgram: ReportData['noticesByProgram'] = {};
  for (const event of events) {
    const i = index.get(event.day);
    if (i === undefined) continue;
    notices[event.type][i] = (notices[event.type][i] ?? 0) + 1;
    if (event.programId) {
      noticesByProgram[event.programId] ??= {};
      const ofProgram = noticesByProgram[event.programId] as Partial<Record<NoticeType, number[]>>;
      ofProgram[event.type] ??= zeros(n);
      const series = ofProgram[event.type] as number[];
      series[i] = (series[i] ?? 0) + 1;
    }
  }

  const runDaysByJob = {} as Record<JobName, RunDay[]>;
  for (const job of JOB_NAMES) runDaysByJob[job] = runDays(job, runs.get(job) ?? [], days, options.now);

  return {
    from,
    to,
    range,
    days,
    programs: programs.map(({ program, status }) => ({
      programId: program.programId,
      name: program.name,
      status,
      from: program.eligibility.from,
      ...(program.eligibility.until ? { until: program.eligibility.until } : {}),
      dateAssumed: program.dateAssumed === true,
    })),
    policies: policies.map((p) => ({
      policyId: p.policyId,
      kind: p.kind,
      title: p.title,
      status: p.status,
      announcedOn: p.announcedOn,
      effectiveAt: p.effectiveAt,
      dateAssumed: p.kind === 'XINGTU_FEE' && p.dateAssumed === true,
      ...(p.kind === 'CART' ? { thirdPartyProducts: p.thirdPartyProducts } : {}),
    })),
    flagTimeline: flagTimeline(policies),
    activeByProgram,
    notices,
    noticesByProgram,
    runs: runDaysByJob,
    statusesByProgram,
    read: {
      merchants: merchantIds.length,
      enrolments,
      jobRuns: [...runs.values()].reduce((a, r) => a + r.length, 0),
      policies: policies.length,
      programs: programs.length,
      sinkNotices: sinkNotices === null ? null : sinkNotices.length,
    },
  };
}
