// Announcing, correcting and withdrawing cart policies, and forecasting whom each affects: the
// decisions; the policies repository (shared/store/policies.ts) writes them.
import type { Deps } from '../../shared/deps';
import { ConflictError, NotFoundError } from '../../shared/errors';
import { policyAudience } from '../../shared/jobs/cart-policies';
import { conflictOf, type Policy, type PolicyInput, sameContent } from '../../shared/policies/policy';
import type { IndexQuery } from '../../shared/store/index-reads';
import { type AudienceMember, forEachMember } from '../../shared/store/merchants';
import { listPolicies, putPolicy, updatePolicy } from '../../shared/store/policies';
import { formatInstant } from '../../shared/time';

export type AnnounceOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Records a policy, or corrects one not yet in force (same id, new content). A correction starts its
 * announcement over, so merchants already told are told the corrected date. Refused: a conflict with
 * another live policy (same scope and instant), and any change to a policy in force or withdrawn.
 */
export async function announcePolicy(deps: Deps, input: PolicyInput): Promise<AnnounceOutcome> {
  const policies = await listPolicies(deps);
  const conflict = conflictOf(input, policies);
  if (conflict) {
    const what = input.kind === 'CART' ? 'the live-room cart' : 'the Xingtu fees';
    throw new ConflictError(
      `policy ${input.policyId} conflicts with ${conflict.policyId}: both set ${what} of overlapping categories at ${input.effectiveAt}`,
    );
  }
  const processedAt = formatInstant(deps.clock());
  const existing = policies.find((p) => p.policyId === input.policyId);
  if (existing && existing.kind !== input.kind) {
    throw new ConflictError(`policy ${input.policyId} is a ${existing.kind} policy; its kind cannot change`);
  }
  if (existing && sameContent(existing, input) && existing.status !== 'WITHDRAWN') return 'unchanged';
  if (existing && existing.status !== 'SCHEDULED') {
    throw new ConflictError(
      `policy ${input.policyId} is ${existing.status} and can no longer be changed; announce a new policy`,
    );
  }
  const policy: Policy = existing
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
 * How many merchants each of these policies would tell, given the calendar as stored now: those of
 * its audience (the index its kind reads: third-party live carts, or every merchant for a fee policy
 * that prices shop links) for whom it changes what applies at its instant. Each index is read once
 * for all the policies that need it; the job decides again at each step.
 */
export async function countAffected(deps: Deps, policyIds: string[]): Promise<Map<string, number>> {
  const policies = await listPolicies(deps);
  const counts = new Map(policyIds.map((id) => [id, 0]));
  const byIndex = new Map<
    string,
    { queries: IndexQuery[]; tests: [string, (m: AudienceMember) => boolean][] }
  >();
  for (const policy of policies.filter((p) => policyIds.includes(p.policyId))) {
    const { reads, tells } = policyAudience(policy, policies);
    const key = reads.map((r) => r.partition).join(',');
    const group = byIndex.get(key) ?? { queries: reads.map((r) => r.query), tests: [] };
    group.tests.push([policy.policyId, tells]);
    byIndex.set(key, group);
  }
  for (const { queries, tests } of byIndex.values()) {
    await forEachMember(deps, queries, (member) => {
      for (const [policyId, tells] of tests) {
        if (tells(member)) counts.set(policyId, (counts.get(policyId) ?? 0) + 1);
      }
    });
  }
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
