// The message contract (docs/notices.md) and the pure mapping from a change of a stored item — its
// old and new image, as the table's stream carries them — to the notices a merchant should get.

import { createHash } from 'node:crypto';
import { memoize } from '../memoize';
import {
  ALL_CATEGORIES,
  type FeeBase,
  type MerchantFeePolicyNotice,
  type MerchantPolicyNotice,
  type MerchantPolicyStatus,
  OWN_SHOP,
  type PolicyKind,
  type PolicyValue,
  THIRD_PARTY,
} from '../policies/policy';
import type { Capability, Program } from '../programs/program';
import type { HistoryEntry, Promotion, PromotionStatus } from '../promotion/lifecycle';
import type { NotifyingItem } from '../store/items';
import { MERCHANT_CART_POLICY_TYPE, MERCHANT_FEE_POLICY_TYPE, PROMOTION_TYPE } from '../store/keys';
import { type Instant, parseInstant } from '../time';

export const NOTICE_TYPES = [
  'PROMOTION_ACTIVATED',
  'PROMOTION_ENDING_SOON',
  'PROMOTION_EXPIRED',
  'PROMOTION_REVOKED',
  'CART_POLICY_ANNOUNCED',
  'CART_POLICY_IN_FORCE',
  'CART_POLICY_WITHDRAWN',
  'XINGTU_FEE_ANNOUNCED',
  'XINGTU_FEE_IN_FORCE',
  'XINGTU_FEE_WITHDRAWN',
] as const;
export type NoticeType = (typeof NOTICE_TYPES)[number];

/** A promotion's window and program, as each promotion notice carries them. */
type WindowData = Pick<Promotion, 'programId' | 'startsAt' | 'endsBefore' | 'lastDay' | 'days'>;
/** What each cart-policy notice carries. */
type CartPolicyData = Pick<
  MerchantPolicyNotice,
  'policyId' | 'title' | 'announcedOn' | 'effectiveAt' | 'categories' | 'thirdPartyProducts'
> & { channel: 'live' };
/** What each Xingtu fee-policy notice carries. */
type FeePolicyData = Pick<
  MerchantFeePolicyNotice,
  'policyId' | 'title' | 'announcedOn' | 'effectiveAt' | 'categories' | 'rates'
>;

/** Checks at compile time that `T` has an entry for each of `K` and for nothing else. */
type ExactlyFor<
  K extends PropertyKey,
  T extends { [P in K]: unknown } & { [P in Exclude<keyof T, K>]: never },
> = T;

/** Each type's `data` (docs/notices.md): a new notice type does not compile until it has its entry. */
type NoticeData = ExactlyFor<
  NoticeType,
  {
    /** `rate`: the program's fee cap, null for a program without one. */
    PROMOTION_ACTIVATED: WindowData & { rate: number | null; benefits: Program['benefits'] };
    PROMOTION_ENDING_SOON: WindowData & { daysLeft: number };
    PROMOTION_EXPIRED: WindowData;
    PROMOTION_REVOKED: WindowData & { revokedAt: Instant; reason: string };
    CART_POLICY_ANNOUNCED: CartPolicyData;
    CART_POLICY_IN_FORCE: CartPolicyData;
    CART_POLICY_WITHDRAWN: CartPolicyData;
    XINGTU_FEE_ANNOUNCED: FeePolicyData;
    XINGTU_FEE_IN_FORCE: FeePolicyData;
    XINGTU_FEE_WITHDRAWN: FeePolicyData;
  }
>;

export interface NoticeOf<T extends NoticeType> {
  /** The same change always yields the same id: a redelivery or re-run can be recognised by it. */
  eventId: string;
  type: T;
  merchantId: string;
  effectiveAt: Instant;
  data: NoticeData[T];
  /** A short zh-CN text for the merchant. */
  text: string;
}
/** A notice of any type, its `data` told apart by `type`. */
export type Notice = { [T in NoticeType]: NoticeOf<T> }[NoticeType];

/** The program a notice is about (promotion notices), or undefined (cart-policy notices). */
export function programIdOf(notice: Notice): string | undefined {
  return 'programId' in notice.data ? notice.data.programId : undefined;
}

