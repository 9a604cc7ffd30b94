// cart-policies (00:00 daily): announce each policy to the merchants it affects on its announcement
// day, put it in force at its instant (flags, then merchants, then the policy itself), and tell the
// merchants of a withdrawal. Each merchant's notice state is one item per policy, written with a
// condition, so re-runs, overlapping runs and crashed runs never notify twice and never skip one.
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import {
  announcementInstant,
  type CartPolicy,
  cartChangeTest,
  coversCategories,
  flagsAt,
  type MerchantPolicyNotice,
  type MerchantPolicyStatus,
} from '../policies/policy';
import { listPolicies, listStoredFlags, type StoredFlag, setFlag, updatePolicy } from '../policies/store';
import { type Condition, setIf } from '../store/conditional-write';
import {
  AUDIENCE_SHARDS,
  audiencePartition,
  CART_POLICY_PK,
  cartPolicySk,
  FLAG_PK,
  flagSk,
  merchantCartPolicySk,
  merchantPk,
} from '../store/keys';
import { AUDIENCE_INDEX } from '../store/table';
import { formatInstant } from '../time';
import { forEachItem } from './partitions';
import { countChange, type RunContext, type RunCounts } from './run-context';

type Step = 'ANNOUNCE' | 'ENFORCE' | 'WITHDRAW';

/**
 * The condition under which a merchant's notice state moves for a step; kept next to `wouldWrite`,
 * its twin for dry runs, which decides the same from the item as read.
 */
const announced = { ':announced': 'ANNOUNCED' };
const CONDITIONS: Record<Step, (policy: CartPolicy) => Condition> = {
  // Not told yet, or told a date that has since been corrected.
  ANNOUNCE: (policy) => ({
    expression: 'attribute_not_exists(pk) OR (#status = :announced AND #effectiveAt <> :effectiveAt)',
    names: { '#status': 'status', '#effectiveAt': 'effectiveAt' },
    values: { ...announced, ':effectiveAt': policy.effectiveAt },
  }),
  // Told of the announcement, or never told (affected since, or the policy was reached late).
  ENFORCE: () => ({
    expression: 'attribute_not_exists(pk) OR #status = :announced',
    names: { '#status': 'status' },
    values: announced,
  }),
  // Only those told of the announcement hear of the withdrawal.
  WITHDRAW: () => ({ expression: '#status = :announced', names: { '#status': 'status' }, values: announced }),
};
const STATUS_AFTER: Record<Step, MerchantPolicyStatus> = {
  ANNOUNCE: 'ANNOUNCED',
  ENFORCE: 'IN_FORCE',
  WITHDRAW: 'WITHDRAWN',
};
const NOTICE_KIND: Record<Step, string> = {
  ANNOUNCE: 'CART_POLICY_ANNOUNCED',
  ENFORCE: 'CART_POLICY_IN_FORCE',
  WITHDRAW: 'CART_POLICY_WITHDRAWN',
};

function wouldWrite(step: Step, existing: MerchantPolicyNotice | undefined, policy: CartPolicy): boolean {
  switch (step) {
    case 'ANNOUNCE':
      return !existing || (existing.status === 'ANNOUNCED' && existing.effectiveAt !== policy.effectiveAt);
    case 'ENFORCE':
      return !existing || existing.status === 'ANNOUNCED';
    case 'WITHDRAW':
      return existing?.status === 'ANNOUNCED';
  }
}

const count = (counts: RunCounts, kind: string) => countChange(counts, [kind]);
const policyKey = (policy: CartPolicy) => ({ pk: CART_POLICY_PK, sk: cartPolicySk(policy.policyId) });

