import { describe, expect, it } from 'vitest';
import { type OrderSource, quoteAcross, quoteOrder } from '../../cli/pricing/quote';
import type { Promotion } from '../../shared/promotion/lifecycle';
import { recorded, sh } from '../support/promotions';

describe('order rate quote (rules §1)', () => {
  const a = recorded('merchant-a', '2020-05-06');
  const quote = (
    createdAt: string,
    source: 'ad' | 'alliance' | 'other' = 'other',
    standardRate = 0.05,
    p = a,
  ) => quoteOrder(p, { createdAt, source, standardRate });

  it('gives min(1%, standard) to non-ad orders created inside the window, whatever the stored status', () => {
    expect(quote(sh('2020-05-20 12:00'))).toMatchObject({ rate: 0.01, promotion: true });
    expect(quote(sh('2020-05-20 12:00'), 'alliance')).toMatchObject({ rate: 0.01, promotion: true });
    expect(quote(sh('2020-05-08 00:00'))).toMatchObject({ rate: 0.01, promotion: true });
    expect(quote('2020-06-06T23:59:59.999+08:00')).toMatchObject({ rate: 0.01, promotion: true });
    expect(quote(sh('2020-05-20 12:00'), 'other', 0.006)).toMatchObject({ rate: 0.006, promotion: true });
    expect(a.status).toBe('SCHEDULED'); // never activated by a job, still priced by its window
  });

  it('charges the standard rate outside the window, for ad orders, and for ineligible merchants', () => {
    expect(quote('2020-05-07T23:59:59.999+08:00')).toMatchObject({ rate: 0.05, promotion: false });
    expect(quote(sh('2020-06-07 00:00'))).toMatchObject({ rate: 0.05, promotion: false });
    expect(quote(sh('2020-05-20 12:00'), 'ad')).toMatchObject({
      rate: 0.05,
      promotion: false,
      reason: expect.stringMatching(/ad-traffic/),
    });
    expect(quote(sh('2020-05-20 12:00'), 'other', 0.05, recorded('old', '2020-04-30'))).toMatchObject({
      promotion: false,
    });
  });

  it('keeps the rate for orders before a revocation and not from its instant on', () => {
    const revoked = { ...a, status: 'REVOKED' as const, revokedAt: sh('2020-05-20 12:00') };
    expect(quote('2020-05-20T11:59:59.999+08:00', 'other', 0.05, revoked)).toMatchObject({ rate: 0.01 });
    expect(quote(sh('2020-05-20 12:00'), 'other', 0.05, revoked)).toMatchObject({
      rate: 0.05,
      reason: expect.stringMatching(/revoked/),
    });
  });
});

