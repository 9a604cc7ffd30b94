// Programs as data (rules §4): eligibility at its boundaries, windows per program, the built-ins.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseInput } from '../../shared/errors';
import {
  BUILT_IN_PROGRAMS,
  enrolledIn,
  isEligible,
  type Program,
  programSchema,
  programsInEffect,
  programWindow,
} from '../../shared/programs/program';
import { capabilitiesAt, type Promotion } from '../../shared/promotion/lifecycle';
import { promotionWindow } from '../../shared/promotion/window';
import { addDays } from '../../shared/time';
import { recorded, sh } from '../support/promotions';

const builtIn = (id: string) => BUILT_IN_PROGRAMS.find((p) => p.programId === id) as Program;
const seedPlan = builtIn('SEED_PLAN_2020');
const newMerchantFee = builtIn('NEW_MERCHANT_FEE');

describe('the built-in programs', () => {
  it('are valid program files, exactly as an operator would announce them', () => {
    for (const program of BUILT_IN_PROGRAMS) expect(programSchema.parse(program)).toEqual(program);
  });

  it('NEW_MERCHANT_FEE has the window of rules §1 for every T', () => {
    const day = fc.integer({ min: 0, max: 3650 }).map((n) => addDays('2019-01-01', n));
    fc.assert(
      fc.property(day, (t) => {
        const { startsAt, endsBefore, lastDay, days } = promotionWindow(t);
        expect(programWindow(newMerchantFee, t)).toEqual({ startsAt, endsBefore, lastDay, days });
      }),
    );
  });
});

describe('eligibility', () => {
  it('starts on its from date (July 1st for the seed plan, assumed) and needs one listed category', () => {
    expect(isEligible(seedPlan, '2020-06-30', ['apparel'])).toBe(false);
    expect(isEligible(seedPlan, '2020-07-01', ['apparel'])).toBe(true);
    expect(isEligible(seedPlan, '2020-07-01', ['digital'])).toBe(false);
    expect(isEligible(seedPlan, '2020-07-01', ['digital', 'cosmetics'])).toBe(true);
    expect(isEligible(seedPlan, '2020-07-01', [])).toBe(false);
  });

  it('ALL takes every merchant, with or without categories, from its from date', () => {
    expect(isEligible(newMerchantFee, '2020-04-30', ['apparel'])).toBe(false);
    expect(isEligible(newMerchantFee, '2020-05-01', [])).toBe(true);
  });

  it('ends before its until date', () => {
    const bounded = { ...seedPlan, eligibility: { ...seedPlan.eligibility, until: '2020-08-01' } };
    expect(isEligible(bounded, '2020-07-31', ['pets'])).toBe(true);
    expect(isEligible(bounded, '2020-08-01', ['pets'])).toBe(false);
  });
});

describe('a program file', () => {
  it('names the field and the problem', () => {
    const bad = {
      ...seedPlan,
      programId: 'seed plan',
      eligibility: { from: '2020-07-01', until: '2020-06-01', categories: [] },
      window: { startOffsetDays: -1, lengthDays: 30 },
      benefits: {},
    };
    expect(() => parseInput(programSchema, bad)).toThrow(
      /programId: may contain only A–Z, 0–9 and _.*eligibility\.categories: must name a category.*window\.startOffsetDays: must be at least 0.*benefits: must give at least one benefit/,
    );
  });
});

describe('programs in effect', () => {
  it('a stored program overrides the built-in one with its id; others join', () => {
    const corrected = {
      ...seedPlan,
      eligibility: { ...seedPlan.eligibility, from: '2020-07-15' },
      dateAssumed: false,
    };
    const other = { ...newMerchantFee, programId: 'OTHER' };
    expect(programsInEffect([corrected, other]).map((p) => [p.programId, p.eligibility.from])).toEqual([
      ['NEW_MERCHANT_FEE', '2020-05-01'],
      ['SEED_PLAN_2020', '2020-07-15'],
      ['OTHER', '2020-05-01'],
    ]);
  });
});

describe('capabilities at an instant', () => {
  const enrolment = (program: Program): Promotion => ({
    ...recorded('m', '2020-07-06'), // window 2020-07-08 00:00 – 2020-08-07 00:00
    ...enrolledIn({ program, status: 'ANNOUNCED', version: 0, source: 'built-in' }),
  });
  const seedEnrolment = enrolment(seedPlan);
  const enrolments = [enrolment(newMerchantFee), seedEnrolment];

  it('are those of the programs active then, from the window’s first instant to its end', () => {
    expect(capabilitiesAt(enrolments, sh('2020-07-07 23:59'))).toEqual([]);
    expect(capabilitiesAt(enrolments, sh('2020-07-08 00:00'))).toEqual([
      'LIVE_CART_ZERO_FOLLOWERS',
      'LIVE_TRAFFIC_SUPPORT',
    ]);
    expect(capabilitiesAt(enrolments, '2020-08-06T23:59:59.999+08:00')).toHaveLength(2);
    expect(capabilitiesAt(enrolments, sh('2020-08-07 00:00'))).toEqual([]);
  });

  it('end at a revocation', () => {
    const revoked = [{ ...seedEnrolment, revokedAt: sh('2020-07-20 00:00') }];
    expect(capabilitiesAt(revoked, sh('2020-07-19 23:59'))).toHaveLength(2);
    expect(capabilitiesAt(revoked, sh('2020-07-20 00:00'))).toEqual([]);
  });
});
