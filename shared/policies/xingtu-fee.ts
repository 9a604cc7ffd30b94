// Xingtu (星图) service fees for live selling (rules §5): the fee policy that prices a task, and its fee.
// Pure: the policies come from the calendar (shared/policies/policy.ts), cart and fee policies alike.
import * as z from 'zod';
import { InputError } from '../errors';
import { memoize } from '../memoize';
import type { Instant } from '../time';
import {
  ALL_CATEGORIES,
  cartPoliciesOf,
  cartValueAt,
  type FeeBase,
  type FeePolicy,
  type FeeRate,
  feePoliciesOf,
  OWN_SHOP,
  type Policy,
  RATE_SCALE,
  THIRD_PARTY,
} from './policy';

/** The rate a fee policy gives a link source: its own entry, else (any source but the shop) `third-party`. */
export function rateFor(policy: Pick<FeePolicy, 'rates'>, linkSource: string): FeeRate | undefined {
  return policy.rates[linkSource] ?? (linkSource === OWN_SHOP ? undefined : policy.rates[THIRD_PARTY]);
}

/** Whether a fee policy's category scope holds this category (no category: only an ALL policy does). */
const scopeHolds = (policy: FeePolicy, category: string | undefined) =>
  policy.scope.categories === ALL_CATEGORIES ||
  (category !== undefined && policy.scope.categories.includes(category));

/**
 * The fee policy that prices a link source in a category at `at`: of the fee policies in force then
 * (not withdrawn) whose scope holds the category and that price the source, the most recent one (a
 * category-scoped policy and an ALL one: the more recent wins). At the same instant the scoped one
 * wins, being the more specific, then the lower id. A policy silent on a source leaves the earlier
 * rule for it standing.
 */
export function feePolicyAt(
  policies: readonly Policy[],
  at: Instant,
  category: string | undefined,
  linkSource: string,
): FeePolicy | undefined {
  const rank = (p: FeePolicy) => [p.effectiveAt, p.scope.categories === ALL_CATEGORIES ? 0 : 1] as const;
  let chosen: FeePolicy | undefined;
  for (const policy of feePoliciesOf(policies)) {
    if (policy.status === 'WITHDRAWN' || policy.effectiveAt > at) continue;
    if (!scopeHolds(policy, category) || !rateFor(policy, linkSource)) continue;
    if (!chosen) {
      chosen = policy;
      continue;
    }
    const [at1, scoped1] = rank(policy);
    const [at0, scoped0] = rank(chosen);
    const better =
      at1 > at0 ||
      (at1 === at0 && (scoped1 > scoped0 || (scoped1 === scoped0 && policy.policyId < chosen.policyId)));
    if (better) chosen = policy;
  }
  return chosen;
}

/** A fee policy's rate as an integer number of millionths (rates are validated to at most 6 decimals). */
const rateMillionths = (rate: number) => BigInt(Math.round(rate * RATE_SCALE));

/** `rate` of an amount in fen, rounded half up to the fen, in integers only (no float error). */
export function feeInFen(amountFen: number, rate: number): number {
  const scale = BigInt(RATE_SCALE);
  return Number((BigInt(amountFen) * rateMillionths(rate) + scale / 2n) / scale);
}

export interface XingtuTask {
  at: Instant;
  category: string;
  linkSource: string;
  /** The amounts given, in integer fen, by the base they are the amount of. */
  amountsFen: Partial<Record<FeeBase, number>>;
}

export interface XingtuQuote {
  allowed: boolean;
  /** In yuan (two decimals at most); null when nothing is priced. */
  fee: number | null;
  /** The same fee in integer fen. */
  feeFen: number | null;
  rate: number | null;
  base: FeeBase | null;
  /** The fee policy that prices (or, when not allowed, would price) the task; null before any. */
  policyId: string | null;
  /** The cart policy that blocks a third-party link at that instant (only when not allowed). */
  blockedBy?: string;
}

/**
 * The Xingtu fee of a live-selling task. A third-party link where the live-room cart flag is BLOCKED
 * at that instant (from the cart policies of the calendar, as quotes decide from the window, never a
 * stored status) cannot be sold: `allowed: false`, no fee. Before the first fee policy that prices
 * the link there is no rule: `policyId: null`, `fee: null`. Otherwise the policy's rate for the link
 * source times the amount of its base, which must be given: its absence is an input error whose
 * field is the base (the caller names its option).
 */