/** An item merchants are told of, before and after one write (as the stream shows it, checked). */
export interface ItemChange {
  oldImage?: NotifyingItem;
  newImage?: NotifyingItem;
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

function notice<T extends NoticeType>(
  type: T,
  merchantId: string,
  effectiveAt: Instant,
  data: NoticeData[T],
  text: string,
  /** What else identifies the change: a cart policy's id, a program's (but today's promotion's). */
  subject?: string,
): NoticeOf<T> {
  const parts =
    subject === undefined ? [type, merchantId, effectiveAt] : [type, merchantId, effectiveAt, subject];
  return { eventId: eventIdOf(...parts), type, merchantId, effectiveAt, data, text };
}

/** The program that keeps today's texts and ids: its notices read exactly as before programs existed. */
const FIRST_PROGRAM = 'NEW_MERCHANT_FEE';

/** How a capability is named to the merchant: a new capability does not compile until it has its text. */
export const BENEFIT_TEXT: Record<Capability, string> = {
  LIVE_CART_ZERO_FOLLOWERS: '0粉丝开通直播购物车',
  LIVE_TRAFFIC_SUPPORT: '直播间流量支持',
};
/** Where a merchant joins the training a program gives (to be confirmed by the business, docs/notices.md). */
export const TRAINING_TEXT = '请在抖店后台「学习中心」报名参加小店运营培训指导。';

/** The words a program's notices use: its name, what it gives, what ends with it. */
interface ProgramWords {
  /** The program as a merchant's notice names it. */
  name: string;
  /** What the enrolment gives, as one clause. */
  gives: string;
  /** What happens once it is over. */
  after: string;
}

function programWords({ programId, program }: Promotion): ProgramWords {
  const { feeRate, capabilities = [] } = program.benefits;
  const fee = feeRate === undefined ? [] : [`非广告订单技术服务费低至${Math.round(feeRate * 10000) / 100}%`];
  const granted = capabilities.map((capability) => BENEFIT_TEXT[capability]);
  const after = [
    ...(feeRate === undefined ? [] : ['此后订单按类目标准费率收取技术服务费']),
    ...(granted.length > 0 ? [`${granted.join('、')}随之结束`] : []),
  ];
  return {
    name: programId === FIRST_PROGRAM ? '新商家技术服务费专项优惠' : `「${program.name}」`,
    gives: [...fee, ...granted].join('，'),
    after: after.length > 0 ? after.join('，') : '相关权益随之结束',
  };
}

/** One write of a promotion: the item after and before it, and the statuses its new entries record. */
interface PromotionWrite {
  next: Promotion;
  previous: Promotion | undefined;
  statuses: Set<PromotionStatus>;
  window: WindowData;
  words: ProgramWords;
  /** What tells this program's notices apart from another program's at the same instant. */
  subject: string | undefined;
}

/** The notice a new history entry causes, by its status, given what else the same write did. */
type EntryNotice = (entry: HistoryEntry, write: PromotionWrite) => Notice | undefined;
const ON_ENTRY: Record<PromotionStatus, EntryNotice> = {
  INELIGIBLE: () => undefined, // recording or correcting: bookkeeping
  SCHEDULED: () => undefined,
  ACTIVE: (entry, { next, statuses, window, words, subject }) =>
    statuses.has('EXPIRED') || statuses.has('REVOKED')
      ? undefined
      : notice(
          'PROMOTION_ACTIVATED',
          next.merchantId,
          entry.effectiveAt,
          { ...window, rate: next.program.benefits.feeRate ?? null, benefits: next.program.benefits },
          `${words.name}已生效：${zhDateTime(next.startsAt)} 至 ${zhDate(next.lastDay)} 23:59，共${next.days}天，期间${words.gives}。${next.program.benefits.training ? TRAINING_TEXT : ''}`,
          subject,
        ),
  EXPIRED: (entry, { next, previous, window, words, subject }) =>
    previous?.status === 'ACTIVE'
      ? notice(
          'PROMOTION_EXPIRED',
          next.merchantId,
          entry.effectiveAt,
          window,
          `您的${words.name}已于${zhDate(next.lastDay)} 23:59 结束，${words.after}。`,
          subject,
        )
      : undefined,
  REVOKED: (entry, { next, window, words, subject }) => {
    // A correction re-plans a revoked enrolment's window and it stays revoked: bookkeeping, told nothing.
    if (entry.by === 'correct') return undefined;
    const reason = entry.reason ?? next.revokeReason ?? '';
    return notice(
      'PROMOTION_REVOKED',
      next.merchantId,
      entry.effectiveAt,
      { ...window, revokedAt: entry.effectiveAt, reason },
      `因违反平台规则（${reason}），您的${words.name}自${zhDateTime(entry.effectiveAt)}起取消，此前的订单不受影响。`,
      subject,
    );
  },
};

/**
 * The notices one write of a promotion causes. New history entries and a newly recorded reminder
 * are what changed. A merchant is not told of a promotion that started and ended in the same write
 * (its window was over before it was processed), nor of its expiry then; nor that it started when
 * the same write revokes it (a revocation that reached it still SCHEDULED): the revocation notice
 * alone says what changed. Recording, corrections and other bookkeeping cause no notice.
 */
export function promotionNotices(change: ItemChange): Notice[] {
  const next = change.newImage;
  if (next?.type !== PROMOTION_TYPE) return [];
  const previous = change.oldImage?.type === PROMOTION_TYPE ? change.oldImage : undefined;
  const added = next.history.slice(previous?.history.length ?? 0);
  const statuses = new Set(added.map((entry) => entry.status));
  const window: WindowData = {
    programId: next.programId,
    startsAt: next.startsAt,
    endsBefore: next.endsBefore,
    lastDay: next.lastDay,
    days: next.days,
  };
  const words = programWords(next);
  // Today's program keeps the ids it always had, so duplicates across the release are still recognised.
  const subject = next.programId === FIRST_PROGRAM ? undefined : next.programId;
  const write: PromotionWrite = { next, previous, statuses, window, words, subject };
  const notices: Notice[] = [];
  for (const entry of added) {
    const told = ON_ENTRY[entry.status](entry, write);
    if (told) notices.push(told);
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
        `您的${words.name}还剩${daysLeft}天，将于${zhDate(next.lastDay)} 23:59 结束。`,
        subject,
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
  beauty: '美妆个护',
  baby: '母婴玩具',
  pets: '宠物用品',
};

/** What a policy value means for third-party products in a live-room cart. */
const CART_RULE_TEXT: Record<PolicyValue, string> = {
  XINGTU_ONLY: '第三方平台商品（如淘宝、京东）需通过星图下单方可进入直播间购物车',
  BLOCKED: '直播间购物车不再支持第三方平台商品（如淘宝、京东）',
};

/** A policy's category scope, as its texts name it (nothing for all categories). */
function scopeText(categories: MerchantPolicyNotice['categories']): string {
  return categories === ALL_CATEGORIES
    ? ''
    : `（适用类目：${categories.map((c) => CATEGORY_NAMES[c] ?? c).join('、')}）`;
}

function cartRuleText(state: MerchantPolicyNotice): string {
  const scope = scopeText(state.categories);
  return `${CART_RULE_TEXT[state.thirdPartyProducts]}${scope}；抖音小店商品不受影响，短视频仍可正常挂载第三方商品`;
}

/**
 * What a merchant's notice state for a policy tells them, by its status: the notice type and its text
 * (`when`: the policy's instant in zh-CN). The cart-policies job's steps name the type their status leads to.
 */
export const CART_POLICY_NOTICES = {
  ANNOUNCED: {
    type: 'CART_POLICY_ANNOUNCED',
    text: (state, when) => `平台公告（${zhDate(state.announcedOn)}）：自${when}起，${cartRuleText(state)}。`,
  },
  IN_FORCE: {
    type: 'CART_POLICY_IN_FORCE',
    text: (state, when) => `自${when}起已生效：${cartRuleText(state)}。`,
  },
  WITHDRAWN: {
    type: 'CART_POLICY_WITHDRAWN',
    text: (state, when) => `平台已撤回原定于${when}生效的直播间购物车政策「${state.title}」，现行规则不变。`,
  },
} as const satisfies Record<
  MerchantPolicyStatus,
  { type: NoticeType; text: (state: MerchantPolicyNotice, when: string) => string }
>;
/** The notice type a merchant's notice state of this status causes. */
export type CartPolicyNoticeType<S extends MerchantPolicyStatus = MerchantPolicyStatus> =
  (typeof CART_POLICY_NOTICES)[S]['type'];

/**
 * The notices one write of a merchant's cart-policy notice state causes: announced (again, if the
 * date was corrected), in force, withdrawn.
 */
export function cartPolicyNotices(change: ItemChange): Notice[] {
  const next = change.newImage;
  if (next?.type !== MERCHANT_CART_POLICY_TYPE) return [];
  const previous = change.oldImage?.type === MERCHANT_CART_POLICY_TYPE ? change.oldImage : undefined;
  const told = CART_POLICY_NOTICES[next.status];
  return stateNotices(next, previous, told.type, told.text(next, zhDateTime(next.effectiveAt)), {
    policyId: next.policyId,
    title: next.title,
    announcedOn: next.announcedOn,
    effectiveAt: next.effectiveAt,
    channel: 'live',
    categories: next.categories,
    thirdPartyProducts: next.thirdPartyProducts,
  });
}

/**
 * The one notice a write of a merchant's notice state for a policy causes; none when it changed
 * neither the status nor the instant (a re-run, a write of the same state).
 */
function stateNotices<T extends NoticeType>(
  next: { merchantId: string; policyId: string; status: string; effectiveAt: Instant },
  previous: { status: string; effectiveAt: Instant } | undefined,
  type: T,
  text: string,
  data: NoticeData[T],
): Notice[] {
  if (previous?.status === next.status && previous.effectiveAt === next.effectiveAt) return [];
  return [notice(type, next.merchantId, next.effectiveAt, data, text, next.policyId) as Notice];
}

/** What a fee is a share of, as a merchant reads it. */
const FEE_BASE_TEXT: Record<FeeBase, string> = {
  GMV: '直播间商品成交额（GMV）',
  STREAMER_FIXED_FEE: '达人一口价服务费（坑位费）',
  TASK_AMOUNT: '直播带货任务金额',
};

/** A link source of a fee policy's rates, as a merchant reads it. */
const LINK_SOURCE_NAMES: Record<string, string> = {
  [OWN_SHOP]: '抖音小店商品链接',
  [THIRD_PARTY]: '第三方平台商品链接',
  taobao: '淘宝商品链接',
  jd: '京东商品链接',
};

function feeRuleText(state: MerchantFeePolicyNotice): string {
  const scope = scopeText(state.categories);
  // The shop first, then named sources, then every other third party.
  const order = (source: string) => (source === OWN_SHOP ? 0 : source === THIRD_PARTY ? 2 : 1);
  const rates = Object.entries(state.rates)
    .sort(([a], [b]) => order(a) - order(b) || a.localeCompare(b))
    .map(
      ([source, { rate, base }]) =>
        `${LINK_SOURCE_NAMES[source] ?? `${source}商品链接`}按${FEE_BASE_TEXT[base]}的${+(rate * 100).toFixed(4)}%收取`,
    );
  return `星图直播任务服务费：${rates.join('，')}${scope}`;
}

/** What a merchant's notice state for a fee policy tells them, by its status (as CART_POLICY_NOTICES). */
export const FEE_POLICY_NOTICES = {
  ANNOUNCED: {
    type: 'XINGTU_FEE_ANNOUNCED',
    text: (state, when) => `平台公告（${zhDate(state.announcedOn)}）：自${when}起，${feeRuleText(state)}。`,
  },
  IN_FORCE: {
    type: 'XINGTU_FEE_IN_FORCE',
    text: (state, when) => `自${when}起已生效：${feeRuleText(state)}。`,
  },
  WITHDRAWN: {
    type: 'XINGTU_FEE_WITHDRAWN',
    text: (state, when) =>
      `平台已撤回原定于${when}生效的星图服务费政策「${state.title}」，现行收费规则不变。`,
  },
} as const satisfies Record<
  MerchantPolicyStatus,
  { type: NoticeType; text: (state: MerchantFeePolicyNotice, when: string) => string }
>;

/**
 * The notice type each status of a merchant's notice state causes, by the kind of policy: a new kind
 * does not compile until its merchants' notices have types (and a subscriber filtering on the
 * cart-policy types never receives another kind's).
 */
export const POLICY_NOTICE_TYPES = {
  CART: {
    ANNOUNCED: CART_POLICY_NOTICES.ANNOUNCED.type,
    IN_FORCE: CART_POLICY_NOTICES.IN_FORCE.type,
    WITHDRAWN: CART_POLICY_NOTICES.WITHDRAWN.type,
  },
  XINGTU_FEE: {
    ANNOUNCED: FEE_POLICY_NOTICES.ANNOUNCED.type,
    IN_FORCE: FEE_POLICY_NOTICES.IN_FORCE.type,
    WITHDRAWN: FEE_POLICY_NOTICES.WITHDRAWN.type,
  },
} as const satisfies Record<PolicyKind, Record<MerchantPolicyStatus, NoticeType>>;
/** The notice types of merchants' notice states for policies of any kind. */
export type PolicyNoticeType = (typeof POLICY_NOTICE_TYPES)[PolicyKind][MerchantPolicyStatus];

/** The notices one write of a merchant's fee-policy notice state causes (as cartPolicyNotices). */
export function feePolicyNotices(change: ItemChange): Notice[] {
  const next = change.newImage;
  if (next?.type !== MERCHANT_FEE_POLICY_TYPE) return [];
  const previous = change.oldImage?.type === MERCHANT_FEE_POLICY_TYPE ? change.oldImage : undefined;
  const told = FEE_POLICY_NOTICES[next.status];
  return stateNotices(next, previous, told.type, told.text(next, zhDateTime(next.effectiveAt)), {
    policyId: next.policyId,
    title: next.title,
    announcedOn: next.announcedOn,
    effectiveAt: next.effectiveAt,
    categories: next.categories,
    rates: next.rates,
  });
}

/** Every notice a change of any item causes. */
export function noticesFor(change: ItemChange): Notice[] {
  return [...promotionNotices(change), ...cartPolicyNotices(change), ...feePolicyNotices(change)];
}
