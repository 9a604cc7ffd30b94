// Recording merchants (onboarding, corrected onboarding dates) and revoking their promotion.
// Idempotent: the same record twice changes nothing; every write is conditional on what was read.
import * as z from 'zod';
import type { Deps } from '../deps';
import { ConflictError, InputError, NotFoundError, RevocationRefusedError } from '../errors';
import { enrolledIn, enrolmentWindow, type ProgramInEffect } from '../programs/program';
import {
  newPromotion,
  type Promotion,
  type PromotionChange,
  planCorrection,
  planRevocation,
} from '../promotion/lifecycle';
import {
  onboardedAtSchema,
  onboardingDate,
  onboardingInstant,
  type PromotionWindow,
} from '../promotion/window';
import { attempts, type RetryPolicy } from '../retry';
import type { ConditionalWrite } from '../store/conditional-write';
import { merchantIdSchema, PROMOTION_PROGRAM } from '../store/keys';
import {
  type EnrolmentChange,
  type MerchantProfile,
  type MerchantRecords,
  newMerchantWrites,
  readMerchants,
  replacedProfileWrites,
  writeMerchant,
} from '../store/merchants';
import { readPrograms } from '../store/programs';
import { applyEnrolmentChanges, readEnrolments } from '../store/promotions';
import {
  type CalendarDate,
  CLOCK_SKEW_TEXT,
  formatInstant,
  type Instant,
  instantSchema,
  pastClockSkew,
} from '../time';

const slug = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "_" or "-"');

const slugList = z
  .array(slug)
  .max(50, 'must list at most 50 entries')
  .transform((list) => [...new Set(list)].sort());

export const merchantRecordSchema = z.strictObject({
  merchantId: merchantIdSchema,
  onboardedAt: onboardedAtSchema,
  /** Product categories the merchant sells in (e.g. cosmetics). */
  categories: slugList.optional(),
  /** Where the products in the merchant's live-room cart come from: `shop` (Douyin shop) or a third party. */
  liveCartSources: slugList.optional(),
  /**
   * When the merchant system made this record (an upstream event's own time). Records are applied in
   * this order: one older than what is recorded is `stale` and changes nothing. Without it, the record
   * is taken as made now (an operator's correction beats older upstream events).
   */
  occurredAt: instantSchema.optional(),
});
export type MerchantRecord = z.output<typeof merchantRecordSchema>;

/** `stale`: the record is older than the one that set what is recorded, so it was ignored. */
export type RecordOutcome = 'created' | 'updated' | 'unchanged' | 'stale';

/** One record's result: its outcome, or the error that stopped it (the others are recorded regardless). */
export type RecordResult = { outcome: RecordOutcome } | { error: unknown };

/** A record that lost a race or met a transaction conflict is read again and retried, after a backoff. */
const WRITE_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 20, maxDelayMs: 1000 };

/** Records one merchant: creates it, corrects it, finds it unchanged, or ignores it as stale. */
export async function recordMerchant(deps: Deps, record: MerchantRecord): Promise<RecordOutcome> {
  const [outcome] = await recordMerchants(deps, [record]);
  return outcome as RecordOutcome;
}

/** As recordMerchantsSettled; once every record has been tried, throws the first failure, if any. */
export async function recordMerchants(deps: Deps, records: MerchantRecord[]): Promise<RecordOutcome[]> {
  const results = await recordMerchantsSettled(deps, records);
  const failed = results.find((r) => 'error' in r);
  if (failed) throw failed.error;
  return results.map((r) => (r as { outcome: RecordOutcome }).outcome);
}

/**
 * The most writes sent in one transaction when a chunk's first attempts are written together
 * (DynamoDB's limit is 100 actions, 4 MB; a merchant's writes are a profile and an enrolment per program).
 */
const TRANSACTION_ACTIONS = 100;

/**
 * Records many merchants, in chunks that are read with one BatchGetItem. A chunk's first attempts are
 * planned from that read and written together, several merchants to a transaction (each merchant's
 * writes whole in one; no merchant twice in a chunk): one request instead of one per merchant. A
 * transaction that fails (a condition, a conflict, anything) commits nothing, and each of its
 * merchants is then retried on its own (read again, planned again), as any lost race is.
 * Returns one result per record, in order: an error while writing one record (a bug, a fault that
 * outlasted its retries) is that record's result and does not stop the others. Only a failure to read
 * a whole chunk (the store itself failing) is thrown.
 */
