// The message contract (docs/notices.md) and the pure mapping from a change of a stored item — its
// old and new image, as the table's stream carries them — to the notices a merchant should get.
import { createHash } from 'node:crypto';
import { memoize } from '../memoize';
import { ALL_CATEGORIES, type MerchantPolicyNotice } from '../policies/policy';
import type { Promotion } from '../promotion/lifecycle';
import { PROMOTION_RATE } from '../promotion/quote';
import { MERCHANT_CART_POLICY_TYPE, PROMOTION_TYPE } from '../store/keys';
import { type Instant, parseInstant } from '../time';

export const NOTICE_TYPES = [
  'PROMOTION_ACTIVATED',
  'PROMOTION_ENDING_SOON',
  'PROMOTION_EXPIRED',
  'PROMOTION_REVOKED',
  'CART_POLICY_ANNOUNCED',
  'CART_POLICY_IN_FORCE',
  'CART_POLICY_WITHDRAWN',
] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

export interface Notice {
  /** The same change always yields the same id: a redelivery or re-run can be recognised by it. */
  eventId: string;
  type: NoticeType;
  merchantId: string;
  effectiveAt: Instant;
  data: Record<string, unknown>;
  /** A short zh-CN text for the merchant. */
  text: string;
}

/** A stored item as the stream shows it (unmarshalled), before and after one write. */
export interface ItemChange {
  oldImage?: Record<string, unknown>;
  newImage?: Record<string, unknown>;
}

