// cart-policies (00:00 daily): the policy calendar's job, for every kind of policy (live-room cart
// policies, Xingtu fee policies). It announces each policy to the merchants it affects on its
// announcement day, puts it in force at its instant (a cart policy's flags, then merchants, then the
// policy itself), and tells the merchants of a withdrawal: the same steps for every kind, with what
// differs by kind in one table (KINDS). Each merchant's notice state is one item per policy, written
// with a condition, so re-runs, overlapping runs and crashed runs never notify twice and never skip one.

import type { Deps } from '../deps';
import { POLICY_NOTICE_TYPES, type PolicyNoticeType } from '../notices/notice';
import {
  announcementDue,
  announcementInstant,
  type CartPolicy,
  cartChangeTest,
  coversCategories,
  type FeePolicy,
  flagsAt,
  followsOneOf,
  inForceDue,
  type MerchantFeePolicyNotice,
  type MerchantPolicyNotice,
  type MerchantPolicyStatus,
  type Policy,
  type PolicyKind,
  type PolicyOf,
  type PolicyState,
  type PolicyStatus,
  type PriorNoticeState,
} from '../policies/policy';
import { feeChangeTest, pricesCartOf, pricesShopLinks } from '../policies/xingtu-fee';
import { listStoredFlags, type StoredFlag, setFlag } from '../store/flags';
import {
  audiencePartitions,
  audienceQuery,
  type IndexQuery,
  type OnboardedRange,
  onboardedPartitions,
  onboardedQuery,
} from '../store/index-reads';
import { feeNoticeStateKey, flagKey, type ItemKey, noticeStateKey, policyKey } from '../store/keys';
import {
  getFeeNoticeState,
  getNoticeState,
  moveFeeNoticeState,
  moveNoticeState,
} from '../store/merchant-notices';
import { type AudienceMember, readAudienceMember } from '../store/merchants';
import { listPolicies, updatePolicy } from '../store/policies';
import { formatInstant, type Instant } from '../time';
import { forEachItem } from './partitions';
import { countChange, type RunContext, type RunCounts } from './run-context';

export type Step = 'ANNOUNCE' | 'ENFORCE' | 'WITHDRAW';

/** Whom a step concerns: those the policy changes something for (given the calendar), or those it covers. */
type Concerns = 'CHANGED' | 'COVERED';

/** One step, per status it leads to. */
type StepRule = {
  /** The precondition: both the conditional write and a dry run's decision derive from it. */
  follows: readonly PriorNoticeState[];
  statusAfter: MerchantPolicyStatus;
  concerns: Concerns;
};

/** The steps, one row each, for every kind: what a merchant's notice state may be before, and becomes. */
const STEPS: Record<Step, StepRule> = {
  ANNOUNCE: {
    // Not told yet, or told a date that has since been corrected.
    follows: ['UNTOLD', { status: 'ANNOUNCED', dateChanged: true }],
    statusAfter: 'ANNOUNCED',
    // A merchant hears of a policy (announced, in force) only if it changes what applies to them.
    concerns: 'CHANGED',
  },
  ENFORCE: {
    // Told of the announcement, or never told (affected since, or the policy was reached late).
    follows: ['UNTOLD', { status: 'ANNOUNCED' }],
    statusAfter: 'IN_FORCE',
    concerns: 'CHANGED',
  },
  WITHDRAW: {
    // Only those told of the announcement hear of the withdrawal, whatever the calendar says now.
    follows: [{ status: 'ANNOUNCED' }],
    statusAfter: 'WITHDRAWN',
    concerns: 'COVERED',
  },
};

/** A merchant's notice state for a policy of either kind. */
type NoticeState = MerchantPolicyNotice | MerchantFeePolicyNotice;
type Stamp = { asOf: Instant; processedAt: Instant };

/** One merchant's notice state moving to a status: where it is kept, what it becomes, how it is read and written. */
interface StateMove {
  key: ItemKey;
  state: NoticeState;
  /** The stored state (a dry run decides on it instead of writing). */
  read: (deps: Deps) => Promise<NoticeState | undefined>;
  /** Writes the state if the stored one is one of `priors`; false if it was not. */
  write: (deps: Deps, priors: readonly PriorNoticeState[]) => Promise<boolean>;
}

/** What differs by kind of policy, for one policy. */
interface KindRule {
  /** The index partitions that hold every merchant the policy may concern, each read whole. */
  reads: () => { partition: string; query: IndexQuery }[];
  /** Which merchants of those the step concerns, given the calendar. */
  concerns: Record<Concerns, (policies: readonly Policy[]) => (member: AudienceMember) => boolean>;
  /** A merchant's notice state for the policy moving to a status. */
  move: (merchantId: string, status: MerchantPolicyStatus, stamp: Stamp) => StateMove;
  /** What putting the policy in force does before its merchants are told. */
  inForce: (ctx: RunContext, policies: readonly Policy[]) => Promise<void>;
}

