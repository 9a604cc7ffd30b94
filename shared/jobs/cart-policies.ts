// cart-policies (00:00 daily): announce each policy to the merchants it affects on its announcement
// day, put it in force at its instant (flags, then merchants, then the policy itself), and tell the
// merchants of a withdrawal. Each merchant's notice state is one item per policy, written with a
// condition, so re-runs, overlapping runs and crashed runs never notify twice and never skip one.
import type { CartPolicyNoticeType } from '../notices/notice';
import {
  announcementDue,
  announcementInstant,
  type CartPolicy,
  cartChangeTest,
  coversCategories,
  flagsAt,
  followsOneOf,
  inForceDue,
  type MerchantPolicyNotice,
  type MerchantPolicyStatus,
  type PolicyStatus,
  type PriorNoticeState,
} from '../policies/policy';
import { listStoredFlags, type StoredFlag, setFlag } from '../store/flags';
import { audiencePartitions, audienceQuery } from '../store/index-reads';
import { flagKey, noticeStateKey, policyKey } from '../store/keys';
import { getNoticeState, moveNoticeState } from '../store/merchant-notices';
import { readAudienceMember } from '../store/merchants';
import { listPolicies, updatePolicy } from '../store/policies';
import { formatInstant, type Instant } from '../time';
import { forEachItem } from './partitions';
import { countChange, type RunContext, type RunCounts } from './run-context';

/** One step, per status it leads to: the notice that status causes is the one the notifier sends for it. */
type StepRule = {
  [S in MerchantPolicyStatus]: {
    /** The precondition: both the conditional write and a dry run's decision derive from it. */
    follows: readonly PriorNoticeState[];
    statusAfter: S;
    notice: CartPolicyNoticeType<S>;
    /** Which merchants of the audience (by their categories) the step concerns. */
    concerns: (policy: CartPolicy, policies: CartPolicy[]) => (categories: string[]) => boolean;
  };
}[MerchantPolicyStatus];

export type Step = 'ANNOUNCE' | 'ENFORCE' | 'WITHDRAW';

/** A merchant hears of a policy (announced, in force) only if it changes their cart, given the calendar. */
const changesTheirCart = (policy: CartPolicy, policies: CartPolicy[]) => cartChangeTest(policies, policy);

/** The cart-policy steps, one row each: what a merchant's notice state may be before, and becomes. */
const STEPS: Record<Step, StepRule> = {
  ANNOUNCE: {
    // Not told yet, or told a date that has since been corrected.
    follows: ['UNTOLD', { status: 'ANNOUNCED', dateChanged: true }],
    statusAfter: 'ANNOUNCED',
    notice: 'CART_POLICY_ANNOUNCED',
    concerns: changesTheirCart,
  },
  ENFORCE: {
    // Told of the announcement, or never told (affected since, or the policy was reached late).
    follows: ['UNTOLD', { status: 'ANNOUNCED' }],
    statusAfter: 'IN_FORCE',
    notice: 'CART_POLICY_IN_FORCE',
    concerns: changesTheirCart,
  },
  WITHDRAW: {
    // Only those told of the announcement hear of the withdrawal, whatever the calendar says now.
    follows: [{ status: 'ANNOUNCED' }],
    statusAfter: 'WITHDRAWN',
    notice: 'CART_POLICY_WITHDRAWN',
    concerns: (policy) => (categories) => coversCategories(policy, categories),
  },
};

/** The step's precondition decided from the state as read: what a dry run uses instead of the write. */
export function stepFollows(
  step: Step,
  existing: MerchantPolicyNotice | undefined,
  policy: CartPolicy,
): boolean {
  return followsOneOf(STEPS[step].follows, existing, policy.effectiveAt);
}

/** The step's precondition, the same one moveNoticeState writes under. */
export const stepPriors = (step: Step): readonly PriorNoticeState[] => STEPS[step].follows;

/** What a run counts: the notices it causes, the flags it moves, the policies it puts in force. */
type CartPolicyChange = CartPolicyNoticeType | 'FLAG_CHANGED' | 'POLICY_IN_FORCE';

