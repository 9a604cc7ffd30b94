// Recording merchants (onboarding, corrected onboarding dates) and revoking their promotion.
// Idempotent: the same record twice changes nothing; every write is conditional on what was read.
import { z } from 'zod';
import type { Deps } from '../deps';
import { ConflictError, InputError, NotFoundError, RevocationRefusedError } from '../errors';
import { newPromotion, type Promotion, planCorrection, planRevocation } from '../promotion/lifecycle';
import { onboardedAtSchema, onboardingDate, onboardingInstant, promotionWindow } from '../promotion/window';
import { attempts, type RetryPolicy } from '../retry';
import { merchantIdSchema } from '../store/keys';
import {
  createMerchant,
  type MerchantProfile,
  type MerchantRecords,
  readMerchants,
  replaceProfile,
} from '../store/merchants';
import { applyPromotionChange, getPromotion } from '../store/promotions';
import { CLOCK_SKEW_TEXT, formatInstant, type Instant, instantSchema, pastClockSkew } from '../time';

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

const MAX_ATTEMPTS = 5;
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
  for (const chunk of chunksWithoutRepeats(records, 50)) {
    const current = await readMerchants(
      deps,
      chunk.map((r) => r.merchantId),
    );
    results.push(
      ...(await Promise.all(
        chunk.map((record) =>
          writeRecord(deps, record, current.get(record.merchantId) ?? {}).then(
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
  const window = windowOf(deps, record);
  let current = first;
  for await (const attempt of attempts(WRITE_RETRY)) {
    if (attempt > 1) current = (await readMerchants(deps, [record.merchantId])).get(record.merchantId) ?? {};
    const outcome = await tryWriteRecord(deps, record, window, current);
    if (outcome) return outcome;
  }
  throw new ConflictError(
    `merchant ${record.merchantId}: still conflicting with concurrent changes after ${WRITE_RETRY.attempts} attempts`,
  );
}

/** The window of a validated record; a failure (which validation should make impossible) names the field. */
function windowOf(deps: Deps, record: MerchantRecord) {
  try {
    const onboardedOn = onboardingDate(record.onboardedAt);
    return { onboardedOn, window: promotionWindow(onboardedOn, deps.programStart) };
  } catch (error) {
    throw new InputError(`onboardedAt: no promotion window for it (${(error as Error).message})`);
  }
}

/** One attempt; undefined when someone else wrote first (a failed condition, a transaction conflict). */
async function tryWriteRecord(
  deps: Deps,
  record: MerchantRecord,
  { onboardedOn, window }: ReturnType<typeof windowOf>,
  current: MerchantRecords,
): Promise<RecordOutcome | undefined> {
  if (current.malformed) throw current.malformed; // never write over what cannot be read
  const processedAt = formatInstant(deps.clock());
  const occurredAt = record.occurredAt ?? processedAt;
  const { onboardedAt } = record;
  const { profile, promotion } = current;
  // Records apply in the order they were made, not the order they arrive (EventBridge keeps none).
  if (profile?.occurredAt && occurredAt < profile.occurredAt) return 'stale';

  if (!profile) {
    const fresh = newPromotion(record.merchantId, window, onboardingInstant(onboardedAt), processedAt);
    const newProfile: MerchantProfile = {
      merchantId: record.merchantId,
      onboardedAt,
      onboardedOn,
      categories: record.categories ?? [],
      liveCartSources: record.liveCartSources ?? [],
      version: 1,
      recordedAt: processedAt,
      updatedAt: processedAt,
      occurredAt,
    };
    return (await createMerchant(deps, newProfile, fresh.promotion, fresh.next)) ? 'created' : undefined;
  }

  const nextProfile: MerchantProfile = {
    ...profile,
    onboardedAt: onboardedOn === profile.onboardedOn ? profile.onboardedAt : onboardedAt,
    onboardedOn,
    categories: record.categories ?? profile.categories,
    liveCartSources: record.liveCartSources ?? profile.liveCartSources,
    version: profile.version + 1,
    updatedAt: processedAt,
    occurredAt,
  };
  const correction = promotion && planCorrection(promotion, window, processedAt);
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

  const written = await replaceProfile(
    deps,
    nextProfile,
    profile.version,
    promotion && correction ? { promotion, change: correction } : undefined,
  );
  return written ? outcome : undefined;
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

export interface RevocationResult {
  merchantId: string;
  changed: boolean;
  status: Promotion['status'];
  /** The status before this revocation. */
  previousStatus: Promotion['status'];
  revokedAt: Instant;
  reason: string;
}

/** Revokes a merchant's promotion at an instant, for a reason. Repeating the same revocation changes nothing. */
export async function revokePromotion(
  deps: Deps,
  merchantId: string,
  at: Instant,
  reason: string,
): Promise<RevocationResult> {
  let promotion = await getPromotion(deps, merchantId);
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    if (!promotion) throw new NotFoundError(`no merchant ${merchantId}`);
    const plan = planRevocation(promotion, at, reason, formatInstant(deps.clock()));
    if (plan.kind === 'refused')
      throw new RevocationRefusedError(`cannot revoke merchant ${merchantId}: ${plan.reason}`);
    if (plan.kind === 'unchanged') {
      return {
        merchantId,
        changed: false,
        status: promotion.status,
        previousStatus: promotion.status,
        revokedAt: at,
        reason: promotion.revokeReason ?? reason,
      };
    }
    const result = await applyPromotionChange(deps, promotion, plan.change);
    if (result.applied) {
      return {
        merchantId,
        changed: true,
        status: 'REVOKED',
        previousStatus: promotion.status,
        revokedAt: at,
        reason,
      };
    }
    promotion = result.current;
  }
  throw new ConflictError(`merchant ${merchantId}: too many concurrent changes`);
}