export async function recordMerchantsSettled(deps: Deps, records: MerchantRecord[]): Promise<RecordResult[]> {
  const results: RecordResult[] = [];
  if (records.length === 0) return results;
  const programs = await readPrograms(deps);
  for (const chunk of chunksWithoutRepeats(records, 50)) {
    const current = await readMerchants(
      deps,
      chunk.map((r) => r.merchantId),
      programs.map((p) => p.program.programId),
    );
    const planned = chunk.map((record): { record: MerchantRecord; plan?: RecordPlan; error?: unknown } => {
      try {
        return { record, plan: planRecord(deps, programs, record, current.get(record.merchantId) ?? {}) };
      } catch (error) {
        return { record, error };
      }
    });
    // Whether each merchant's first writes committed, its transaction shared with others of the chunk.
    const committed = new Map<MerchantRecord, Promise<boolean>>();
    const writing = planned.filter((p) => p.plan && p.plan.writes.length > 0);
    for (const pack of packs(writing, (p) => p.plan?.writes.length ?? 0, TRANSACTION_ACTIONS)) {
      const writes = pack.flatMap((p) => p.plan?.writes ?? []);
      // A merchant alone in its transaction meets its own error; a shared one's is retried alone.
      const written = pack.length === 1 ? writeMerchant(deps, writes) : writeTogether(deps, writes);
      for (const p of pack) committed.set(p.record, written);
    }
    results.push(
      ...(await Promise.all(
        planned.map(async ({ record, plan, error }): Promise<RecordResult> => {
          try {
            if (!plan) throw error;
            if (plan.writes.length === 0 || (await committed.get(record))) return { outcome: plan.outcome };
            return { outcome: await retryAlone(deps, programs, record) };
          } catch (failure) {
            return { error: failure };
          }
        }),
      )),
    );
  }
  return results;
}

/** Writes several merchants' writes all or none; false when it did not commit, for whatever reason. */
async function writeTogether(deps: Deps, writes: ConditionalWrite[]): Promise<boolean> {
  try {
    return await writeMerchant(deps, writes);
  } catch {
    return false; // each merchant, written alone, meets its own error again and reports it
  }
}

/** Groups items in order into packs whose sizes add up to at most `limit`. */
function packs<T>(items: T[], size: (item: T) => number, limit: number): T[][] {
  const out: T[][] = [];
  let pack: T[] = [];
  let used = 0;
  for (const item of items) {
    if (pack.length > 0 && used + size(item) > limit) {
      out.push(pack);
      pack = [];
      used = 0;
    }
    pack.push(item);
    used += size(item);
  }
  if (pack.length > 0) out.push(pack);
  return out;
}

/**
 * The attempts after the first (which was written with its chunk), one merchant on its own: read
 * again, plan, write, after a backoff each.
 */
async function retryAlone(
  deps: Deps,
  programs: readonly ProgramInEffect[],
  record: MerchantRecord,
): Promise<RecordOutcome> {
  const programIds = programs.map((p) => p.program.programId);
  for await (const attempt of attempts(WRITE_RETRY)) {
    if (attempt === 1) continue; // made with the chunk
    const current = (await readMerchants(deps, [record.merchantId], programIds)).get(record.merchantId) ?? {};
    const { outcome, writes } = planRecord(deps, programs, record, current);
    if (writes.length === 0 || (await writeMerchant(deps, writes))) return outcome;
  }
  throw new ConflictError(
    `merchant ${record.merchantId}: still conflicting with concurrent changes after ${WRITE_RETRY.attempts} attempts`,
  );
}

/** What recording a merchant does, planned from what was read: the outcome, once these writes are made. */
interface RecordPlan {
  outcome: RecordOutcome;
  writes: ConditionalWrite[];
}

/** T of a validated record; a failure (which validation should make impossible) names the field. */
function onboardingDateOf(record: MerchantRecord): CalendarDate {
  try {
    return onboardingDate(record.onboardedAt);
  } catch (error) {
    throw new InputError(`onboardedAt: no promotion window for it (${(error as Error).message})`);
  }
}