/** The audience index: merchants with third-party products in live carts. */
const audienceReads = () =>
  audiencePartitions().map((partition) => ({ partition, query: audienceQuery(partition) }));

/** Every onboarding date (they are 1970 or later): the onboarded index read whole. */
const EVERY_ONBOARDING: OnboardedRange = { from: '0000-01-01' };
/** The onboarded index, whole: every recorded merchant (shop-only carts included), never a Scan. */
const everyMerchantReads = () =>
  onboardedPartitions().map((partition) => ({
    partition,
    query: onboardedQuery(partition, EVERY_ONBOARDING),
  }));

/** The notice-state fields every kind shares. */
const stateOf = (policy: Policy, merchantId: string, status: MerchantPolicyStatus, stamp: Stamp) => ({
  merchantId,
  policyId: policy.policyId,
  status,
  title: policy.title,
  announcedOn: policy.announcedOn,
  effectiveAt: policy.effectiveAt,
  categories: policy.scope.categories,
  ...stamp,
});

/** Each kind's rule for one of its policies: a new kind does not compile until it has one. */
const KINDS: { [K in PolicyKind]: (policy: PolicyOf<K>) => KindRule } = {
  CART: (policy: CartPolicy) => ({
    // Cart policies restrict third-party products: only merchants who sell them can be concerned.
    reads: audienceReads,
    concerns: {
      CHANGED: (policies) => {
        const changes = cartChangeTest(policies, policy);
        return ({ categories }) => changes(categories);
      },
      COVERED:
        () =>
        ({ categories }) =>
          coversCategories(policy, categories),
    },
    move: (merchantId, status, stamp) => {
      const state = {
        ...stateOf(policy, merchantId, status, stamp),
        thirdPartyProducts: policy.thirdPartyProducts,
      };
      return {
        key: noticeStateKey(merchantId, policy.policyId),
        state,
        read: (deps) => getNoticeState(deps, merchantId, policy.policyId),
        write: (deps, priors) => moveNoticeState(deps, state, priors),
      };
    },
    inForce: (ctx, policies) => applyFlags(ctx, policies, policy),
  }),
  XINGTU_FEE: (policy: FeePolicy) => ({
    // A policy that prices shop links concerns merchants whose carts hold only shop products, whom
    // the audience index (third-party carts) does not hold.
    reads: pricesShopLinks(policy) ? everyMerchantReads : audienceReads,
    concerns: {
      CHANGED: (policies) => feeChangeTest(policies, policy),
      COVERED: () => (member) => pricesCartOf(policy, member),
    },
    move: (merchantId, status, stamp) => {
      const state = { ...stateOf(policy, merchantId, status, stamp), rates: policy.rates };
      return {
        key: feeNoticeStateKey(merchantId, policy.policyId),
        state,
        read: (deps) => getFeeNoticeState(deps, merchantId, policy.policyId),
        write: (deps, priors) => moveFeeNoticeState(deps, state, priors),
      };
    },
    inForce: async () => {}, // a fee policy sets no flag: it prices what is sold
  }),
};

/** The rule for a policy, by its kind. */
const ruleOf = (policy: Policy): KindRule =>
  policy.kind === 'CART' ? KINDS.CART(policy) : KINDS.XINGTU_FEE(policy);

/** Whom a policy tells when announced or put in force, given the calendar: where they are, and the test. */
export function policyAudience(policy: Policy, policies: readonly Policy[]) {
  const rule = ruleOf(policy);
  return { reads: rule.reads(), tells: rule.concerns.CHANGED(policies) };
}

/** The notice a step causes for a policy: its kind's type for the status the step leads to. */
const noticeOf = (step: Step, policy: Policy): PolicyNoticeType =>
  POLICY_NOTICE_TYPES[policy.kind][STEPS[step].statusAfter];

/** The step's precondition decided from the state as read: what a dry run uses instead of the write. */
export function stepFollows(
  step: Step,
  existing: Pick<NoticeState, 'status' | 'effectiveAt'> | undefined,
  policy: Policy,
): boolean {
  return followsOneOf(STEPS[step].follows, existing, policy.effectiveAt);
}

/** The step's precondition, the same one moveNoticeState writes under. */
export const stepPriors = (step: Step): readonly PriorNoticeState[] => STEPS[step].follows;

