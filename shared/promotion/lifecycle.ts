// The promotion's lifecycle as pure functions of its recorded facts and an instant (rules §1).
// Jobs and recorders decide here what should change; the repository only writes it.
import { memoize } from '../memoize';
import { CAPABILITIES, type Capability, NEW_MERCHANT_FEE_ENROLMENT, type Program } from '../programs/program';
import { addDays, dateOf, formatInstant, type Instant, parseInstant, startOfDay } from '../time';
import type { PromotionWindow } from './window';

export const PROMOTION_STATUSES = ['INELIGIBLE', 'SCHEDULED', 'ACTIVE', 'EXPIRED', 'REVOKED'] as const;
export type PromotionStatus = (typeof PROMOTION_STATUSES)[number];

/**
 * Who made a change: a job, or a recording operation. `enrol` is the activate job enrolling a
 * merchant recorded before its program was announced; `program` a program's correction.
 */
export const CHANGE_SOURCES = [
  'activate',
  'expire',
  'record',
  'correct',
  'revoke',
  'enrol',
  'program',
] as const;
export type ChangeSource = (typeof CHANGE_SOURCES)[number];

/**
 * The step a promotion waits for: its start (ACTIVATE, by the activate job), the "ends soon"
 * reminder (REMIND) and its end (EXPIRE), both by the expire job.
 */
export type NextAction = 'ACTIVATE' | 'REMIND' | 'EXPIRE';

/** What a promotion waits for next, and from when it is due. The store files it where its job looks. */
export interface NextStep {
  action: NextAction;
  at: Instant;
}

export interface HistoryEntry {
  status: PromotionStatus;
  /** When the change takes effect in the promotion's own terms (e.g. startsAt for ACTIVE). */
  effectiveAt: Instant;
  /** When the system wrote it (wall clock of the writer). */
  processedAt: Instant;
  /** The instant the writing job worked as of; absent for recording operations. */
  asOf?: Instant;
  by: ChangeSource;
  reason?: string;
}

/** The "ends in 3 days" reminder, recorded once on the promotion. */
export interface Reminder {
  effectiveAt: Instant;
  processedAt: Instant;
  asOf: Instant;
}

/**
 * What a merchant was enrolled in: the program's id, and the name and benefits its notices, quotes and
 * capabilities read (a snapshot, so a redelivered notice says what the first one said).
 */
export interface EnrolledProgram {
  programId: string;
  program: Pick<Program, 'name' | 'benefits'>;
  /** The stored program version the enrolment was computed from (0: the built-in one). */
  programVersion: number;
}

/** One merchant's enrolment in one program (the new-merchant fee promotion is the first program). */
export interface Promotion extends PromotionWindow, EnrolledProgram {
  merchantId: string;
  status: PromotionStatus;
  version: number;
  history: HistoryEntry[];
  revokedAt?: Instant;
  revokeReason?: string;
  reminder?: Reminder;
}

/** A planned change to one promotion, applied with a condition on the version it was planned from. */
export interface PromotionChange {
  status: PromotionStatus;
  entries: HistoryEntry[];
  window?: PromotionWindow;
  reminder?: Reminder | null; // null removes it
  revoked?: { at: Instant; reason: string };
  /** A corrected program's name and benefits, and the version they come from. */
  program?: EnrolledProgram['program'];
  programVersion?: number;
  /** What the promotion waits for after the change, or null when it waits for nothing. */
  next: NextStep | null;
}

export const REMINDER_DAYS_BEFORE_END = 3;

/** Start of the promotion's last REMINDER_DAYS_BEFORE_END days: when "ends soon" is due. */
export function remindAtOf(window: Pick<PromotionWindow, 'endsBefore'>): Instant {
  return reminderInstant(window.endsBefore);
}

// A day's cohort shares its instants: the date arithmetic is done once per distinct value, not per item.
const reminderInstant = memoize((endsBefore: Instant) =>
  formatInstant(parseInstant(endsBefore).minus({ days: REMINDER_DAYS_BEFORE_END })),
);

/** The promotion after a planned change, as the repository's write leaves it (dry runs project with it). */
export function afterChange(promotion: Promotion, change: PromotionChange): Promotion {
  const next: Promotion = {
    ...promotion,
    ...change.window,
    status: change.status,
    version: promotion.version + 1,
    history: [...promotion.history, ...change.entries],
  };
  if (change.reminder === null) delete next.reminder;
  else if (change.reminder) next.reminder = change.reminder;
  if (change.revoked)
    Object.assign(next, { revokedAt: change.revoked.at, revokeReason: change.revoked.reason });
  if (change.program) next.program = change.program;
  if (change.programVersion !== undefined) next.programVersion = change.programVersion;
  return next;
}

