// Recording merchants (onboarding, corrected onboarding dates) and revoking their promotion.
// Idempotent: the same record twice changes nothing; every write is conditional on what was read.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { Deps } from '../deps';
import { ConflictError, NotFoundError, RevocationRefusedError } from '../errors';
import { newPromotion, type Promotion, planCorrection, planRevocation } from '../promotion/lifecycle';
import { onboardedAtSchema, onboardingDate, onboardingInstant, promotionWindow } from '../promotion/window';
import { merchantIdSchema, merchantPk, PROFILE_SK, PROMOTION_SK } from '../store/keys';
import {
  applyPromotionChange,
  fromItem,
  getPromotion,
  type MerchantProfile,
  profileItem,
  promotionItem,
  promotionUpdate,
} from '../store/promotions';
import { formatInstant, type Instant } from '../time';

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
});
export type MerchantRecord = z.output<typeof merchantRecordSchema>;

export type RecordOutcome = 'created' | 'updated' | 'unchanged';

interface Current {
  profile?: MerchantProfile;
  promotion?: Promotion;
}

const MAX_ATTEMPTS = 5;

/** Records one merchant: creates it, corrects it, or finds it unchanged. */
export async function recordMerchant(deps: Deps, record: MerchantRecord): Promise<RecordOutcome> {
  const [outcome] = await recordMerchants(deps, [record]);
  return outcome as RecordOutcome;
}

/**
 * Records many merchants, in chunks that are read with one BatchGetItem and written concurrently.
 * Returns one outcome per record, in order. A record that loses a race is read again and retried.
 */
export async function recordMerchants(deps: Deps, records: MerchantRecord[]): Promise<RecordOutcome[]> {
  const outcomes: RecordOutcome[] = [];
  for (const chunk of chunksWithoutRepeats(records, 50)) {
    const current = await readCurrent(
      deps,
      chunk.map((r) => r.merchantId),
    );
    outcomes.push(
      ...(await Promise.all(
        chunk.map((record) => writeRecord(deps, record, current.get(record.merchantId) ?? {})),
      )),
    );
  }
  return outcomes;
}

async function writeRecord(deps: Deps, record: MerchantRecord, first: Current): Promise<RecordOutcome> {
  let current = first;
  for (let attempt = 1; ; attempt++) {
    const outcome = await tryWriteRecord(deps, record, current);
    if (outcome) return outcome;
    if (attempt >= MAX_ATTEMPTS)
      throw new ConflictError(`merchant ${record.merchantId}: too many concurrent changes`);
    current = (await readCurrent(deps, [record.merchantId])).get(record.merchantId) ?? {};
  }
}

/** One attempt; undefined when a condition failed because someone else wrote first. */
async function tryWriteRecord(
  deps: Deps,
  record: MerchantRecord,
  current: Current,
): Promise<RecordOutcome | undefined> {
  const processedAt = formatInstant(deps.clock());
  const onboardedOn = onboardingDate(record.onboardedAt);
  const window = promotionWindow(onboardedOn, deps.programStart);
  const { onboardedAt } = record;
  const { profile, promotion } = current;

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
    };
    return (await transact(deps, [
      {
        Put: {
          TableName: deps.tableName,
          Item: profileItem(newProfile),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Put: {
          TableName: deps.tableName,
          Item: promotionItem(fresh.promotion, fresh.due),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ]))
      ? 'created'
      : undefined;
  }

  const nextProfile: MerchantProfile = {
    ...profile,
    onboardedAt: onboardedOn === profile.onboardedOn ? profile.onboardedAt : onboardedAt,
    onboardedOn,
    categories: record.categories ?? profile.categories,
    liveCartSources: record.liveCartSources ?? profile.liveCartSources,
    version: profile.version + 1,
    updatedAt: processedAt,
  };
  const correction = promotion && planCorrection(promotion, window, processedAt);
  const profileChanged =
    nextProfile.onboardedOn !== profile.onboardedOn ||
    !sameList(nextProfile.categories, profile.categories) ||
    !sameList(nextProfile.liveCartSources, profile.liveCartSources);
  if (!profileChanged && !correction) return 'unchanged';

  const putProfile = {
    TableName: deps.tableName,
    Item: profileItem(nextProfile),
    ConditionExpression: 'version = :version',
    ExpressionAttributeValues: { ':version': profile.version },
  };
  if (!promotion || !correction) {
    try {
      await deps.db.send(new PutCommand(putProfile));
      return 'updated';
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }
  return (await transact(deps, [
    { Put: putProfile },
    { Update: { TableName: deps.tableName, ...promotionUpdate(promotion, correction) } },
  ]))
    ? 'updated'
    : undefined;
}

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/** All or nothing; false when a condition failed. */
async function transact(deps: Deps, items: TransactItems): Promise<boolean> {
  try {
    await deps.db.send(new TransactWriteCommand({ TransactItems: items }));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

function isConditionFailure(error: unknown): boolean {
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).some((reason) => reason.Code === 'ConditionalCheckFailed');
  }
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

async function readCurrent(deps: Deps, merchantIds: string[]): Promise<Map<string, Current>> {
  const current = new Map<string, Current>();
  let keys: Record<string, unknown>[] = merchantIds.flatMap((id) => [
    { pk: merchantPk(id), sk: PROFILE_SK },
    { pk: merchantPk(id), sk: PROMOTION_SK },
  ]);
  while (keys.length > 0) {
    const result = await deps.db.send(
      new BatchGetCommand({ RequestItems: { [deps.tableName]: { Keys: keys, ConsistentRead: true } } }),
    );
    for (const item of result.Responses?.[deps.tableName] ?? []) {
      const id = String(item.merchantId);
      const entry = current.get(id) ?? {};
      if (item.sk === PROFILE_SK) entry.profile = fromItem<MerchantProfile>(item);
      else entry.promotion = fromItem<Promotion>(item);
      current.set(id, entry);
    }
    keys = result.UnprocessedKeys?.[deps.tableName]?.Keys ?? [];
  }
  return current;
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
