// The repository of merchants' notice states: one item per merchant and policy (cart policies at
// `CART_POLICY#<id>`, fee policies at `FEE_POLICY#<id>`), beside the merchant's profile. Moving a state is what causes its notice (through the stream), so every move is
// conditional: a re-run or an overlapping run never moves it twice.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import type { MerchantFeePolicyNotice, MerchantPolicyNotice, PriorNoticeState } from '../policies/policy';
import type { Instant } from '../time';
import { type Condition, setIf } from './conditional-write';
import { readRecord } from './items';
import {
  feeNoticeStateKey,
  type ItemKey,
  MERCHANT_CART_POLICY_TYPE,
  MERCHANT_FEE_POLICY_TYPE,
  noticeStateKey,
} from './keys';

async function getItem(deps: Deps, key: ItemKey): Promise<Record<string, unknown> | undefined> {
  return (await deps.db.send(new GetCommand({ TableName: deps.tableName, Key: key, ConsistentRead: true })))
    .Item;
}

/** A merchant's notice state for a policy, read consistently; undefined if the policy never reached them. */
export async function getNoticeState(
  deps: Deps,
  merchantId: string,
  policyId: string,
): Promise<MerchantPolicyNotice | undefined> {
  const item = await getItem(deps, noticeStateKey(merchantId, policyId));
  return item ? readRecord(MERCHANT_CART_POLICY_TYPE, item) : undefined;
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

/** A merchant's notice state for a fee policy, read consistently; undefined if the policy never reached them. */
export async function getFeeNoticeState(
  deps: Deps,
  merchantId: string,
  policyId: string,
): Promise<MerchantFeePolicyNotice | undefined> {
  const item = await getItem(deps, feeNoticeStateKey(merchantId, policyId));
  return item ? readRecord(MERCHANT_FEE_POLICY_TYPE, item) : undefined;
}

/** Moves a merchant's notice state for a fee policy, under the same rule as moveNoticeState. */
export function moveFeeNoticeState(
  deps: Deps,
  state: MerchantFeePolicyNotice,
  priors: readonly PriorNoticeState[],
): Promise<boolean> {
  return setIf(
    deps,
    feeNoticeStateKey(state.merchantId, state.policyId),
    { type: MERCHANT_FEE_POLICY_TYPE, ...state },
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
