// Xingtu service fees (rules §5): which policy prices a task at every boundary, on which base, when a
// third-party link cannot be sold at all, and the fee in integer fen.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CART_POLICIES, DEFAULT_FEE_POLICIES } from '../../cli/policies/calendar';
import { InputError } from '../../shared/errors';
import {
  conflictOf,
  type FeePolicy,
  type Policy,
  policyInputSchema,
  sameContent,
} from '../../shared/policies/policy';
import {
  amountFenSchema,
  changesFeesFor,
  feeInFen,
  pricesCartOf,
  type XingtuTask,
  xingtuFeeAt,
} from '../../shared/policies/xingtu-fee';
import { sh } from '../support/promotions';

/** A policy as the calendar stores it, from its file form. */
const stored = (input: unknown): Policy => ({
  ...policyInputSchema.parse(input),
  status: 'SCHEDULED',
  version: 1,
  history: [],
});
const calendar: Policy[] = [...DEFAULT_CART_POLICIES, ...DEFAULT_FEE_POLICIES].map(stored);

const AMOUNTS = { GMV: 1_000_000, STREAMER_FIXED_FEE: 200_000, TASK_AMOUNT: 500_000 }; // 10,000 / 2,000 / 5,000 yuan
const task = (at: string, category: string, linkSource: string): XingtuTask => ({
  at: at.includes('T') ? at : sh(at),
  category,
  linkSource,
  amountsFen: AMOUNTS,
});
const fee = (at: string, category: string, linkSource: string, policies = calendar) =>
  xingtuFeeAt(policies, task(at, category, linkSource));
const NO_RULE = { allowed: true, fee: null, feeFen: null, rate: null, base: null, policyId: null };

const feePolicy = (policyId: string, effectiveAt: string, categories: 'ALL' | string[], rates: object) =>
  stored({
    kind: 'XINGTU_FEE',
    policyId,
    title: policyId,
    announcedOn: effectiveAt.slice(0, 10),
    effectiveAt,
    scope: { channel: 'live', categories },
    rates,
  }) as FeePolicy;