/** What a run counts: the notices it causes, the flags it moves, the policies it puts in force. */
type PolicyChange = PolicyNoticeType | 'FLAG_CHANGED' | 'POLICY_IN_FORCE';

const count = (counts: RunCounts, kind: PolicyChange) => countChange(counts, [kind]);

/** Moves one merchant's notice state for a policy; returns whether it changed. */
async function notifyMerchant(
  ctx: RunContext,
  step: Step,
  policy: Policy,
  rule: KindRule,
  merchantId: string,
): Promise<boolean> {
  const move = rule.move(merchantId, STEPS[step].statusAfter, {
    asOf: ctx.asOf,
    processedAt: formatInstant(ctx.deps.clock()),
  });
  if (ctx.dryRun) {
    // The state an earlier occurrence of this dry run would have written, else the stored one.
    const existing = ctx.projection?.get<NoticeState>(move.key) ?? (await move.read(ctx.deps));
    if (!stepFollows(step, existing, policy)) return false;
    ctx.projection?.set(move.key, move.state);
    return true;
  }
  return move.write(ctx.deps, STEPS[step].follows);
}

/**
 * Every merchant the policy may concern (its kind says which index holds them), all shards in
 * parallel. True when the step reached every one of them; false when the run stopped for its
 * deadline (a continuation picks up) or some merchant failed (the run reports it, and the step is not
 * marked done, so a re-run writes what is missing). A merchant hears of a policy (announced, in
 * force) only if it changes what applies to them, given the calendar as the step reads it; everyone
 * told of an announcement hears of its withdrawal.
 */
async function sweepAudience(
  ctx: RunContext,
  step: Step,
  policy: Policy,
  policies: readonly Policy[],
): Promise<boolean> {
  const rule = ruleOf(policy);
  const concerns = rule.concerns[STEPS[step].concerns](policies);
  const failedBefore = ctx.counts.failed;
  const reads = rule.reads().map(({ partition, query }) => ({
    unit: `${policy.policyId}:${step}:${partition}`,
    query,
  }));
  await forEachItem(ctx, reads, async (item) => {
    const member = readAudienceMember(item);
    if (!concerns(member)) return 'alreadyDone';
    if (!(await notifyMerchant(ctx, step, policy, rule, member.merchantId))) return 'alreadyDone';
    count(ctx.counts, noticeOf(step, policy));
    return 'changed';
  });
  return !ctx.cursors.stopped && ctx.counts.failed === failedBefore;
}

/** Brings the stored flags to what the calendar gives at the policy's instant, each change recorded with its policy. */
async function applyFlags(ctx: RunContext, policies: readonly Policy[], policy: CartPolicy): Promise<void> {
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
  policy: Policy,
  fields: Partial<PolicyState>,
  kind?: PolicyChange,
): Promise<void> {
  if (ctx.dryRun) {
    ctx.projection?.set<Policy>(policyKey(policy.policyId), {
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

/** A withdrawn policy: those told of its announcement are told it is withdrawn, once. */
async function tellWithdrawal(ctx: RunContext, policy: Policy, policies: readonly Policy[], stamp: Stamp) {
  if (policy.announced && !policy.announced.skipped && !policy.withdrawalNotified) {
    if (!(await sweepAudience(ctx, 'WITHDRAW', policy, policies))) return false;
    await markPolicy(ctx, policy, { withdrawalNotified: stamp });
  }
  return true;
}

/** A scheduled policy: announced on its announcement day, put in force at its instant. */
async function announceAndEnforce(
  ctx: RunContext,
  policy: Policy,
  policies: readonly Policy[],
  stamp: Stamp,
) {
  const { asOf } = ctx;
  let current = policy;
  if (announcementDue(policy, asOf)) {
    // Reached only after it took effect (recorded late, or a late run): merchants hear that it is
    // in force, not that it will be.
    const skipped = inForceDue(policy, asOf);
    if (!skipped && !(await sweepAudience(ctx, 'ANNOUNCE', policy, policies))) return false;
    const fields: Partial<PolicyState> = {
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
    await ruleOf(policy).inForce(ctx, policies);
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
  (ctx: RunContext, policy: Policy, policies: readonly Policy[], stamp: Stamp) => Promise<boolean>
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
    (p) => ctx.projection?.get<Policy>(policyKey(p.policyId)) ?? p,
  );
  for (const policy of policies) {
    ctx.counts.examined++;
    const stamp = { asOf, processedAt: formatInstant(deps.clock()) };
    if (!(await ADVANCE[policy.status](ctx, policy, policies, stamp))) return;
  }
}