/** The status rules §1 gives a promotion at an instant. Orders are priced by the same facts. */
export function statusAt(promotion: Promotion, at: Instant): PromotionStatus {
  if (!promotion.eligible) return 'INELIGIBLE';
  if (promotion.revokedAt !== undefined && promotion.revokedAt <= at) return 'REVOKED';
  if (at < promotion.startsAt) return 'SCHEDULED';
  if (at < promotion.endsBefore) return 'ACTIVE';
  return 'EXPIRED';
}

/**
 * The capabilities in force for a merchant at an instant (rules §4): those of every enrolment active
 * then (eligible, inside its window, not revoked before it), each once, in a fixed order.
 */
export function capabilitiesAt(enrolments: readonly Promotion[], at: Instant): Capability[] {
  const inForce = new Set<Capability>();
  for (const enrolment of enrolments) {
    if (statusAt(enrolment, at) !== 'ACTIVE') continue;
    for (const capability of enrolment.program.benefits.capabilities ?? []) inForce.add(capability);
  }
  return CAPABILITIES.filter((capability) => inForce.has(capability));
}

/**
 * The expire job runs at 23:59 and settles the whole calendar day of its asOf: everything whose
 * window (or reminder) falls due by the start of the next day.
 */
export const endOfDayCutoff = memoize(
  (asOf: Instant): Instant => formatInstant(startOfDay(addDays(dateOf(parseInstant(asOf)), 1))),
);

/** What an ACTIVE promotion waits for next: the reminder if it is still ahead of the day of `asOf`. */
function nextWhileActive(promotion: Promotion, asOf: Instant): NextStep {
  const remindAt = remindAtOf(promotion);
  const remindLater = promotion.reminder === undefined && remindAt > endOfDayCutoff(asOf);
  return remindLater ? { action: 'REMIND', at: remindAt } : { action: 'EXPIRE', at: promotion.endsBefore };
}

export interface JobContext {
  asOf: Instant;
  processedAt: Instant;
}

/**
 * activate (00:00): a SCHEDULED promotion whose start has come becomes ACTIVE; if its whole window
 * is already behind asOf it goes on to EXPIRED in the same write, both effective instants recorded.
 */
export function planActivation(promotion: Promotion, ctx: JobContext): PromotionChange | undefined {
  if (promotion.status !== 'SCHEDULED' || promotion.startsAt > ctx.asOf) return undefined;
  const stamp = { processedAt: ctx.processedAt, asOf: ctx.asOf, by: 'activate' as const };
  const entries: HistoryEntry[] = [{ status: 'ACTIVE', effectiveAt: promotion.startsAt, ...stamp }];
  if (promotion.endsBefore <= ctx.asOf) {
    entries.push({ status: 'EXPIRED', effectiveAt: promotion.endsBefore, ...stamp });
    return { status: 'EXPIRED', entries, next: null };
  }
  return { status: 'ACTIVE', entries, next: nextWhileActive(promotion, ctx.asOf) };
}

/**
 * expire (23:59): an ACTIVE promotion whose last day is the day of asOf (or earlier) becomes
 * EXPIRED, effective at endsBefore; one entering its last REMINDER_DAYS_BEFORE_END days gets its reminder recorded.
 */
export function planExpiry(promotion: Promotion, ctx: JobContext): PromotionChange | undefined {
  if (promotion.status !== 'ACTIVE') return undefined;
  const cutoff = endOfDayCutoff(ctx.asOf);
  if (promotion.endsBefore <= cutoff) {
    const entry: HistoryEntry = {
      status: 'EXPIRED',
      effectiveAt: promotion.endsBefore,
      processedAt: ctx.processedAt,
      asOf: ctx.asOf,
      by: 'expire',
    };
    return { status: 'EXPIRED', entries: [entry], next: null };
  }
  const remindAt = remindAtOf(promotion);
  if (promotion.reminder === undefined && remindAt <= cutoff) {
    const reminder = { effectiveAt: remindAt, processedAt: ctx.processedAt, asOf: ctx.asOf };
    return {
      status: 'ACTIVE',
      entries: [],
      reminder,
      next: { action: 'EXPIRE', at: promotion.endsBefore },
    };
  }
  return undefined;
}