describe('which fee policy prices a task', () => {
  it('none before the first policy: 2020-07-30 23:59:59.999 has no rule, for any link', () => {
    expect(fee('2020-07-30T23:59:59.999+08:00', 'cosmetics', 'shop')).toEqual(NO_RULE);
    expect(fee('2020-07-30T23:59:59.999+08:00', 'cosmetics', 'taobao')).toEqual(NO_RULE);
  });

  it('from 2020-07-31 00:00 (assumed) the cosmetics policy: shop 1% of GMV, third-party 5% of the streamer fee', () => {
    expect(fee('2020-07-31 00:00', 'cosmetics', 'shop')).toEqual({
      allowed: true,
      fee: 100,
      feeFen: 10_000,
      rate: 0.01,
      base: 'GMV',
      policyId: 'XINGTU_FEE_2020_07_COSMETICS',
    });
    expect(fee('2020-07-31 00:00', 'cosmetics', 'taobao')).toEqual({
      allowed: true,
      fee: 100,
      feeFen: 10_000,
      rate: 0.05,
      base: 'STREAMER_FIXED_FEE',
      policyId: 'XINGTU_FEE_2020_07_COSMETICS',
    });
  });

  it('the cosmetics scope excludes every other category until the ALL policy', () => {
    expect(fee('2020-07-31 00:00', 'apparel', 'shop')).toEqual(NO_RULE);
    expect(fee('2020-08-19T23:59:59.999+08:00', 'apparel', 'jd')).toEqual(NO_RULE);
  });

  it('08-19 23:59:59.999 still the cosmetics policy; from 08-20 00:00 the more recent ALL one, for every category', () => {
    expect(fee('2020-08-19T23:59:59.999+08:00', 'cosmetics', 'shop').policyId).toBe(
      'XINGTU_FEE_2020_07_COSMETICS',
    );
    expect(fee('2020-08-20 00:00', 'cosmetics', 'shop')).toEqual({
      allowed: true,
      fee: 250,
      feeFen: 25_000,
      rate: 0.05,
      base: 'TASK_AMOUNT',
      policyId: 'XINGTU_FEE_2020_08_20',
    });
    expect(fee('2020-08-20 00:00', 'apparel', 'jd')).toMatchObject({
      fee: 1000,
      rate: 0.2,
      base: 'TASK_AMOUNT',
      policyId: 'XINGTU_FEE_2020_08_20',
    });
  });

  it('a scoped policy later than the ALL one wins again; an ALL one later than a scoped one wins', () => {
    const later = feePolicy('COSMETICS_LATER', '2020-09-01', ['cosmetics'], {
      shop: { rate: 0.02, base: 'GMV' },
    });
    const policies = [...calendar, later];
    expect(fee('2020-09-01 00:00', 'cosmetics', 'shop', policies).policyId).toBe('COSMETICS_LATER');
    expect(fee('2020-08-31 23:59', 'cosmetics', 'shop', policies).policyId).toBe('XINGTU_FEE_2020_08_20');
    expect(fee('2020-09-01 00:00', 'apparel', 'shop', policies).policyId).toBe('XINGTU_FEE_2020_08_20');
  });

  it('at the same instant a scoped policy beats an ALL one, whatever the calendar order; two ALL ones: the lower id', () => {
    const scoped = feePolicy('Z_COSMETICS_SAME_DAY', '2020-08-20', ['cosmetics'], {
      shop: { rate: 0.02, base: 'GMV' },
    });
    for (const policies of [
      [scoped, ...calendar],
      [...calendar, scoped],
    ]) {
      // (Its id sorts after the ALL one's: it wins by its scope, not by its id.)
      expect(fee('2020-08-20 00:00', 'cosmetics', 'shop', policies).policyId).toBe('Z_COSMETICS_SAME_DAY');
      expect(fee('2020-08-20 00:00', 'apparel', 'shop', policies).policyId).toBe('XINGTU_FEE_2020_08_20');
    }
    const other = feePolicy('A_ALL_SAME_DAY', '2020-08-20', 'ALL', { shop: { rate: 0.02, base: 'GMV' } });
    for (const policies of [
      [other, ...calendar],
      [...calendar, other],
    ]) {
      expect(fee('2020-08-20 00:00', 'apparel', 'shop', policies).policyId).toBe('A_ALL_SAME_DAY');
    }
  });

  it('a policy silent on a link source leaves the earlier rule for it; a named source beats third-party', () => {
    const taobao = feePolicy('TAOBAO_ONLY', '2020-09-01', 'ALL', { taobao: { rate: 0.1, base: 'GMV' } });
    const policies = [...calendar, taobao];
    expect(fee('2020-09-01 00:00', 'apparel', 'taobao', policies)).toMatchObject({
      policyId: 'TAOBAO_ONLY',
      rate: 0.1,
      base: 'GMV',
    });
    expect(fee('2020-09-01 00:00', 'apparel', 'jd', policies)).toMatchObject({
      policyId: 'XINGTU_FEE_2020_08_20',
      rate: 0.2,
    });
    expect(fee('2020-09-01 00:00', 'apparel', 'shop', policies).policyId).toBe('XINGTU_FEE_2020_08_20');
  });

  it('a withdrawn policy prices nothing', () => {
    const withdrawn = calendar.map((p) =>
      p.policyId === 'XINGTU_FEE_2020_08_20' ? { ...p, status: 'WITHDRAWN' as const } : p,
    );
    expect(fee('2020-08-20 00:00', 'cosmetics', 'shop', withdrawn).policyId).toBe(
      'XINGTU_FEE_2020_07_COSMETICS',
    );
    expect(fee('2020-08-20 00:00', 'apparel', 'shop', withdrawn)).toEqual(NO_RULE);
  });
});