/**
 * Whether a merchant with no enrolment in the program gets one: everyone in today's promotion
 * (INELIGIBLE included, as always), and in any other program only the eligible, while it enrols.
 */
const enrols = ({ program, status }: ProgramInEffect, window: PromotionWindow) =>
  program.programId === PROMOTION_PROGRAM || (status === 'ANNOUNCED' && window.eligible);

/**
 * Plans one attempt from what was read (throws on a record that cannot be recorded). Its writes are
 * conditional on that read: if any fails, someone else wrote first, and the plan is made again.
 */
function planRecord(
  deps: Deps,
  programs: readonly ProgramInEffect[],
  record: MerchantRecord,
  current: MerchantRecords,
): RecordPlan {
  const now = deps.clock();
  // Producers' clocks drift; a record from the far future would make every later one stale.
  if (record.occurredAt && pastClockSkew(record.occurredAt, now)) {
    throw new InputError(
      `occurredAt: must not be more than ${CLOCK_SKEW_TEXT} after the current time (${formatInstant(now)})`,
    );
  }
  const onboardedOn = onboardingDateOf(record);
  if (current.malformed) throw current.malformed; // never write over what cannot be read
  const processedAt = formatInstant(now);
  const occurredAt = record.occurredAt ?? processedAt;
  const { onboardedAt } = record;
  const { profile } = current;
  const enrolments = current.enrolments ?? new Map<string, Promotion>();
  // Records apply in the order they were made, not the order they arrive (EventBridge keeps none).
  if (profile?.occurredAt && occurredAt < profile.occurredAt) return { outcome: 'stale', writes: [] };
  const categories = record.categories ?? profile?.categories ?? [];
  const windows = programs.map((p) => ({ p, window: enrolmentWindow(p.program, onboardedOn, categories) }));
  const enrolNew = () =>
    windows
      .filter(({ p, window }) => !enrolments.has(p.program.programId) && enrols(p, window))
      .map(({ p, window }) =>
        newPromotion(record.merchantId, window, onboardingInstant(onboardedAt), processedAt, enrolledIn(p)),
      );

  if (!profile) {
    const newProfile: MerchantProfile = {
      merchantId: record.merchantId,
      onboardedAt,
      onboardedOn,
      categories,
      liveCartSources: record.liveCartSources ?? [],
      version: 1,
      recordedAt: processedAt,
      updatedAt: processedAt,
      occurredAt,
    };
    return { outcome: 'created', writes: newMerchantWrites(newProfile, enrolNew()) };
  }

  const nextProfile: MerchantProfile = {
    ...profile,
    onboardedAt: onboardedOn === profile.onboardedOn ? profile.onboardedAt : onboardedAt,
    onboardedOn,
    categories,
    liveCartSources: record.liveCartSources ?? profile.liveCartSources,
    version: profile.version + 1,
    updatedAt: processedAt,
    occurredAt,
  };
  const reason =
    onboardedOn === profile.onboardedOn
      ? `categories changed to ${categories.join(', ') || '(none)'}`
      : `onboarding date corrected from ${profile.onboardedOn} to ${onboardedOn}`;
  const changes: EnrolmentChange[] = [];
  for (const { p, window } of windows) {
    const promotion = enrolments.get(p.program.programId);
    const change = promotion && planCorrection(promotion, window, processedAt, reason);
    if (promotion && change) changes.push({ promotion, change: { ...change, ...snapshotOf(p) } });
  }
  const created = enrolNew();
  const correction = changes.length > 0 || created.length > 0;
  const profileChanged =
    nextProfile.onboardedOn !== profile.onboardedOn ||
    !sameList(nextProfile.categories, profile.categories) ||
    !sameList(nextProfile.liveCartSources, profile.liveCartSources);
  // A newer upstream record that changes nothing still moves the recorded time forward, so that an
  // event made between the two is stale; a record without a time (made "now") that changes nothing
  // writes nothing, so that importing a file again changes nothing.
  const newerTime = record.occurredAt !== undefined && occurredAt > (profile.occurredAt ?? '');
  if (!profileChanged && !correction && !newerTime) return { outcome: 'unchanged', writes: [] };
  return {
    outcome: profileChanged || correction ? 'updated' : 'unchanged',
    writes: replacedProfileWrites(nextProfile, profile.version, changes, created),
  };
}

