// Xingtu (星图) service fees for live selling (rules §5): dated fee policies, scoped by category, each
// pricing shop links and third-party links on its own base. Pure: the policies come from the calendar.
import { z } from 'zod';
import { InputError } from '../errors';
import type { Instant } from '../time';
import type { CartFlagValue } from './policy';

export const FEE_BASES = ['GMV', 'STREAMER_FIXED_FEE', 'TASK_AMOUNT'] as const;
export type FeeBase = (typeof FEE_BASES)[number];

/** The amount each base is computed from, as a quote is asked for it (`--gmv`, `--streamer-fee`, `--task-amount`). */
export const BASE_AMOUNT = {
  GMV: 'gmv',
  STREAMER_FIXED_FEE: 'streamerFee',
  TASK_AMOUNT: 'taskAmount',
} as const satisfies Record<FeeBase, string>;
export type FeeAmounts = Partial<Record<(typeof BASE_AMOUNT)[FeeBase], number>>;

export const feeRateSchema = z.strictObject({
  rate: z.number().min(0, 'must be at least 0').max(1, 'must be at most 1'),
  base: z.enum(FEE_BASES, { error: `must be one of ${FEE_BASES.join(', ')}` }),
});
export type FeeRate = z.output<typeof feeRateSchema>;

/** What a fee policy says, per link source: the merchant's own shop, or a third party (Taobao, JD, …). */
export const feesSchema = z.strictObject({ shop: feeRateSchema, thirdParty: feeRateSchema });
export type Fees = z.output<typeof feesSchema>;

/** The part of a fee policy the computation reads (the calendar holds the rest: title, announcement, status). */
export interface FeePolicy {
  policyId: string;
  effectiveAt: Instant;
  categories: 'ALL' | readonly string[];
  fees: Fees;
}

export const OWN_SHOP = 'shop';

export interface XingtuQuote {
  allowed: boolean;
  fee: number | null;
  rate: number | null;
  base: FeeBase | null;
  policyId: string | null;
}

/**
 * The fee policy that prices a task at `at` in `category`: the most recent one in force whose scope
 * covers the category (a category-scoped policy and an ALL one: the more recent wins; at the same
 * instant, the scoped one, being the more specific).
 */
export function feePolicyAt(
  policies: readonly FeePolicy[],
  at: Instant,
  category: string,
): FeePolicy | undefined {
  let chosen: FeePolicy | undefined;
  for (const policy of policies) {
    if (policy.effectiveAt > at) continue;
    if (policy.categories !== 'ALL' && !policy.categories.includes(category)) continue;
    const later = !chosen || policy.effectiveAt > chosen.effectiveAt;
    const asSpecific = chosen && policy.effectiveAt === chosen.effectiveAt && chosen.categories === 'ALL';
    if (later || asSpecific) chosen = policy;
  }
  return chosen;
}

/**
 * The Xingtu fee of a live-selling task: refused (`allowed: false`) for a third-party link while the
 * live cart flag is BLOCKED; no rule before the first fee policy (`policyId: null`); otherwise the
 * policy's rate for the link source times the amount of its base, which must be given.
 */
export function xingtuFee(
  policies: readonly FeePolicy[],
  task: { at: Instant; category: string; linkSource: string; amounts: FeeAmounts; cartFlag: CartFlagValue },
): XingtuQuote {
  const thirdParty = task.linkSource !== OWN_SHOP;
  if (thirdParty && task.cartFlag === 'BLOCKED') {
    return { allowed: false, fee: null, rate: null, base: null, policyId: null };
  }
  const policy = feePolicyAt(policies, task.at, task.category);
  if (!policy) return { allowed: true, fee: null, rate: null, base: null, policyId: null };
  const { rate, base } = thirdParty ? policy.fees.thirdParty : policy.fees.shop;
  const amount = task.amounts[BASE_AMOUNT[base]];
  if (amount === undefined) {
    throw new InputError([
      { field: BASE_AMOUNT[base], problem: `is required: ${policy.policyId} prices this link on ${base}` },
    ]);
  }
  // Rounded to the cent, as an amount charged is.
  return { allowed: true, fee: Math.round(amount * rate * 100) / 100, rate, base, policyId: policy.policyId };
}

/** The two fee policies the source gives (rules §5); `policies load-default` records them with the cart policies. */
export const DEFAULT_FEE_POLICIES = [
  {
    policyId: 'XINGTU_FEE_2020_07_COSMETICS',
    // "late July": no day given; the last day of July is assumed.
    effectiveAt: '2020-07-31T00:00:00.000+08:00',
    dateAssumed: true,
    categories: ['cosmetics'],
    fees: { shop: { rate: 0.01, base: 'GMV' }, thirdParty: { rate: 0.05, base: 'STREAMER_FIXED_FEE' } },
  },
  {
    policyId: 'XINGTU_FEE_2020_08_20',
    effectiveAt: '2020-08-20T00:00:00.000+08:00',
    categories: 'ALL',
    fees: { shop: { rate: 0.05, base: 'TASK_AMOUNT' }, thirdParty: { rate: 0.2, base: 'TASK_AMOUNT' } },
  },
] as const satisfies readonly (FeePolicy & { dateAssumed?: boolean })[];
