import { describe, expect, it } from 'vitest';
import { quoteOrder } from '../../shared/promotion/quote';
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
