// The built-in calendar: the two dated live-room cart policies of rules §2, as data. Loaded into the
// table by `policies load-default`; the job never reads this file.
import type { z } from 'zod';
import type { cartPolicyInputSchema } from '../../shared/policies/policy';

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
