// Xingtu service fees (rules §5): which policy prices a task at every boundary, on which base, and
// when a third-party link cannot be sold at all.
import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors';
import type { CartFlagValue } from '../../shared/policies/policy';
import {
  DEFAULT_FEE_POLICIES,
  type FeePolicy,
  feePolicyAt,
  xingtuFee,
} from '../../shared/policies/xingtu-fee';
import { sh } from '../support/promotions';

const policies: readonly FeePolicy[] = DEFAULT_FEE_POLICIES;
const task = (at: string, category: string, linkSource: string, cartFlag: CartFlagValue = 'ALLOWED') => ({
  at: sh(at),
  category,
  linkSource,
  cartFlag,
  amounts: { gmv: 10_000, streamerFee: 2_000, taskAmount: 5_000 },
});

describe('which fee policy prices a task', () => {
  it('none before the first policy: no rule, no fee', () => {
    expect(xingtuFee(policies, task('2020-07-30 23:59', 'cosmetics', 'shop'))).toEqual({
      allowed: true,
      fee: null,
      rate: null,
      base: null,
      policyId: null,
    });
  });

  it('the cosmetics policy from its (assumed) instant, for cosmetics only', () => {
    expect(xingtuFee(policies, task('2020-07-31 00:00', 'cosmetics', 'shop'))).toEqual({
      allowed: true,
      fee: 100,
      rate: 0.01,
      base: 'GMV',
      policyId: 'XINGTU_FEE_2020_07_COSMETICS',
    });
    expect(xingtuFee(policies, task('2020-07-31 00:00', 'cosmetics', 'taobao'))).toMatchObject({
      fee: 100,
      rate: 0.05,
      base: 'STREAMER_FIXED_FEE',
    });
    expect(feePolicyAt(policies, sh('2020-08-01 00:00'), 'apparel')).toBeUndefined();
  });

  it('the all-category policy of 2020-08-20, being the more recent, wins over the cosmetics one', () => {
    expect(feePolicyAt(policies, sh('2020-08-19 23:59'), 'cosmetics')?.policyId).toBe(
      'XINGTU_FEE_2020_07_COSMETICS',
    );
    expect(xingtuFee(policies, task('2020-08-20 00:00', 'cosmetics', 'shop'))).toMatchObject({
      fee: 250,
      rate: 0.05,
      base: 'TASK_AMOUNT',
      policyId: 'XINGTU_FEE_2020_08_20',
    });
    expect(xingtuFee(policies, task('2020-08-20 00:00', 'apparel', 'jd'))).toMatchObject({
      fee: 1000,
      rate: 0.2,
    });
  });

  it('a scoped policy later than the ALL one wins again; at the same instant, the scoped one', () => {
    const later: FeePolicy = {
      policyId: 'COSMETICS_LATER',
      effectiveAt: sh('2020-09-01 00:00'),
      categories: ['cosmetics'],
      fees: { shop: { rate: 0.02, base: 'GMV' }, thirdParty: { rate: 0.1, base: 'TASK_AMOUNT' } },
    };
    expect(feePolicyAt([...policies, later], sh('2020-09-01 00:00'), 'cosmetics')?.policyId).toBe(
      'COSMETICS_LATER',
    );
    const tie = { ...later, policyId: 'COSMETICS_SAME_DAY', effectiveAt: sh('2020-08-20 00:00') };
    for (const calendar of [
      [tie, ...policies],
      [...policies, tie],
    ]) {
      expect(feePolicyAt(calendar, sh('2020-08-20 00:00'), 'cosmetics')?.policyId).toBe('COSMETICS_SAME_DAY');
    }
  });
});

describe('what cannot be priced', () => {
  it('a third-party link where the live cart flag is BLOCKED is not allowed; a shop link still is', () => {
    expect(xingtuFee(policies, task('2020-10-09 00:00', 'apparel', 'taobao', 'BLOCKED'))).toEqual({
      allowed: false,
      fee: null,
      rate: null,
      base: null,
      policyId: null,
    });
    expect(xingtuFee(policies, task('2020-10-09 00:00', 'apparel', 'shop', 'BLOCKED'))).toMatchObject({
      allowed: true,
      fee: 250,
    });
  });

  it('the amount the base needs, missing, is an input error naming it', () => {
    const missing = { ...task('2020-08-20 00:00', 'apparel', 'shop'), amounts: { gmv: 1 } };
    expect(() => xingtuFee(policies, missing)).toThrow(InputError);
    expect(() => xingtuFee(policies, missing)).toThrow(/^taskAmount: is required: XINGTU_FEE_2020_08_20/);
  });
});
