import { describe, expect, it } from 'vitest';
import { eventIdOf, promotionNotices } from '../../shared/notices/notice';
import { BUILT_IN_PROGRAMS, enrolledIn } from '../../shared/programs/program';
import {
  type Promotion,
  type PromotionChange,
  planActivation,
  planCorrection,
  planExpiry,
  planRevocation,
} from '../../shared/promotion/lifecycle';
import { promotionWindow } from '../../shared/promotion/window';
import { readNotifyingItem } from '../../shared/store/items';
import { promotionItem } from '../../shared/store/promotions';
import { apply, recorded, sh } from '../support/promotions';

const processedAt = '2026-11-25T10:00:00.000+08:00';
const ctx = (asOf: string) => ({ asOf: sh(asOf), processedAt });

/** Notices for one write, with both images as stored items (as the stream carries them). */
const stored = (promotion: Promotion) => readNotifyingItem(promotionItem(promotion, null));
const noticesOf = (before: Promotion | undefined, after: Promotion) =>
  promotionNotices({ oldImage: before && stored(before), newImage: stored(after) });

describe('notices from promotion changes', () => {
  const a = recorded('merchant-a', '2020-05-06');
  const active = apply(a, planActivation(a, ctx('2020-05-08 00:00')) as PromotionChange);

  it('recording a merchant tells it nothing', () => {
    expect(noticesOf(undefined, a)).toEqual([]);
  });

  it('activation: PROMOTION_ACTIVATED with the window and a zh-CN text', () => {
    expect(noticesOf(a, active)).toEqual([
      {
        eventId: eventIdOf('PROMOTION_ACTIVATED', 'merchant-a', sh('2020-05-08 00:00')),
        type: 'PROMOTION_ACTIVATED',
        merchantId: 'merchant-a',
        effectiveAt: sh('2020-05-08 00:00'),
        data: {
          programId: 'NEW_MERCHANT_FEE',
          startsAt: sh('2020-05-08 00:00'),
          endsBefore: sh('2020-06-07 00:00'),
          lastDay: '2020-06-06',
          days: 30,
          rate: 0.01,
          benefits: { feeRate: 0.01 },
        },
        text: '新商家技术服务费专项优惠已生效：2020年5月8日 00:00 至 2020年6月6日 23:59，共30天，期间非广告订单技术服务费低至1%。',
      },
    ]);
  });

  it('the same change always has the same eventId; a late run of the same activation too', () => {
    const late = apply(
      a,
      planActivation(a, {
        asOf: sh('2020-05-20 00:00'),
        processedAt: '2027-01-01T00:00:00.000+08:00',
      }) as PromotionChange,
    );
    expect(noticesOf(a, late)[0]?.eventId).toBe(noticesOf(a, active)[0]?.eventId);
    expect(eventIdOf('PROMOTION_ACTIVATED', 'merchant-b', sh('2020-05-08 00:00'))).not.toBe(
      noticesOf(a, active)[0]?.eventId,
    );
    expect(noticesOf(a, active)[0]?.eventId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
  });

  it('reminder: PROMOTION_ENDING_SOON, 3 days left; expiry: PROMOTION_EXPIRED', () => {
    const reminded = apply(active, planExpiry(active, ctx('2020-06-03 23:59')) as PromotionChange);
    expect(noticesOf(active, reminded)).toMatchObject([
      {
        type: 'PROMOTION_ENDING_SOON',
        effectiveAt: sh('2020-06-04 00:00'),
        data: { daysLeft: 3, lastDay: '2020-06-06' },
      },
    ]);
    expect(noticesOf(active, reminded)[0]?.text).toBe(
      '您的新商家技术服务费专项优惠还剩3天，将于2020年6月6日 23:59 结束。',
    );
    const expired = apply(reminded, planExpiry(reminded, ctx('2020-06-06 23:59')) as PromotionChange);
    expect(noticesOf(reminded, expired)).toMatchObject([
      { type: 'PROMOTION_EXPIRED', effectiveAt: sh('2020-06-07 00:00') },
    ]);
  });

  it('a window already over when processed (SCHEDULED → ACTIVE → EXPIRED in one write) tells nothing', () => {
    const late = apply(a, planActivation(a, ctx('2020-07-01 00:00')) as PromotionChange);
    expect(late.status).toBe('EXPIRED');
    expect(noticesOf(a, late)).toEqual([]);
  });

  it('revocation: PROMOTION_REVOKED with its instant and reason, before or during the window', () => {
    for (const before of [a, active]) {
      const plan = planRevocation(before, sh('2020-05-20 09:30'), 'fake orders', processedAt);
      const after = apply(before, (plan as { change: PromotionChange }).change);
      expect(noticesOf(before, after)).toMatchObject([
        {
          type: 'PROMOTION_REVOKED',
          effectiveAt: sh('2020-05-20 09:30'),
          data: { revokedAt: sh('2020-05-20 09:30'), reason: 'fake orders' },
        },
      ]);
      expect(noticesOf(before, after)[0]?.text).toContain('自2020年5月20日 09:30起取消');
    }
  });

  it('a correction of a revoked promotion (it stays revoked, its window moves) tells nothing', () => {
    const plan = planRevocation(active, sh('2020-05-20 09:30'), 'fake orders', processedAt);
    const revoked = apply(active, (plan as { change: PromotionChange }).change);
    const window = promotionWindow('2020-05-07');
    const corrected = apply(revoked, planCorrection(revoked, window, processedAt) as PromotionChange);
    expect(corrected.history.at(-1)).toMatchObject({ status: 'REVOKED', by: 'correct' });
    expect(noticesOf(revoked, corrected)).toEqual([]);
  });

  it('items that are not promotions, and removals, tell nothing', () => {
    expect(promotionNotices({ oldImage: stored(active) })).toEqual([]);
    const run = { pk: 'JOB#activate', sk: 'RUN#x', type: 'JOB_RUN', report: 'not even a report' };
    expect(readNotifyingItem(run)).toBeUndefined(); // not read, so not refused: it tells nobody anything
  });
});

describe('notices of a program other than today’s promotion (the 种子计划)', () => {
  const seedPlan = BUILT_IN_PROGRAMS.find((p) => p.programId === 'SEED_PLAN_2020');
  if (!seedPlan) throw new Error('SEED_PLAN_2020 is built in');
  const inSeedPlan = (p: Promotion): Promotion => ({
    ...p,
    ...enrolledIn({ program: seedPlan, status: 'ANNOUNCED', version: 0, source: 'built-in' }),
  });
  const fee = recorded('merchant-s', '2020-07-06');
  const seed = inSeedPlan(fee);
  const activeFee = apply(fee, planActivation(fee, ctx('2020-07-08 00:00')) as PromotionChange);
  const activeSeed = apply(seed, planActivation(seed, ctx('2020-07-08 00:00')) as PromotionChange);

  it('names the program and each benefit, says how to join the training, and carries programId', () => {
    const [told] = noticesOf(seed, activeSeed);
    expect(told?.text).toBe(
      '「种子计划」已生效：2020年7月8日 00:00 至 2020年8月6日 23:59，共30天，期间非广告订单技术服务费低至1%，0粉丝开通直播购物车，直播间流量支持。请在抖店后台「学习中心」报名参加小店运营培训指导。',
    );
    expect(told?.data).toMatchObject({ programId: 'SEED_PLAN_2020', rate: 0.01 });
  });

  it('tells the training once: only the activation mentions it', () => {
    const reminded = apply(activeSeed, planExpiry(activeSeed, ctx('2020-08-03 23:59')) as PromotionChange);
    const expired = apply(reminded, planExpiry(reminded, ctx('2020-08-06 23:59')) as PromotionChange);
    const later = [...noticesOf(activeSeed, reminded), ...noticesOf(reminded, expired)];
    expect(later.map((n) => n.type)).toEqual(['PROMOTION_ENDING_SOON', 'PROMOTION_EXPIRED']);
    for (const n of later) expect(n.text).not.toContain('学习中心');
    expect(later[1]?.text).toBe(
      '您的「种子计划」已于2020年8月6日 23:59 结束，此后订单按类目标准费率收取技术服务费，0粉丝开通直播购物车、直播间流量支持随之结束。',
    );
  });

  it('has its own eventId: two programs starting at the same instant are two notices', () => {
    const [feeNotice] = noticesOf(fee, activeFee);
    const [seedNotice] = noticesOf(seed, activeSeed);
    expect(feeNotice?.effectiveAt).toBe(seedNotice?.effectiveAt);
    expect(feeNotice?.eventId).toBe(eventIdOf('PROMOTION_ACTIVATED', 'merchant-s', sh('2020-07-08 00:00')));
    expect(seedNotice?.eventId).toBe(
      eventIdOf('PROMOTION_ACTIVATED', 'merchant-s', sh('2020-07-08 00:00'), 'SEED_PLAN_2020'),
    );
  });
});