export function xingtuFeeAt(policies: readonly Policy[], task: XingtuTask): XingtuQuote {
  const policy = feePolicyAt(policies, task.at, task.category, task.linkSource);
  const none = { fee: null, feeFen: null, rate: null, base: null, policyId: policy?.policyId ?? null };
  if (task.linkSource !== OWN_SHOP) {
    const cart = cartValueAt(cartPoliciesOf(policies), [task.category], task.at);
    if (cart.value === 'BLOCKED') return { allowed: false, ...none, blockedBy: cart.policyId };
  }
  const rate = policy && rateFor(policy, task.linkSource);
  if (!policy || !rate) return { allowed: true, ...none };
  const amount = task.amountsFen[rate.base];
  if (amount === undefined) {
    throw new InputError([
      {
        field: rate.base,
        problem: `required: ${policy.policyId} prices ${task.linkSource} links at ${+(rate.rate * 100).toFixed(4)}% of ${rate.base}`,
      },
    ]);
  }
  const feeFen = feeInFen(amount, rate.rate);
  return {
    allowed: true,
    fee: feeFen / 100,
    feeFen,
    rate: rate.rate,
    base: rate.base,
    policyId: policy.policyId,
  };
}

/** What a fee policy's audience is decided on: a merchant's categories and its live carts' link sources. */
export interface LiveCart {
  categories: readonly string[];
  liveCartSources: readonly string[];
}

/** The categories a fee policy is matched on (a merchant of no category: only ALL policies hold it). */
const categoriesOf = (cart: LiveCart): (string | undefined)[] =>
  cart.categories.length > 0 ? [...cart.categories] : [undefined];

/** Whether a fee policy prices some link source of the merchant's live carts in one of its categories. */
export function pricesCartOf(policy: FeePolicy, cart: LiveCart): boolean {
  return (
    categoriesOf(cart).some((category) => scopeHolds(policy, category)) &&
    cart.liveCartSources.some((source) => rateFor(policy, source) !== undefined)
  );
}

/**
 * Whether a fee policy changes the fees of a merchant: at the policy's instant, given the calendar
 * (which holds it), it is the policy that prices one of the merchant's live-cart link sources in one
 * of its categories. A policy that a scoped one of the same instant outranks changes nothing.
 */
export function changesFeesFor(policies: readonly Policy[], policy: FeePolicy, cart: LiveCart): boolean {
  return (
    policy.status !== 'WITHDRAWN' &&
    categoriesOf(cart).some((category) =>
      cart.liveCartSources.some(
        (source) => feePolicyAt(policies, policy.effectiveAt, category, source)?.policyId === policy.policyId,
      ),
    )
  );
}

/** A fee policy's link sources priced as `shop` links: reaching them needs every merchant, not only third-party carts. */
export const pricesShopLinks = (policy: Pick<FeePolicy, 'rates'>) => rateFor(policy, OWN_SHOP) !== undefined;

/** changesFeesFor for one policy against one calendar, remembered per categories and sources (many merchants share them). */
export function feeChangeTest(policies: readonly Policy[], policy: FeePolicy): (cart: LiveCart) => boolean {
  const byKey = memoize((key) => {
    const [categories = '', sources = ''] = key.split('\u0001');
    const list = (text: string) => (text === '' ? [] : text.split('\u0000'));
    return changesFeesFor(policies, policy, { categories: list(categories), liveCartSources: list(sources) });
  });
  return (cart) => byKey(`${cart.categories.join('\u0000')}\u0001${cart.liveCartSources.join('\u0000')}`);
}

/** The most an amount may be, in yuan (a bound that keeps every fee exact). */
export const MAX_AMOUNT_YUAN = 1_000_000_000_000;

/** An amount in yuan as typed (`1234.5`, at most two decimals: fen), read exactly as integer fen. */
export const amountFenSchema = z
  .string()
  .trim()
  .regex(/^\d+(\.\d{1,2})?$/, 'must be an amount in yuan with at most 2 decimals, e.g. 1234.50')
  .transform((text) => {
    const [yuan = '0', fen = ''] = text.split('.');
    return Number(yuan) * 100 + Number(fen.padEnd(2, '0'));
  })
  .refine((fen) => fen <= MAX_AMOUNT_YUAN * 100, `must be at most ${MAX_AMOUNT_YUAN} yuan`);
