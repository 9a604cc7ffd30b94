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
import { merchantIdSchema, PROMOTION_PROGRAM } from '../store/keys';
import {
  createMerchant,
  type EnrolmentChange,
  type MerchantProfile,
  type MerchantRecords,
  readMerchants,
  replaceProfile,
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
 * Records many merchants, in chunks that are read with one BatchGetItem and written concurrently.
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
    results.push(
      ...(await Promise.all(
        chunk.map((record) =>
          writeRecord(deps, programs, record, current.get(record.merchantId) ?? {}).then(
            (outcome): RecordResult => ({ outcome }),
            (error: unknown): RecordResult => ({ error }),
          ),
        ),
      )),
    );
  }
  return results;
}

async function writeRecord(
  deps: Deps,
  programs: readonly ProgramInEffect[],
  record: MerchantRecord,
  first: MerchantRecords,
): Promise<RecordOutcome> {
  // What does not depend on the stored state is settled once, not on every attempt.
  const now = deps.clock();
  // Producers' clocks drift; a record from the far future would make every later one stale.
  if (record.occurredAt && pastClockSkew(record.occurredAt, now)) {
    throw new InputError(
      `occurredAt: must not be more than ${CLOCK_SKEW_TEXT} after the current time (${formatInstant(now)})`,
    );
  }
  const onboardedOn = onboardingDateOf(record);
  const programIds = programs.map((p) => p.program.programId);
  let current = first;
  for await (const attempt of attempts(WRITE_RETRY)) {
    if (attempt > 1) {
      current = (await readMerchants(deps, [record.merchantId], programIds)).get(record.merchantId) ?? {};
    }
    const outcome = await tryWriteRecord(deps, programs, record, onboardedOn, current);
    if (outcome) return outcome;
  }
  throw new ConflictError(
    `merchant ${record.merchantId}: still conflicting with concurrent changes after ${WRITE_RETRY.attempts} attempts`,
  );
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

/** One attempt; undefined when someone else wrote first (a failed condition, a transaction conflict). */
async function tryWriteRecord(
  deps: Deps,
  programs: readonly ProgramInEffect[],
  record: MerchantRecord,
  onboardedOn: CalendarDate,
  current: MerchantRecords,
): Promise<RecordOutcome | undefined> {
  if (current.malformed) throw current.malformed; // never write over what cannot be read
  const processedAt = formatInstant(deps.clock());
  const occurredAt = record.occurredAt ?? processedAt;
  const { onboardedAt } = record;
  const { profile } = current;
  const enrolments = current.enrolments ?? new Map<string, Promotion>();
  // Records apply in the order they were made, not the order they arrive (EventBridge keeps none).
  if (profile?.occurredAt && occurredAt < profile.occurredAt) return 'stale';
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
    return (await createMerchant(deps, newProfile, enrolNew())) ? 'created' : undefined;
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
  if (!profileChanged && !correction && !newerTime) return 'unchanged';
  const outcome = profileChanged || correction ? 'updated' : 'unchanged';

  const written = await replaceProfile(deps, nextProfile, profile.version, changes, created);
  return written ? outcome : undefined;
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