describe('what cannot be priced', () => {
  it('a third-party link is not allowed from 2020-10-09 00:00, when the built-in calendar blocks the live cart', () => {
    expect(fee('2020-10-08T23:59:59.999+08:00', 'apparel', 'taobao')).toMatchObject({
      allowed: true,
      fee: 1000,
    });
    expect(fee('2020-10-09 00:00', 'apparel', 'taobao')).toEqual({
      allowed: false,
      fee: null,
      feeFen: null,
      rate: null,
      base: null,
      policyId: 'XINGTU_FEE_2020_08_20',
      blockedBy: 'live-third-party-blocked-2020-10-09',
    });
    // A shop link is never blocked; XINGTU_ONLY (from 09-06) still lets a third-party link be sold.
    expect(fee('2020-10-09 00:00', 'apparel', 'shop')).toMatchObject({ allowed: true, fee: 250 });
    expect(fee('2020-09-06 00:00', 'apparel', 'jd')).toMatchObject({ allowed: true, fee: 1000 });
  });

  it('the amount the base needs, missing, is an input error naming the base; only that amount is needed', () => {
    const shop = { ...task('2020-07-31 00:00', 'cosmetics', 'shop'), amountsFen: { TASK_AMOUNT: 1 } };
    expect(() => xingtuFeeAt(calendar, shop)).toThrow(InputError);
    expect(() => xingtuFeeAt(calendar, shop)).toThrow(
      /^GMV: required: XINGTU_FEE_2020_07_COSMETICS prices shop links at 1% of GMV$/,
    );
    expect(xingtuFeeAt(calendar, { ...shop, amountsFen: { GMV: 100 } }).feeFen).toBe(1);
    // Before any rule, or where the link cannot be sold, no amount is needed.
    expect(xingtuFeeAt(calendar, { ...shop, at: sh('2020-07-30 23:59'), amountsFen: {} })).toEqual(NO_RULE);
    const blocked = { ...task('2020-10-09 00:00', 'apparel', 'jd'), amountsFen: {} };
    expect(xingtuFeeAt(calendar, blocked).allowed).toBe(false);
  });
});