const count = (counts: RunCounts, kind: CartPolicyChange) => countChange(counts, [kind]);

/** Moves one merchant's notice state for a policy; returns whether it changed. */
async function notifyMerchant(
  ctx: RunContext,
  step: Step,
  policy: CartPolicy,
  merchantId: string,
): Promise<boolean> {
  const key = noticeStateKey(merchantId, policy.policyId);
  const state: MerchantPolicyNotice = {
    merchantId,
    policyId: policy.policyId,
    status: STEPS[step].statusAfter,
    title: policy.title,
    announcedOn: policy.announcedOn,
    effectiveAt: policy.effectiveAt,
    thirdPartyProducts: policy.thirdPartyProducts,
    categories: policy.scope.categories,
    processedAt: formatInstant(ctx.deps.clock()),
    asOf: ctx.asOf,
  };
  if (ctx.dryRun) {
    // The state an earlier occurrence of this dry run would have written, else the stored one.
    const existing =
      ctx.projection?.get<MerchantPolicyNotice>(key) ??
      (await getNoticeState(ctx.deps, merchantId, policy.policyId));
    if (!stepFollows(step, existing, policy)) return false;
    ctx.projection?.set(key, state);
    return true;
  }
  return moveNoticeState(ctx.deps, state, STEPS[step].follows);
}

/**
 * Every merchant in the policy's audience (third-party products in live carts, categories in scope),
 * all shards in parallel. True when the step reached every one of them; false when the run stopped
 * for its deadline (a continuation picks up) or some merchant failed (the run reports it, and the step
 * is not marked done, so a re-run writes what is missing). A merchant hears of a policy (announced, in
 * force) only if it changes the value that applies to them, given the calendar as the step reads it;
 * everyone told of an announcement hears of its withdrawal.
 */
async function sweepAudience(
  ctx: RunContext,
  step: Step,
  policy: CartPolicy,
  policies: CartPolicy[],
): Promise<boolean> {
  const concerns = STEPS[step].concerns(policy, policies);
  const failedBefore = ctx.counts.failed;
  const reads = audiencePartitions().map((partition) => ({
    unit: `${policy.policyId}:${step}:${partition}`,
    query: audienceQuery(partition),
  }));
  await forEachItem(ctx, reads, async (item) => {
    const { merchantId, categories } = readAudienceMember(item);
    if (!concerns(categories)) return 'alreadyDone';
    if (!(await notifyMerchant(ctx, step, policy, merchantId))) return 'alreadyDone';
    count(ctx.counts, STEPS[step].notice);
    return 'changed';
  });
  return !ctx.cursors.stopped && ctx.counts.failed === failedBefore;
}

/** Brings the stored flags to what the calendar gives at the policy's instant, each change recorded with its policy. */
async function applyFlags(ctx: RunContext, policies: CartPolicy[], policy: CartPolicy): Promise<void> {
  const stored = new Map((await listStoredFlags(ctx.deps)).map((f) => [flagKey(f).sk, f]));
  for (const flag of flagsAt(policies, policy.effectiveAt)) {
    if (flag.channel !== 'live') continue; // short videos are never restricted
    ctx.counts.examined++;
    const key = flagKey(flag);
    const current = ctx.projection?.get<StoredFlag>(key) ?? stored.get(key.sk);
    if ((current?.value ?? 'ALLOWED') === flag.value || !flag.since || !flag.policyId) {
      ctx.counts.alreadyDone++;
      continue;
    }
    const change = {
      value: flag.value,
      since: flag.since,
      policyId: flag.policyId,
      processedAt: formatInstant(ctx.deps.clock()),
      asOf: ctx.asOf,
    };
    if (ctx.dryRun) {
      const history = [...(current?.history ?? []), change];
      ctx.projection?.set<StoredFlag>(key, {
        ...flag,
        ...change,
        version: (current?.version ?? 0) + 1,
        history,
      });
    }
    const changed = ctx.dryRun || (await setFlag(ctx.deps, current, flag, change));
    if (changed) count(ctx.counts, 'FLAG_CHANGED');
    else ctx.counts.alreadyDone++;
  }
}

