// The built-in calendar: the two dated live-room cart policies of rules §2 and the two Xingtu fee
// policies of rules §5, as data. Loaded into the table by `policies load-default`; the job never
// reads this file.
import type * as z from 'zod';
import type { cartPolicyInputSchema, feePolicyInputSchema } from '../../shared/policies/policy';

export const DEFAULT_CART_POLICIES: z.input<typeof cartPolicyInputSchema>[] = [
  {
    policyId: 'live-third-party-xingtu-only-2020-09-06',
    title: '直播间第三方平台商品需通过星图下单方可进入购物车',
    announcedOn: '2020-08-26',
    effectiveAt: '2020-09-06',
    scope: { channel: 'live', categories: 'ALL' },
    thirdPartyProducts: 'XINGTU_ONLY',
    source: '8月26日抖音直播新规：9月6日起，第三方链接需要通过星图下单才能进入直播间购物车',
  },
  {
    policyId: 'live-third-party-blocked-2020-10-09',
    title: '直播间购物车不再支持第三方平台商品',
    announcedOn: '2020-08-26',
    effectiveAt: '2020-10-09',
    scope: { channel: 'live', categories: 'ALL' },
    thirdPartyProducts: 'BLOCKED',
    source: '10月9日起，第三方来源的商品将不再支持进入直播间购物车；小店的商品不受影响',
  },
];

/**
 * The two Xingtu fee policies of rules §5. The source gives no announcement day for either: each is
 * taken as announced the day before it takes effect (an announcement on the effective day would be
 * reached in force, and merchants would never hear of it beforehand). `dateAssumed` marks an assumed
 * effective day (the cosmetics one's); the announcement days are assumed for both (docs/decisions.md).
 */
export const DEFAULT_FEE_POLICIES: z.input<typeof feePolicyInputSchema>[] = [
  {
    kind: 'XINGTU_FEE',
    policyId: 'XINGTU_FEE_2020_07_COSMETICS',
    title: '化妆品类目星图直播任务服务费调整',
    // "Late July": no day given; the last day of July is assumed, and so is its announcement the day before.
    announcedOn: '2020-07-30',
    effectiveAt: '2020-07-31',
    dateAssumed: true,
    scope: { channel: 'live', categories: ['cosmetics'] },
    rates: {
      shop: { rate: 0.01, base: 'GMV' },
      'third-party': { rate: 0.05, base: 'STREAMER_FIXED_FEE' },
    },
    source:
      '7月下旬起，化妆品类目星图直播：小店商品链接按直播GMV的1%收取服务费，第三方链接按达人一口价服务费的5%收取',
  },
  {
    kind: 'XINGTU_FEE',
    policyId: 'XINGTU_FEE_2020_08_20',
    title: '星图直播任务服务费调整',
    // The effective day is given; the announcement day is not (assumed: the day before).
    announcedOn: '2020-08-19',
    effectiveAt: '2020-08-20',
    scope: { channel: 'live', categories: 'ALL' },
    rates: {
      shop: { rate: 0.05, base: 'TASK_AMOUNT' },
      'third-party': { rate: 0.2, base: 'TASK_AMOUNT' },
    },
    source:
      '8月20日起，星图直播带货任务：小店商品链接按任务金额的5%收取服务费，第三方链接按任务金额的20%收取',
  },
];

/** What `policies load-default` records: the whole built-in calendar, cart policies first. */
export const DEFAULT_POLICIES = [...DEFAULT_CART_POLICIES, ...DEFAULT_FEE_POLICIES];
