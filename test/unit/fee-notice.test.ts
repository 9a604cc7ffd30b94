// The notices a merchant's fee-policy notice state causes: one per status change, its own types (never
// a cart-policy type), the policy's rates in data, a zh-CN text naming each link source and base.
import { describe, expect, it } from 'vitest';
import { eventIdOf, noticesFor } from '../../shared/notices/notice';
import type { MerchantFeePolicyNotice, MerchantPolicyStatus } from '../../shared/policies/policy';
import { readNotifyingItem } from '../../shared/store/items';
import { feeNoticeStateKey, MERCHANT_FEE_POLICY_TYPE } from '../../shared/store/keys';
import { sh } from '../support/promotions';

const state = (
  status: MerchantPolicyStatus,
  effectiveAt = sh('2020-08-20 00:00'),
): MerchantFeePolicyNotice => ({
  merchantId: 'm-1',
  policyId: 'XINGTU_FEE_2020_08_20',
  status,
  title: '星图直播任务服务费调整',
  announcedOn: '2020-08-19',
  effectiveAt,
  categories: 'ALL',
  rates: {
    'third-party': { rate: 0.2, base: 'TASK_AMOUNT' },
    taobao: { rate: 0.1, base: 'GMV' },
    shop: { rate: 0.05, base: 'TASK_AMOUNT' },
  },
  processedAt: sh('2026-11-25 10:00'),
  asOf: sh('2020-08-19 00:00'),
});
const item = (s: MerchantFeePolicyNotice) =>
  readNotifyingItem({ ...feeNoticeStateKey(s.merchantId, s.policyId), type: MERCHANT_FEE_POLICY_TYPE, ...s });
const noticesOf = (before: MerchantFeePolicyNotice | undefined, after: MerchantFeePolicyNotice) =>
  noticesFor({ oldImage: before && item(before), newImage: item(after) });

describe('fee-policy notices', () => {
  it('announced: XINGTU_FEE_ANNOUNCED with the policy and its rates; the shop first, then named sources, then the rest', () => {
    expect(noticesOf(undefined, state('ANNOUNCED'))).toEqual([
      {
        eventId: eventIdOf('XINGTU_FEE_ANNOUNCED', 'm-1', sh('2020-08-20 00:00'), 'XINGTU_FEE_2020_08_20'),
        type: 'XINGTU_FEE_ANNOUNCED',
        merchantId: 'm-1',
        effectiveAt: sh('2020-08-20 00:00'),
        data: {
          policyId: 'XINGTU_FEE_2020_08_20',
          title: '星图直播任务服务费调整',
          announcedOn: '2020-08-19',
          effectiveAt: sh('2020-08-20 00:00'),
          categories: 'ALL',
          rates: state('ANNOUNCED').rates,
        },
        text: '平台公告（2020年8月19日）：自2020年8月20日 00:00起，星图直播任务服务费：抖音小店商品链接按直播带货任务金额的5%收取，淘宝商品链接按直播间商品成交额（GMV）的10%收取，第三方平台商品链接按直播带货任务金额的20%收取。',
      },
    ]);
  });

  it('in force and withdrawn: their own types; the same status again tells nothing; a corrected date tells again', () => {
    expect(noticesOf(state('ANNOUNCED'), state('IN_FORCE')).map((n) => [n.type, n.text])).toEqual([
      [
        'XINGTU_FEE_IN_FORCE',
        '自2020年8月20日 00:00起已生效：星图直播任务服务费：抖音小店商品链接按直播带货任务金额的5%收取，淘宝商品链接按直播间商品成交额（GMV）的10%收取，第三方平台商品链接按直播带货任务金额的20%收取。',
      ],
    ]);
    expect(noticesOf(state('ANNOUNCED'), state('WITHDRAWN')).map((n) => n.type)).toEqual([
      'XINGTU_FEE_WITHDRAWN',
    ]);
    expect(noticesOf(state('IN_FORCE'), state('IN_FORCE'))).toEqual([]);
    const corrected = noticesOf(state('ANNOUNCED'), state('ANNOUNCED', sh('2020-08-21 00:00')));
    expect(corrected.map((n) => [n.type, n.effectiveAt])).toEqual([
      ['XINGTU_FEE_ANNOUNCED', sh('2020-08-21 00:00')],
    ]);
  });

  it('a scoped policy names its categories', () => {
    const scoped = { ...state('IN_FORCE'), categories: ['cosmetics', 'garden'] };
    expect(noticesOf(undefined, scoped)[0]?.text).toMatch(/收取（适用类目：化妆品、garden）。$/);
  });
});
