// Reading and writing merchants and their promotion. Every write is conditional on the version it
// was planned from, so concurrent or repeated writers can never both apply a change.
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import type { Promotion, PromotionChange } from '../promotion/lifecycle';
import type { CalendarDate, Instant } from '../time';
import { isLostRace, itemAfterLostRace } from './conditional-write';
import { audienceKey, type DueKey, merchantPk, PROFILE_SK, PROMOTION_SK } from './keys';

export interface MerchantProfile {
  merchantId: string;
  /** The onboarding as recorded (a date, or an instant normalised to +08:00). */
  onboardedAt: string;
  onboardedOn: CalendarDate;
  categories: string[];
  liveCartSources: string[];
  version: number;
  recordedAt: Instant;
  updatedAt: Instant;
  /**
   * When the record that set this profile was made (an upstream event's own time, or when an operator
   * recorded it): older records are ignored as stale. Absent on profiles recorded before it existed.
   */
  occurredAt?: Instant;
}

const KEY_ATTRIBUTES = ['pk', 'sk', 'type', 'due_pk', 'due_sk', 'aud_pk', 'aud_sk'] as const;

/** Strips the key layout from a stored item, leaving the domain record. */
export function fromItem<T>(item: Record<string, unknown>): T {
  const record = { ...item };
  for (const key of KEY_ATTRIBUTES) delete record[key];
  return record as T;
}

export function profileItem(profile: MerchantProfile): Record<string, unknown> {
  return {
    pk: merchantPk(profile.merchantId),
    sk: PROFILE_SK,
    type: 'MERCHANT',
    ...profile,
    ...audienceKey(profile.merchantId, profile.liveCartSources),
  };
}

export function promotionItem(promotion: Promotion, due: DueKey | null): Record<string, unknown> {
  return { pk: merchantPk(promotion.merchantId), sk: PROMOTION_SK, type: 'PROMOTION', ...promotion, ...due };
}

export interface MerchantView {
  profile: MerchantProfile;
  promotion: Promotion | undefined;
  /** The merchant's notice state for each cart policy that reached it. */
  cartPolicies: Record<string, unknown>[];
}

export async function getMerchant(deps: Deps, merchantId: string): Promise<MerchantView | undefined> {
  const { Items = [] } = await deps.db.send(
    new QueryCommand({
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': merchantPk(merchantId) },
      ConsistentRead: true,
    }),
  );
  const profile = Items.find((item) => item.sk === PROFILE_SK);
  if (!profile) return undefined;
  const promotion = Items.find((item) => item.sk === PROMOTION_SK);
  return {
    profile: fromItem<MerchantProfile>(profile),
    promotion: promotion ? fromItem<Promotion>(promotion) : undefined,
    cartPolicies: Items.filter((item) => item.type === 'MERCHANT_CART_POLICY').map((item) => fromItem(item)),
  };
}

export async function getPromotion(deps: Deps, merchantId: string): Promise<Promotion | undefined> {
  const { Item } = await deps.db.send(
    new GetCommand({
      TableName: deps.tableName,
      Key: { pk: merchantPk(merchantId), sk: PROMOTION_SK },
      ConsistentRead: true,
    }),
  );
  return Item ? fromItem<Promotion>(Item) : undefined;
}

/** The UpdateItem parameters that apply a planned change, conditional on the planned-from version. */
export function promotionUpdate(promotion: Promotion, change: PromotionChange) {
  const names: Record<string, string> = { '#status': 'status', '#version': 'version' };
  const values: Record<string, unknown> = {
    ':status': change.status,
    ':version': promotion.version,
    ':next': promotion.version + 1,
  };
  const set = ['#status = :status', '#version = :next'];
  const remove: string[] = [];
  const assign = (name: string, value: unknown) => {
    names[`#${name}`] = name;
    values[`:${name}`] = value;
    set.push(`#${name} = :${name}`);
  };
  if (change.entries.length > 0) {
    names['#history'] = 'history';
    values[':entries'] = change.entries;
    set.push('#history = list_append(#history, :entries)');
  }
  if (change.window) {
    for (const [name, value] of Object.entries(change.window)) assign(name, value);
  }
  if (change.reminder === null) remove.push('reminder');
  else if (change.reminder) assign('reminder', change.reminder);
  if (change.revoked) {
    assign('revokedAt', change.revoked.at);
    assign('revokeReason', change.revoked.reason);
  }
  if (change.due) {
    assign('due_pk', change.due.due_pk);
    assign('due_sk', change.due.due_sk);
  } else remove.push('due_pk', 'due_sk');
  return {
    Key: { pk: merchantPk(promotion.merchantId), sk: PROMOTION_SK },
    UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ConditionExpression: '#version = :version',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

export type ApplyResult = { applied: true } | { applied: false; current: Promotion | undefined };

/**
 * Applies a change if the promotion is still at the version it was planned from. On a lost race it
 * returns the item as it is now (from the failed condition, no extra read) so the caller can re-plan.
 */
export async function applyPromotionChange(
  deps: Deps,
  promotion: Promotion,
  change: PromotionChange,
): Promise<ApplyResult> {
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        ...promotionUpdate(promotion, change),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { applied: true };
  } catch (error) {
    if (!isLostRace(error)) throw error;
    const current = itemAfterLostRace(error);
    return { applied: false, current: current ? fromItem<Promotion>(current) : undefined };
  }
}
