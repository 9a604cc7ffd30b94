// The repository of merchants' notice states: one item per merchant and cart policy, beside the
// merchant's profile. Moving a state is what causes its notice (through the stream), so every move is
// conditional: a re-run or an overlapping run never moves it twice.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import type { MerchantPolicyNotice, PriorNoticeState } from '../policies/policy';
import type { Instant } from '../time';
import { type Condition, setIf } from './conditional-write';
import { readRecord } from './items';
import { MERCHANT_CART_POLICY_TYPE, noticeStateKey } from './keys';

/** A merchant's notice state for a policy, read consistently; undefined if the policy never reached them. */
export async function getNoticeState(
  deps: Deps,
  merchantId: string,
  policyId: string,
): Promise<MerchantPolicyNotice | undefined> {
  const { Item } = await deps.db.send(
    new GetCommand({
      TableName: deps.tableName,
      Key: noticeStateKey(merchantId, policyId),
      ConsistentRead: true,
    }),
  );
  return Item ? readRecord(MERCHANT_CART_POLICY_TYPE, Item) : undefined;
}

/**
 * Moves a merchant's notice state to `state` if the stored one is one of `priors` (the same rule
 * `followsOneOf` decides on a state as read); false if it was not.
 */
export function moveNoticeState(
  deps: Deps,
  state: MerchantPolicyNotice,
  priors: readonly PriorNoticeState[],
): Promise<boolean> {
  return setIf(
    deps,
    noticeStateKey(state.merchantId, state.policyId),
    { type: MERCHANT_CART_POLICY_TYPE, ...state },
    priorCondition(priors, state.effectiveAt),
  );
}

/** `priors` as a DynamoDB condition on the stored notice state item. */
export function priorCondition(priors: readonly PriorNoticeState[], effectiveAt: Instant): Condition {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const clauses = priors.map((prior) => {
    if (prior === 'UNTOLD') return 'attribute_not_exists(pk)';
    const status = `:${prior.status.toLowerCase()}`;
    names['#status'] = 'status';
    values[status] = prior.status;
    if (!prior.dateChanged) return `#status = ${status}`;
    names['#effectiveAt'] = 'effectiveAt';
    values[':effectiveAt'] = effectiveAt;
    return `(#status = ${status} AND #effectiveAt <> :effectiveAt)`;
  });
  return { expression: clauses.join(' OR '), names, values };
}
