import { describe, expect, it } from 'vitest';
import { quoteAcross, quoteOrder } from '../../shared/promotion/quote';
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
  const t = '2020-07-06';
  const fee = recorded('m', t); // NEW_MERCHANT_FEE: T+2 for 30 days
  // A seed-plan-like enrolment on the same T, with another window and fee cap, to tell them apart.
  const later = { ...recorded('m', '2020-07-16'), programId: 'SEED_PLAN_2020' };
  const order = (at: string, standardRate = 0.05) => ({
    createdAt: sh(at),
    source: 'other' as const,
    standardRate,
  });
  const both = (seedRate: number, seed = later) => [
    { programId: 'NEW_MERCHANT_FEE', feeRate: 0.01, enrolment: fee },
    { programId: 'SEED_PLAN_2020', feeRate: seedRate, enrolment: seed },
  ];

  it('the lowest cap among the enrolments whose window holds the order, naming its program', () => {
    expect(quoteAcross(both(0.008), order('2020-07-10 12:00'))).toMatchObject({
      rate: 0.01,
      programId: 'NEW_MERCHANT_FEE',
    });
    expect(quoteAcross(both(0.008), order('2020-07-20 12:00'))).toMatchObject({
      rate: 0.008,
      programId: 'SEED_PLAN_2020',
    });
    expect(quoteAcross(both(0.008), order('2020-08-10 12:00'))).toMatchObject({
      rate: 0.008,
      programId: 'SEED_PLAN_2020',
    });
  });

  it('equal caps do not add up: the first program gives the rate, never below the cap', () => {
    expect(quoteAcross(both(0.01), order('2020-07-20 12:00'))).toMatchObject({
      rate: 0.01,
      programId: 'NEW_MERCHANT_FEE',
    });
  });

  it('never above the standard rate; none inside its window: the standard rate, no program', () => {
    expect(quoteAcross(both(0.008), order('2020-07-20 12:00', 0.005))).toMatchObject({ rate: 0.005 });
    expect(quoteAcross(both(0.008), order('2020-09-30 12:00'))).toMatchObject({
      rate: 0.05,
      promotion: false,
      programId: null,
    });
  });

  it('an enrolment revoked before the order gives nothing; the other still may', () => {
    const revoked = { ...later, revokedAt: sh('2020-07-19 00:00') };
    expect(quoteAcross(both(0.008, revoked), order('2020-07-20 12:00'))).toMatchObject({
      rate: 0.01,
      programId: 'NEW_MERCHANT_FEE',
    });
  });

  it('with only today’s promotion it quotes exactly as before', () => {
    const only = [{ programId: 'NEW_MERCHANT_FEE', feeRate: 0.01, enrolment: fee }];
    for (const at of ['2020-07-07 23:59', '2020-07-08 00:00', '2020-08-06 23:59', '2020-08-07 00:00']) {
      const { programId, ...quote } = quoteAcross(only, order(at));
      expect(quote).toEqual(quoteOrder(fee, order(at)));
      expect(programId).toBe(quote.promotion ? 'NEW_MERCHANT_FEE' : null);
    }
  });
});