/** sha256 of the parts, as a UUID-shaped string: stable across runs, processes and redeliveries. */
export function eventIdOf(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** `2020年5月8日 00:00` (a day's notices share their instants: formatted once each) */
export const zhDateTime = memoize((at: Instant): string => {
  const t = parseInstant(at);
  return `${t.year}年${t.month}月${t.day}日 ${t.toFormat('HH:mm')}`;
});

/** `2020年6月6日` for a yyyy-MM-dd day */
export function zhDate(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

function notice(
  type: NoticeType,
  merchantId: string,
  effectiveAt: Instant,
  data: Record<string, unknown>,
  text: string,
  /** What else identifies the change (a cart policy's id); a promotion is one per merchant. */
  subject?: string,
): Notice {
  const parts =
    subject === undefined ? [type, merchantId, effectiveAt] : [type, merchantId, effectiveAt, subject];
  return { eventId: eventIdOf(...parts), type, merchantId, effectiveAt, data, text };
}

const percent = `${PROMOTION_RATE * 100}%`;

/**
 * The notices one write of a promotion causes. New history entries and a newly recorded reminder
 * are what changed. A merchant is not told of a promotion that started and ended in the same write
 * (its window was over before it was processed), nor of its expiry then; nor that it started when
 * the same write revokes it (a revocation that reached it still SCHEDULED): the revocation notice
 * alone says what changed. Recording, corrections and other bookkeeping cause no notice.
 */
export function promotionNotices(change: ItemChange): Notice[] {
  const next = change.newImage as Promotion | undefined;
  if (!next || change.newImage?.type !== PROMOTION_TYPE) return [];
  const previous = change.oldImage as Promotion | undefined;
  const added = next.history.slice(previous?.history.length ?? 0);
  const statuses = new Set(added.map((entry) => entry.status));
  const window = {
    startsAt: next.startsAt,
    endsBefore: next.endsBefore,
    lastDay: next.lastDay,
    days: next.days,
  };
  const notices: Notice[] = [];
  for (const entry of added) {
    if (entry.status === 'ACTIVE' && !statuses.has('EXPIRED') && !statuses.has('REVOKED')) {
      notices.push(
        notice(
          'PROMOTION_ACTIVATED',
          next.merchantId,
          entry.effectiveAt,
          { ...window, rate: PROMOTION_RATE },
          `新商家技术服务费专项优惠已生效：${zhDateTime(next.startsAt)} 至 ${zhDate(next.lastDay)} 23:59，共${next.days}天，期间非广告订单技术服务费低至${percent}。`,
        ),
      );
    }
    if (entry.status === 'EXPIRED' && previous?.status === 'ACTIVE') {
      notices.push(
        notice(
          'PROMOTION_EXPIRED',
          next.merchantId,
          entry.effectiveAt,
          window,
          `您的新商家技术服务费专项优惠已于${zhDate(next.lastDay)} 23:59 结束，此后订单按类目标准费率收取技术服务费。`,
        ),
      );
    }
    if (entry.status === 'REVOKED') {
      const reason = entry.reason ?? next.revokeReason ?? '';
      notices.push(
        notice(
          'PROMOTION_REVOKED',
          next.merchantId,
          entry.effectiveAt,
          { ...window, revokedAt: entry.effectiveAt, reason },
          `因违反平台规则（${reason}），您的新商家技术服务费专项优惠自${zhDateTime(entry.effectiveAt)}起取消，此前的订单不受影响。`,
        ),
      );
    }
  }
  if (next.reminder && !previous?.reminder && next.status === 'ACTIVE') {
    const daysLeft = Math.round(
      parseInstant(next.endsBefore).diff(parseInstant(next.reminder.effectiveAt), 'days').days,
    );
    notices.push(
      notice(
        'PROMOTION_ENDING_SOON',
        next.merchantId,
        next.reminder.effectiveAt,
        { ...window, daysLeft },
        `您的新商家技术服务费专项优惠还剩${daysLeft}天，将于${zhDate(next.lastDay)} 23:59 结束。`,
      ),
    );
  }
  return notices;
}

const CATEGORY_NAMES: Record<string, string> = {
  apparel: '服饰',
  cosmetics: '化妆品',
  food: '食品',
  electronics: '数码',
  home: '家居',
  books: '图书',
};

function cartRuleText(state: MerchantPolicyNotice): string {
  const scope =
    state.categories === ALL_CATEGORIES
      ? ''
      : `（适用类目：${state.categories.map((c) => CATEGORY_NAMES[c] ?? c).join('、')}）`;
  const rule =
    state.thirdPartyProducts === 'BLOCKED'
      ? '直播间购物车不再支持第三方平台商品（如淘宝、京东）'
      : '第三方平台商品（如淘宝、京东）需通过星图下单方可进入直播间购物车';
  return `${rule}${scope}；抖音小店商品不受影响，短视频仍可正常挂载第三方商品`;
}

/**
 * The notices one write of a merchant's cart-policy notice state causes: announced (again, if the
 * date was corrected), in force, withdrawn.
 */
export function cartPolicyNotices(change: ItemChange): Notice[] {
  const next = change.newImage as MerchantPolicyNotice | undefined;
  if (!next || change.newImage?.type !== MERCHANT_CART_POLICY_TYPE) return [];
  const previous = change.oldImage as MerchantPolicyNotice | undefined;
  if (previous?.status === next.status && previous.effectiveAt === next.effectiveAt) return [];
  const data = {
    policyId: next.policyId,
    title: next.title,
    announcedOn: next.announcedOn,
    effectiveAt: next.effectiveAt,
    channel: 'live',
    categories: next.categories,
    thirdPartyProducts: next.thirdPartyProducts,
  };
  const when = zhDateTime(next.effectiveAt);
  switch (next.status) {
    case 'ANNOUNCED':
      return [
        notice(
          'CART_POLICY_ANNOUNCED',
          next.merchantId,
          next.effectiveAt,
          data,
          `平台公告（${zhDate(next.announcedOn)}）：自${when}起，${cartRuleText(next)}。`,
          next.policyId,
        ),
      ];
    case 'IN_FORCE':
      return [
        notice(
          'CART_POLICY_IN_FORCE',
          next.merchantId,
          next.effectiveAt,
          data,
          `自${when}起已生效：${cartRuleText(next)}。`,
          next.policyId,
        ),
      ];
    case 'WITHDRAWN':
      return [
        notice(
          'CART_POLICY_WITHDRAWN',
          next.merchantId,
          next.effectiveAt,
          data,
          `平台已撤回原定于${when}生效的直播间购物车政策「${next.title}」，现行规则不变。`,
          next.policyId,
        ),
      ];
  }
}

/** Every notice a change of any item causes. */
export function noticesFor(change: ItemChange): Notice[] {
  return [...promotionNotices(change), ...cartPolicyNotices(change)];
}