describe('no stacking across programs (rules §4)', () => {
  // Today's promotion on T = 2020-07-06: [2020-07-08 00:00, 2020-08-07 00:00), 1%.
  const fee = recorded('m', '2020-07-06');
  type Benefits = Promotion['program']['benefits'];
  /** An enrolment in another program, on its own T (so its own window), with these benefits. */
  const enrolment = (
    programId: string,
    onboardedOn: string,
    benefits: Benefits,
    extra: Partial<Promotion> = {},
  ): Promotion => ({
    ...recorded('m', onboardedOn),
    programId,
    program: { name: programId, benefits },
    programVersion: 1,
    ...extra,
  });
  // [2020-07-18 00:00, 2020-08-17 00:00), 0.8%: overlaps today's promotion from 07-18 to 08-06.
  const seed = enrolment('SEED_PLAN_2020', '2020-07-16', { feeRate: 0.008 });
  const order = (createdAt: string, standardRate = 0.05, source: OrderSource = 'other') => ({
    createdAt: createdAt.includes('T') ? createdAt : sh(createdAt),
    source,
    standardRate,
  });
  const rateOf = (enrolments: Promotion[], at: string, standardRate?: number) => {
    const { rate, promotion, programId } = quoteAcross(enrolments, order(at, standardRate));
    return { rate, promotion, programId };
  };

  it('each order gets the lowest cap among the windows holding it, at every window boundary', () => {
    const both = [fee, seed];
    const cases: [string, number, string | null][] = [
      ['2020-07-07T23:59:59.999+08:00', 0.05, null],
      ['2020-07-08 00:00', 0.01, 'NEW_MERCHANT_FEE'],
      ['2020-07-17T23:59:59.999+08:00', 0.01, 'NEW_MERCHANT_FEE'],
      ['2020-07-18 00:00', 0.008, 'SEED_PLAN_2020'], // both hold it: the lower cap, not 1% and not a product
      ['2020-08-06T23:59:59.999+08:00', 0.008, 'SEED_PLAN_2020'],
      ['2020-08-07 00:00', 0.008, 'SEED_PLAN_2020'], // today's promotion is over
      ['2020-08-16T23:59:59.999+08:00', 0.008, 'SEED_PLAN_2020'],
      ['2020-08-17 00:00', 0.05, null],
    ];
    for (const [at, rate, programId] of cases) {
      for (const enrolments of [both, [...both].reverse()]) {
        expect([at, rateOf(enrolments, at)]).toEqual([
          at,
          { rate, promotion: programId !== null, programId },
        ]);
      }
    }
  });

  it('caps do not stack: two 1% enrolments give 1%', () => {
    const sameCap = enrolment('SEED_PLAN_2020', '2020-07-06', { feeRate: 0.01 });
    expect(rateOf([fee, sameCap], '2020-07-20 12:00')).toEqual({
      rate: 0.01,
      promotion: true,
      programId: 'NEW_MERCHANT_FEE',
    });
  });

  it('equal caps: the earlier window start wins, then the lower programId, in any order given', () => {
    // Z_EARLY's window starts a day before A_LATE's: the start decides before the id does.
    const early = enrolment('Z_EARLY', '2020-07-05', { feeRate: 0.01 });
    const late = enrolment('A_LATE', '2020-07-06', { feeRate: 0.01 });
    for (const enrolments of [
      [early, late],
      [late, early],
    ]) {
      expect(rateOf(enrolments, '2020-07-20 12:00').programId).toBe('Z_EARLY');
    }
    const sameStart = enrolment('A_SAME', '2020-07-06', { feeRate: 0.01 });
    for (const enrolments of [
      [fee, sameStart],
      [sameStart, fee],
    ]) {
      expect(rateOf(enrolments, '2020-07-20 12:00').programId).toBe('A_SAME');
    }
  });

  it('an enrolment revoked before or at the order gives nothing; one revoked just after still does', () => {
    const at = sh('2020-07-20 12:00');
    const revokedAt = (instant: string) => [fee, { ...seed, status: 'REVOKED' as const, revokedAt: instant }];
    expect(rateOf(revokedAt('2020-07-20T11:59:59.999+08:00'), at)).toMatchObject({
      rate: 0.01,
      programId: 'NEW_MERCHANT_FEE',
    });
    expect(rateOf(revokedAt(at), at)).toMatchObject({ rate: 0.01, programId: 'NEW_MERCHANT_FEE' });
    expect(rateOf(revokedAt('2020-07-20T12:00:00.001+08:00'), at)).toMatchObject({
      rate: 0.008,
      programId: 'SEED_PLAN_2020',
    });
    const all = [
      { ...fee, revokedAt: at },
      { ...seed, revokedAt: at },
    ];
    expect(quoteAcross(all, order(at))).toMatchObject({
      rate: 0.05,
      promotion: false,
      programId: null,
      reason: expect.stringMatching(/revoked/),
    });
  });

  it('never above the standard rate: below every cap it is the rate, and the lowest cap still names the program', () => {
    const both = [fee, seed];
    expect(rateOf(both, '2020-07-20 12:00', 0.005)).toEqual({
      rate: 0.005,
      promotion: true,
      programId: 'SEED_PLAN_2020',
    });
    expect(rateOf(both, '2020-07-20 12:00', 0.008)).toMatchObject({
      rate: 0.008,
      programId: 'SEED_PLAN_2020',
    });
    expect(rateOf(both, '2020-07-20 12:00', 0.009)).toMatchObject({
      rate: 0.008,
      programId: 'SEED_PLAN_2020',
    });
    expect(rateOf([fee], '2020-07-10 12:00', 0)).toMatchObject({ rate: 0, programId: 'NEW_MERCHANT_FEE' });
  });

  it('ad-traffic orders never qualify, in any window', () => {
    expect(quoteAcross([fee, seed], order('2020-07-20 12:00', 0.05, 'ad'))).toEqual({
      rate: 0.05,
      promotion: false,
      reason: 'ad-traffic orders never qualify for the promotion',
      standardRate: 0.05,
      programId: null,
    });
  });

  it('only eligible enrolments of programs with a fee cap count', () => {
    const capabilitiesOnly = enrolment('PERKS', '2020-07-06', { capabilities: ['LIVE_TRAFFIC_SUPPORT'] });
    const ineligible = enrolment(
      'CHEAP',
      '2020-07-06',
      { feeRate: 0.001 },
      { eligible: false, status: 'INELIGIBLE' },
    );
    expect(rateOf([capabilitiesOnly, ineligible, fee], '2020-07-20 12:00')).toEqual({
      rate: 0.01,
      promotion: true,
      programId: 'NEW_MERCHANT_FEE',
    });
    expect(quoteAcross([capabilitiesOnly], order('2020-07-20 12:00'))).toEqual({
      rate: 0.05,
      promotion: false,
      reason: 'enrolled in no program with a fee cap',
      standardRate: 0.05,
      programId: null,
    });
  });

  it('when none gives a rate, the reason is today’s promotion’s, wherever it is listed', () => {
    const q = quoteAcross([seed, fee], order('2020-08-20 12:00'));
    expect(q).toMatchObject({ programId: null, rate: 0.05 });
    expect(q.reason).toBe(quoteOrder(fee, order('2020-08-20 12:00')).reason);
    expect(q.reason).toBe(`created after the window ended at ${fee.endsBefore}`);
  });

  it('with only today’s promotion it quotes exactly as before', () => {
    for (const at of ['2020-07-07 23:59', '2020-07-08 00:00', '2020-08-06 23:59', '2020-08-07 00:00']) {
      for (const source of ['ad', 'alliance', 'other'] as const) {
        const { programId, ...quote } = quoteAcross([fee], order(at, 0.05, source));
        expect(quote).toEqual(quoteOrder(fee, order(at, 0.05, source)));
        expect(programId).toBe(quote.promotion ? 'NEW_MERCHANT_FEE' : null);
      }
    }
  });
});