/** What a change records of the program it was planned with. */
function snapshotOf(p: ProgramInEffect): Pick<PromotionChange, 'program' | 'programVersion'> {
  const { program, programVersion } = enrolledIn(p);
  return { program, programVersion };
}

/** Splits records into chunks of at most `size` in which no merchant appears twice (order kept). */
function* chunksWithoutRepeats(records: MerchantRecord[], size: number): Generator<MerchantRecord[]> {
  let chunk: MerchantRecord[] = [];
  let ids = new Set<string>();
  for (const record of records) {
    if (chunk.length === size || ids.has(record.merchantId)) {
      yield chunk;
      chunk = [];
      ids = new Set();
    }
    chunk.push(record);
    ids.add(record.merchantId);
  }
  if (chunk.length > 0) yield chunk;
}

const sameList = (a: string[], b: string[]) => a.length === b.length && a.every((value, i) => value === b[i]);

/** What a revocation did to one enrolment. */
export interface EnrolmentRevocation {
  programId: string;
  changed: boolean;
  status: Promotion['status'];
  previousStatus: Promotion['status'];
  /** Why this enrolment could not be revoked (not eligible, already over, revoked before). */
  refused?: string;
}

export interface RevocationResult {
  merchantId: string;
  /** Whether any enrolment changed. */
  changed: boolean;
  /** The status of the merchant's NEW_MERCHANT_FEE enrolment (today's promotion), after and before. */
  status: Promotion['status'];
  previousStatus: Promotion['status'];
  revokedAt: Instant;
  reason: string;
  enrolments: EnrolmentRevocation[];
}

/**
 * Revokes every enrolment of a merchant that is not over, at an instant, for a reason (rules §4), in
 * one transaction. Enrolments that cannot be revoked are left as they are; only when none can is it
 * refused. Repeating the same revocation changes nothing.
 */
export async function revokePromotion(
  deps: Deps,
  merchantId: string,
  at: Instant,
  reason: string,
): Promise<RevocationResult> {
  for await (const _attempt of attempts(WRITE_RETRY)) {
    const enrolments = await readEnrolments(deps, merchantId);
    const first = enrolments.find((e) => e.programId === PROMOTION_PROGRAM);
    if (!first) throw new NotFoundError(`no merchant ${merchantId}`);
    const processedAt = formatInstant(deps.clock());
    const planned = enrolments.map((enrolment) => ({
      enrolment,
      plan: planRevocation(enrolment, at, reason, processedAt),
    }));
    const refused = planned.filter(({ plan }) => plan.kind === 'refused');
    if (refused.length === planned.length) {
      const why = planned.find(({ enrolment }) => enrolment === first)?.plan as { reason: string };
      throw new RevocationRefusedError(`cannot revoke merchant ${merchantId}: ${why.reason}`);
    }
    const changes = planned.flatMap(({ enrolment, plan }) =>
      plan.kind === 'change' ? [{ promotion: enrolment, change: plan.change }] : [],
    );
    if (changes.length > 0 && !(await applyEnrolmentChanges(deps, changes))) continue; // lost a race: read again
    const outcomes = planned.map(
      ({ enrolment, plan }): EnrolmentRevocation => ({
        programId: enrolment.programId,
        changed: plan.kind === 'change',
        status: plan.kind === 'change' ? 'REVOKED' : enrolment.status,
        previousStatus: enrolment.status,
        ...(plan.kind === 'refused' ? { refused: plan.reason } : {}),
      }),
    );
    const firstOutcome = outcomes[enrolments.indexOf(first)] as EnrolmentRevocation;
    return {
      merchantId,
      changed: changes.length > 0,
      status: firstOutcome.status,
      previousStatus: firstOutcome.previousStatus,
      revokedAt: at,
      reason: changes.length === 0 && first.revokeReason !== undefined ? first.revokeReason : reason,
      enrolments: outcomes,
    };
  }
  throw new ConflictError(`merchant ${merchantId}: too many concurrent changes`);
}