/** The promotion as first recorded for a merchant (by default, in the new-merchant fee program). */
export function newPromotion(
  merchantId: string,
  window: PromotionWindow,
  onboardedAt: Instant,
  processedAt: Instant,
  enrolled: EnrolledProgram = NEW_MERCHANT_FEE_ENROLMENT,
  /** Who enrols it: the recorder, or the activate job for a program announced later (with its asOf). */
  stamp: Pick<HistoryEntry, 'by' | 'asOf'> = { by: 'record' },
): { promotion: Promotion; next: NextStep | null } {
  const status: PromotionStatus = window.eligible ? 'SCHEDULED' : 'INELIGIBLE';
  const promotion: Promotion = {
    merchantId,
    ...window,
    ...enrolled,
    status,
    version: 1,
    history: [{ status, effectiveAt: onboardedAt, processedAt, ...stamp }],
  };
  return { promotion, next: status === 'SCHEDULED' ? { action: 'ACTIVATE', at: window.startsAt } : null };
}

/**
 * A corrected onboarding date (the platform record prevails), changed categories or a corrected
 * program recompute the window. A promotion that is not revoked starts over as SCHEDULED (or
 * INELIGIBLE), and the next activate run moves it to the state the new window gives at its asOf.
 * A revoked promotion stays revoked, with the new window.
 */
export function planCorrection(
  promotion: Promotion,
  window: PromotionWindow,
  processedAt: Instant,
  reason = `onboarding date corrected from ${promotion.onboardedOn} to ${window.onboardedOn}`,
): PromotionChange | undefined {
  const same =
    window.onboardedOn === promotion.onboardedOn &&
    window.eligible === promotion.eligible &&
    window.startsAt === promotion.startsAt &&
    window.endsBefore === promotion.endsBefore;
  if (same) return undefined;
  const status: PromotionStatus =
    promotion.status === 'REVOKED' ? 'REVOKED' : window.eligible ? 'SCHEDULED' : 'INELIGIBLE';
  return {
    status,
    window,
    reminder: null,
    entries: [{ status, effectiveAt: processedAt, processedAt, by: 'correct', reason }],
    next: status === 'SCHEDULED' ? { action: 'ACTIVATE', at: window.startsAt } : null,
  };
}

/**
 * A corrected program's new name or benefits for an enrolment whose window did not move: only the
 * snapshot changes, the enrolment waits for what it waited for. One over keeps what it had, so that
 * a quote of a past order never changes.
 */
export function planSnapshot(
  promotion: Promotion,
  enrolled: Omit<EnrolledProgram, 'programId'>,
  asOf: Instant,
): PromotionChange | undefined {
  if (promotion.status === 'EXPIRED' || promotion.status === 'REVOKED') return undefined;
  const next: NextStep | null =
    promotion.status === 'SCHEDULED'
      ? { action: 'ACTIVATE', at: promotion.startsAt }
      : promotion.status === 'ACTIVE'
        ? nextWhileActive(promotion, asOf)
        : null;
  return { status: promotion.status, entries: [], next, ...enrolled };
}

export type RevocationPlan =
  | { kind: 'change'; change: PromotionChange }
  | { kind: 'unchanged' }
  | { kind: 'refused'; reason: string };

/**
 * Revocation for a violation takes effect at its own instant; orders before it keep the rate.
 * Revoking twice at the same instant changes nothing; a promotion can be revoked only while some
 * part of its window is still at or after the revocation instant. A promotion still SCHEDULED
 * although its start is before the revocation (activate had not reached it yet) was ACTIVE from its
 * start by the rules: the same write records that ACTIVE entry, effective at the start, before
 * REVOKED, so the history says what the merchant had.
 */
export function planRevocation(
  promotion: Promotion,
  at: Instant,
  reason: string,
  processedAt: Instant,
): RevocationPlan {
  if (promotion.status === 'INELIGIBLE') return { kind: 'refused', reason: 'the merchant is not eligible' };
  if (promotion.status === 'REVOKED') {
    return promotion.revokedAt === at
      ? { kind: 'unchanged' }
      : { kind: 'refused', reason: `already revoked at ${promotion.revokedAt}` };
  }
  if (at >= promotion.endsBefore) {
    return { kind: 'refused', reason: `the promotion ended at ${promotion.endsBefore}, before ${at}` };
  }
  const entries: HistoryEntry[] = [];
  if (promotion.status === 'SCHEDULED' && promotion.startsAt < at) {
    entries.push({
      status: 'ACTIVE',
      effectiveAt: promotion.startsAt,
      processedAt,
      by: 'revoke',
      reason: 'active from its start until the revocation; recorded with it (activate had not run yet)',
    });
  }
  entries.push({ status: 'REVOKED', effectiveAt: at, processedAt, by: 'revoke', reason });
  return { kind: 'change', change: { status: 'REVOKED', entries, revoked: { at, reason }, next: null } };
}
