// The cart policies repository: one partition (a handful of policies, read with one Query), each
// policy written conditional on the version it was read at.
import type { Deps } from '../deps';
import type { Policy, PolicyState } from '../policies/policy';
import { atVersion, IS_NEW, setIf, writeIf } from './conditional-write';
import { readRecord } from './items';
import { CART_POLICY_PK, CART_POLICY_TYPE, policyKey } from './keys';
import { queryPartition } from './partition-query';

/** Every policy, in order of their instants (then of their ids). */
export async function listPolicies(deps: Deps): Promise<Policy[]> {
  const policies = (await queryPartition(deps, CART_POLICY_PK)).map((item) =>
    readRecord(CART_POLICY_TYPE, item),
  );
  return policies.sort(
    (a, b) => a.effectiveAt.localeCompare(b.effectiveAt) || a.policyId.localeCompare(b.policyId),
  );
}

export const policyItem = (policy: Policy): Record<string, unknown> => ({
  ...policyKey(policy.policyId),
  type: CART_POLICY_TYPE,
  ...policy,
});

/**
 * Stores a policy whole (a correction drops what the earlier content had, e.g. `announced`): a new
 * one if `replacing` is undefined, else in place of that version; false if someone else wrote first.
 */
export async function putPolicy(deps: Deps, policy: Policy, replacing?: Policy): Promise<boolean> {
  const condition = replacing ? atVersion(replacing.version) : IS_NEW;
  return (await writeIf(deps, { put: policyItem(policy), condition })).written;
}

/** Sets fields on a policy if it is still at the version read; false if it changed meanwhile. */
export function updatePolicy(deps: Deps, policy: Policy, fields: Partial<PolicyState>): Promise<boolean> {
  return setIf(
    deps,
    policyKey(policy.policyId),
    { ...fields, version: policy.version + 1 },
    atVersion(policy.version),
  );
}
