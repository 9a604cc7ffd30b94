// The repository of merchants' notice states: one item per merchant and cart policy, beside the
// merchant's profile. Moving a state is what causes its notice (through the stream), so every move is
// conditional: a re-run or an overlapping run never moves it twice.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import type { MerchantPolicyNotice } from '../policies/policy';
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

/** Moves a merchant's notice state if `condition` holds on the stored one; false if it did not. */
export function moveNoticeState(
  deps: Deps,
  state: MerchantPolicyNotice,
  condition: Condition,
): Promise<boolean> {
  return setIf(
    deps,
    noticeStateKey(state.merchantId, state.policyId),
    { type: MERCHANT_CART_POLICY_TYPE, ...state },
    condition,
  );
}
