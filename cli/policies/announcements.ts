// Announcing, correcting and withdrawing cart policies, and forecasting whom each affects: the
// decisions; the policies repository (shared/store/policies.ts) writes them.
import type { Deps } from '../../shared/deps';
import { ConflictError, NotFoundError } from '../../shared/errors';
import {
  type CartPolicy,
  type CartPolicyInput,
  cartChangeTest,
  conflictOf,
  sameContent,
} from '../../shared/policies/policy';
import { forEachAudienceMember } from '../../shared/store/merchants';
import { listPolicies, putPolicy, updatePolicy } from '../../shared/store/policies';
import { formatInstant } from '../../shared/time';

export type AnnounceOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Records a policy, or corrects one not yet in force (same id, new content). A correction starts its
 * announcement over, so merchants already told are told the corrected date. Refused: a conflict with
 * another live policy (same scope and instant), and any change to a policy in force or withdrawn.
 */
export async function announcePolicy(deps: Deps, input: CartPolicyInput): Promise<AnnounceOutcome> {
  const policies = await listPolicies(deps);
  const conflict = conflictOf(input, policies);
  if (conflict) {
    throw new ConflictError(
      `policy ${input.policyId} conflicts with ${conflict.policyId}: both set the live-room cart of overlapping categories at ${input.effectiveAt}`,
    );
  }
  const processedAt = formatInstant(deps.clock());
  const existing = policies.find((p) => p.policyId === input.policyId);
  if (existing && sameContent(existing, input) && existing.status !== 'WITHDRAWN') return 'unchanged';
  if (existing && existing.status !== 'SCHEDULED') {
    throw new ConflictError(
      `policy ${input.policyId} is ${existing.status} and can no longer be changed; announce a new policy`,
    );
  }
  const policy: CartPolicy = existing
    ? {
        ...input,
        status: 'SCHEDULED',
        version: existing.version + 1,
        history: [...existing.history, { status: 'CORRECTED', effectiveAt: processedAt, processedAt }],
      }
    : {
        ...input,
        status: 'SCHEDULED',
        version: 1,
        history: [{ status: 'SCHEDULED', effectiveAt: processedAt, processedAt }],
      };
  // A correction replaces the item, dropping `announced`, so the announcement goes out again.
  if (!(await putPolicy(deps, policy, existing))) {
    throw new ConflictError(`policy ${input.policyId} changed meanwhile; try again`);
  }
  return existing ? 'updated' : 'created';
}

/**
 * How many merchants each of these policies would tell, given the calendar as stored now: those in
 * the audience (third-party products in live carts) whose cart value the policy changes at its
 * instant. One read of the audience index for all of them; the job decides again at each step.
 */
export async function countAffected(deps: Deps, policyIds: string[]): Promise<Map<string, number>> {
  const policies = await listPolicies(deps);
  const counted = policies
    .filter((p) => policyIds.includes(p.policyId))
    .map((policy) => ({ policy, changes: cartChangeTest(policies, policy) }));
  const counts = new Map(policyIds.map((id) => [id, 0]));
  await forEachAudienceMember(deps, ({ categories }) => {
    for (const { policy, changes } of counted) {
      if (changes(categories)) counts.set(policy.policyId, (counts.get(policy.policyId) ?? 0) + 1);
    }
  });
  return counts;
}

/** Withdraws a policy not yet in force; merchants told of its announcement are told it is withdrawn. */
export async function withdrawPolicy(
  deps: Deps,
  policyId: string,
  reason: string,
): Promise<{ policyId: string; changed: boolean }> {
  const policy = (await listPolicies(deps)).find((p) => p.policyId === policyId);
  if (!policy) throw new NotFoundError(`no policy ${policyId}`);
  if (policy.status === 'WITHDRAWN') return { policyId, changed: false };
  if (policy.status === 'IN_FORCE')
    throw new ConflictError(`policy ${policyId} is already in force and cannot be withdrawn`);
  const processedAt = formatInstant(deps.clock());
  const written = await updatePolicy(deps, policy, {
    status: 'WITHDRAWN',
    withdrawReason: reason,
    history: [...policy.history, { status: 'WITHDRAWN', effectiveAt: processedAt, processedAt, reason }],
  });
  // Corrected, withdrawn or put in force meanwhile: the operator decides again on what it is now.
  if (!written) throw new ConflictError(`policy ${policyId} changed meanwhile; try again`);
  return { policyId, changed: true };
}