/** Records a step as done on the policy, unless the policy changed meanwhile (the next run sees the new version). */
async function markPolicy(
  ctx: RunContext,
  policy: CartPolicy,
  fields: Partial<CartPolicy>,
  kind?: CartPolicyChange,
): Promise<void> {
  if (ctx.dryRun) {
    ctx.projection?.set<CartPolicy>(policyKey(policy.policyId), {
      ...policy,
      ...fields,
      version: policy.version + 1,
    });
    if (kind) count(ctx.counts, kind);
    return;
  }
  if (await updatePolicy(ctx.deps, policy, fields)) {
    if (kind) count(ctx.counts, kind);
  } else {
    ctx.deps.log.warn('policy changed during the run; the next run continues with the new version', {
      policyId: policy.policyId,
    });
  }
}

type Stamp = { asOf: Instant; processedAt: Instant };

/** A withdrawn policy: those told of its announcement are told it is withdrawn, once. */
async function tellWithdrawal(ctx: RunContext, policy: CartPolicy, policies: CartPolicy[], stamp: Stamp) {
  if (policy.announced && !policy.announced.skipped && !policy.withdrawalNotified) {
    if (!(await sweepAudience(ctx, 'WITHDRAW', policy, policies))) return false;
    await markPolicy(ctx, policy, { withdrawalNotified: stamp });
  }
  return true;
}

/** A scheduled policy: announced on its announcement day, put in force at its instant. */
async function announceAndEnforce(ctx: RunContext, policy: CartPolicy, policies: CartPolicy[], stamp: Stamp) {
  const { asOf } = ctx;
  let current = policy;
  if (announcementDue(policy, asOf)) {
    // Reached only after it took effect (recorded late, or a late run): merchants hear that it is
    // in force, not that it will be.
    const skipped = inForceDue(policy, asOf);
    if (!skipped && !(await sweepAudience(ctx, 'ANNOUNCE', policy, policies))) return false;
    const fields: Partial<CartPolicy> = {
      announced: { ...stamp, skipped },
      history: [
        ...policy.history,
        { status: 'ANNOUNCED', effectiveAt: announcementInstant(policy), ...stamp },
      ],
    };
    await markPolicy(ctx, policy, fields);
    current = { ...policy, ...fields, version: policy.version + 1 };
  }
  if (inForceDue(policy, asOf)) {
    await applyFlags(ctx, policies, policy);
    if (!(await sweepAudience(ctx, 'ENFORCE', current, policies))) return false;
    await markPolicy(
      ctx,
      current,
      {
        status: 'IN_FORCE',
        history: [...current.history, { status: 'IN_FORCE', effectiveAt: policy.effectiveAt, ...stamp }],
      },
      'POLICY_IN_FORCE',
    );
  }
  return true;
}

/**
 * What a run does with a policy, by its status: false when the run stops there (its deadline, or a
 * merchant failed; a continuation or a re-run picks up).
 */
const ADVANCE: Record<
  PolicyStatus,
  (ctx: RunContext, policy: CartPolicy, policies: CartPolicy[], stamp: Stamp) => Promise<boolean>
> = {
  SCHEDULED: announceAndEnforce,
  IN_FORCE: async () => true, // nothing left to do
  WITHDRAWN: tellWithdrawal,
};

export async function runCartPolicies(ctx: RunContext): Promise<void> {
  const { deps, asOf } = ctx;
  // In order of their instants: missed days are caught up in order. A dry run reads them as its
  // earlier occurrences would have left them.
  const policies = (await listPolicies(deps)).map(
    (p) => ctx.projection?.get<CartPolicy>(policyKey(p.policyId)) ?? p,
  );
  for (const policy of policies) {
    ctx.counts.examined++;
    const stamp = { asOf, processedAt: formatInstant(deps.clock()) };
    if (!(await ADVANCE[policy.status](ctx, policy, policies, stamp))) return;
  }
}