describe('the fee in integer fen', () => {
  it('rounds half up to the fen, with no float error', () => {
    expect(feeInFen(70, 0.05)).toBe(4); // 3.5 fen (as floats 70 × 0.05 × … = 3.4999…)
    expect(feeInFen(10_050, 0.01)).toBe(101); // 100.5 fen
    expect(feeInFen(10_049, 0.01)).toBe(100);
    expect(feeInFen(1, 0.05)).toBe(0);
    expect(feeInFen(0, 0.2)).toBe(0);
    expect(feeInFen(100_000_000_000_000, 0.123456)).toBe(12_345_600_000_000);
  });

  it('reads amounts in yuan exactly, at most two decimals', () => {
    expect(amountFenSchema.parse('0.70')).toBe(70);
    expect(amountFenSchema.parse('100.5')).toBe(10_050);
    expect(amountFenSchema.parse('1234')).toBe(123_400);
    for (const bad of ['1.234', '-1', '1e3', '', 'abc', '1000000000000.01']) {
      expect(amountFenSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('a quote is computed in fen, exactly: the fee in yuan is the fen fee over 100', () => {
    const q = xingtuFeeAt(calendar, {
      ...task('2020-08-20 00:00', 'apparel', 'shop'),
      amountsFen: { TASK_AMOUNT: 70 },
    });
    // 0.70 yuan at 5%: 3.5 fen, 4 rounded half up (in yuan as floats, 0.7 × 0.05 × 100 = 3.4999…).
    expect([q.fee, q.feeFen]).toEqual([0.04, 4]);
    // The largest amounts: 999,999,999,999.95 yuan at 70% is 69,999,999,999,996.5 fen exactly (as
    // floats, 69,999,999,999,996.49…).
    const steep = feePolicy('STEEP', '2020-09-01', 'ALL', { shop: { rate: 0.7, base: 'TASK_AMOUNT' } });
    const big = xingtuFeeAt([...calendar, steep], {
      ...task('2020-09-01 00:00', 'apparel', 'shop'),
      amountsFen: { TASK_AMOUNT: 99_999_999_999_995 },
    });
    expect([big.policyId, big.feeFen]).toEqual(['STEEP', 69_999_999_999_997]);
  });
});

describe('a fee policy file', () => {
  it('is told apart by kind; a file without kind is a cart policy', () => {
    expect(policyInputSchema.parse(DEFAULT_CART_POLICIES[0]).kind).toBe('CART');
    const parsed = policyInputSchema.parse(DEFAULT_FEE_POLICIES[0]);
    expect(parsed).toMatchObject({
      kind: 'XINGTU_FEE',
      effectiveAt: sh('2020-07-31 00:00'),
      dateAssumed: true,
      scope: { categories: ['cosmetics'] },
    });
  });

  it('names the field of a bad one', () => {
    const problems = (input: object) =>
      policyInputSchema
        .safeParse({ ...DEFAULT_FEE_POLICIES[1], ...input })
        .error?.issues.map((i) => [i.path.join('.'), i.message]);
    expect(problems({ kind: 'FEE' })).toEqual([['kind', 'must be one of CART, XINGTU_FEE (absent: CART)']]);
    expect(problems({ policyId: 'lower_case' })).toEqual([
      ['policyId', 'must be upper-case letters, digits and "_"'],
    ]);
    expect(problems({ rates: {} })).toEqual([['rates', 'must price at least one link source, e.g. "shop"']]);
    expect(problems({ rates: { shop: { rate: 0.05, base: 'PROFIT' } } })).toEqual([
      ['rates.shop.base', 'must be one of GMV, STREAMER_FIXED_FEE, TASK_AMOUNT'],
    ]);
    expect(problems({ rates: { shop: { rate: 0.0000001, base: 'GMV' } } })).toEqual([
      ['rates.shop.rate', 'must have at most 6 decimal places'],
    ]);
    expect(problems({ thirdPartyProducts: 'BLOCKED' })?.[0]?.[1]).toMatch(/thirdPartyProducts/);
  });

  it('conflicts only with a fee policy of the same instant and overlapping scope', () => {
    const input = policyInputSchema.parse({ ...DEFAULT_FEE_POLICIES[1], policyId: 'OTHER_2020_08_20' });
    expect(conflictOf(input, calendar)?.policyId).toBe('XINGTU_FEE_2020_08_20');
    const cartSameDay = policyInputSchema.parse({
      ...DEFAULT_CART_POLICIES[0],
      announcedOn: '2020-08-19',
      effectiveAt: '2020-08-20',
    });
    expect(conflictOf(cartSameDay, calendar)).toBeUndefined();
  });

  it('has the same content whatever the order of its rates', () => {
    const a = policyInputSchema.parse(DEFAULT_FEE_POLICIES[1]);
    const rates = Object.fromEntries(Object.entries((a as FeePolicy).rates).reverse());
    expect(sameContent(a, policyInputSchema.parse({ ...DEFAULT_FEE_POLICIES[1], rates }))).toBe(true);
    expect(sameContent(a, policyInputSchema.parse({ ...DEFAULT_FEE_POLICIES[1], title: 'x' }))).toBe(false);
  });
});

describe('whom a fee policy concerns', () => {
  const cosmetics = calendar.find((p) => p.policyId === 'XINGTU_FEE_2020_07_COSMETICS') as FeePolicy;
  const all = calendar.find((p) => p.policyId === 'XINGTU_FEE_2020_08_20') as FeePolicy;

  it('merchants whose live carts hold a link source it prices, in its category scope', () => {
    expect(pricesCartOf(cosmetics, { categories: ['cosmetics'], liveCartSources: ['shop'] })).toBe(true);
    expect(pricesCartOf(cosmetics, { categories: ['apparel'], liveCartSources: ['shop', 'jd'] })).toBe(false);
    expect(pricesCartOf(all, { categories: [], liveCartSources: ['taobao'] })).toBe(true);
    expect(pricesCartOf(all, { categories: ['food'], liveCartSources: [] })).toBe(false);
    const shopOnly = feePolicy('SHOP_ONLY', '2020-09-01', 'ALL', { shop: { rate: 0.02, base: 'GMV' } });
    expect(pricesCartOf(shopOnly, { categories: ['food'], liveCartSources: ['jd'] })).toBe(false);
  });

  it('only where it is the rule at its instant: a scoped policy of the same instant takes its merchants', () => {
    const scoped = feePolicy('Z_COSMETICS_SAME_DAY', '2020-08-20', ['cosmetics'], {
      'third-party': { rate: 0.1, base: 'TASK_AMOUNT' },
    });
    const policies = [...calendar, scoped];
    const jdCosmetics = { categories: ['cosmetics'], liveCartSources: ['jd'] };
    expect(changesFeesFor(policies, all, jdCosmetics)).toBe(false);
    expect(changesFeesFor(policies, scoped, jdCosmetics)).toBe(true);
    // The scoped one prices no shop link: the ALL one still changes a cosmetics shop cart.
    expect(changesFeesFor(policies, all, { categories: ['cosmetics'], liveCartSources: ['shop'] })).toBe(
      true,
    );
    expect(
      changesFeesFor(calendar, cosmetics, { categories: ['cosmetics', 'food'], liveCartSources: ['shop'] }),
    ).toBe(true);
  });
});