/** Moves one merchant's notice state for a policy; returns whether it changed. */
async function notifyMerchant(
  ctx: RunContext,
  step: Step,
  policy: CartPolicy,
  merchantId: string,
): Promise<boolean> {
  const key = { pk: merchantPk(merchantId), sk: merchantCartPolicySk(policy.policyId) };
  const state: MerchantPolicyNotice & { type: string } = {
    type: 'MERCHANT_CART_POLICY',
    merchantId,
    policyId: policy.policyId,
    status: STATUS_AFTER[step],
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
      ((
        await ctx.deps.db.send(
          new GetCommand({ TableName: ctx.deps.tableName, Key: key, ConsistentRead: true }),
        )
      ).Item as MerchantPolicyNotice | undefined);
    if (!wouldWrite(step, existing, policy)) return false;
    ctx.projection?.set(key, state);
    return true;
  }
  return setIf(ctx.deps, key, state, CONDITIONS[step](policy));
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
  const concerns =
    step === 'WITHDRAW'
      ? (categories: string[]) => coversCategories(policy, categories)
      : cartChangeTest(policies, policy);
  const failedBefore = ctx.counts.failed;
  const reads = Array.from({ length: AUDIENCE_SHARDS }, (_, shard) => ({
    unit: `${policy.policyId}:${step}:${audiencePartition(shard)}`,
    query: {
      IndexName: AUDIENCE_INDEX.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': AUDIENCE_INDEX.partitionKey },
      ExpressionAttributeValues: { ':pk': audiencePartition(shard) },
    },
  }));
  await forEachItem(ctx, reads, async (item) => {
    if (!concerns((item.categories as string[]) ?? [])) return 'alreadyDone';
    if (!(await notifyMerchant(ctx, step, policy, String(item.merchantId)))) return 'alreadyDone';
    count(ctx.counts, NOTICE_KIND[step]);
    return 'changed';
  });
  return !ctx.cursors.stopped && ctx.counts.failed === failedBefore;
}

/** Brings the stored flags to what the calendar gives at the policy's instant, each change recorded with its policy. */
async function applyFlags(ctx: RunContext, policies: CartPolicy[], policy: CartPolicy): Promise<void> {
  const stored = new Map((await listStoredFlags(ctx.deps)).map((f) => [`${f.channel}#${f.scope}`, f]));
  for (const flag of flagsAt(policies, policy.effectiveAt)) {
    if (flag.channel !== 'live') continue; // short videos are never restricted
    ctx.counts.examined++;
    const key = { pk: FLAG_PK, sk: flagSk(flag.channel, flag.products, flag.scope) };
    const current = ctx.projection?.get<StoredFlag>(key) ?? stored.get(`${flag.channel}#${flag.scope}`);
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
  kind?: string,
): Promise<void> {
  if (ctx.dryRun) {
    ctx.projection?.set<CartPolicy>(policyKey(policy), { ...policy, ...fields, version: policy.version + 1 });
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

export async function runCartPolicies(ctx: RunContext): Promise<void> {
  const { deps, asOf } = ctx;
  // In order of their instants: missed days are caught up in order. A dry run reads them as its
  // earlier occurrences would have left them.
  const policies = (await listPolicies(deps)).map((p) => ctx.projection?.get<CartPolicy>(policyKey(p)) ?? p);
  for (const policy of policies) {
    ctx.counts.examined++;
    const stamp = { asOf, processedAt: formatInstant(deps.clock()) };
    if (policy.status === 'WITHDRAWN') {
      if (policy.announced && !policy.announced.skipped && !policy.withdrawalNotified) {
        if (!(await sweepAudience(ctx, 'WITHDRAW', policy, policies))) return;
        await markPolicy(ctx, policy, { withdrawalNotified: stamp });
      }
      continue;
    }
    if (policy.status === 'IN_FORCE') continue;
    let current = policy;
    if (!policy.announced && announcementInstant(policy) <= asOf) {
      // Reached only after it took effect (recorded late, or a late run): merchants hear that it is
      // in force, not that it will be.
      const skipped = policy.effectiveAt <= asOf;
      if (!skipped && !(await sweepAudience(ctx, 'ANNOUNCE', policy, policies))) return;
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
    if (policy.effectiveAt <= asOf) {
      await applyFlags(ctx, policies, policy);
      if (!(await sweepAudience(ctx, 'ENFORCE', current, policies))) return;
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
  }
}
