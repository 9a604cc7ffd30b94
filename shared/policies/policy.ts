// The policy calendar as data: live-room cart policies (rules §2) and the cart flags they set, and
// Xingtu fee policies (rules §5, computed in ./xingtu-fee.ts), as pure functions. The flag and cart
// value functions take the whole calendar and read only its cart policies: a fee policy sets no flag.
import * as z from 'zod';
import { unlessMissing } from '../errors';
import { memoize } from '../memoize';
import {
  type CalendarDate,
  calendarDateSchema,
  dateOrInstantSchema,
  formatInstant,
  type Instant,
  startOfDay,
} from '../time';

/**
 * What third-party products may do in a live-room cart, from least to most restricted: the one list
 * of values (a new one goes here, in its place by severity; the compiler then names what must handle it).
 */
/** Where a cart flag applies: live rooms (the only channel policies restrict) and short videos. */
export const CART_CHANNELS = ['live', 'short-video'] as const;
export type CartChannel = (typeof CART_CHANNELS)[number];
export const CART_FLAG_VALUES = ['ALLOWED', 'XINGTU_ONLY', 'BLOCKED'] as const;
export type CartFlagValue = (typeof CART_FLAG_VALUES)[number];
/** What a policy may set: every value but the unrestricted one. */
export type PolicyValue = Exclude<CartFlagValue, 'ALLOWED'>;
export const POLICY_VALUES = CART_FLAG_VALUES.filter((value): value is PolicyValue => value !== 'ALLOWED');
export const severity = (value: CartFlagValue) => CART_FLAG_VALUES.indexOf(value);

export const ALL_CATEGORIES = 'ALL';
export const POLICY_STATUSES = ['SCHEDULED', 'IN_FORCE', 'WITHDRAWN'] as const;
export type PolicyStatus = (typeof POLICY_STATUSES)[number];

/** A category or a link source: lower-case, as the merchant records and policy files write them. */
export const slugSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "_" or "-"');

/**
 * The kinds of policy on the calendar: live-room cart policies (rules §2) and Xingtu service-fee
 * policies (rules §5). A policy file or stored item without `kind` is a cart policy (they came first).
 */
export const POLICY_KINDS = ['CART', 'XINGTU_FEE'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

/** The merchant's own Douyin shop as a link source; every other source is a third party (Taobao, JD, …). */
export const OWN_SHOP = 'shop';
/** In a fee policy's rates: the rate of every link source but the shop that has no rate of its own. */
export const THIRD_PARTY = 'third-party';

/** What a Xingtu fee is a share of: the live room's GMV of the products, the streamer's fixed fee, the task amount. */
export const FEE_BASES = ['GMV', 'STREAMER_FIXED_FEE', 'TASK_AMOUNT'] as const;
export type FeeBase = (typeof FEE_BASES)[number];

/** Rates are kept to millionths, so that a fee is computed exactly in integer fen. */
export const RATE_SCALE = 1_000_000;

const policyScope = z.strictObject({
  channel: z.literal('live', {
    message: 'must be "live" (short videos are never restricted by a cart policy)',
  }),
  categories: z.union([
    z.literal(ALL_CATEGORIES),
    z
      .array(slugSchema)
      .min(1, 'must list at least one category, or be "ALL"')
      .max(100)
      .transform((list) => [...new Set(list)].sort()),
  ]),
});

/** What every policy says, whatever its kind. */
const commonInput = {
  title: z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters'),
  announcedOn: calendarDateSchema,
  effectiveAt: dateOrInstantSchema,
  scope: policyScope,
  source: z.string().max(500).optional(),
};

const notBeforeItsAnnouncement = (p: { announcedOn: CalendarDate; effectiveAt: Instant }) =>
  p.effectiveAt >= formatInstant(startOfDay(p.announcedOn));
const NOT_BEFORE_ITS_ANNOUNCEMENT = {
  message: 'must not be before the day it is announced (announcedOn)',
  path: ['effectiveAt'],
};

export const cartPolicyInputSchema = z
  .strictObject({
    kind: z.literal('CART').default('CART'),
    policyId: z
      .string()
      .min(3, 'must be at least 3 characters')
      .max(100, 'must be at most 100 characters')
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and "-"'),
    ...commonInput,
    thirdPartyProducts: z.enum(POLICY_VALUES, {
      error: unlessMissing(`must be one of ${POLICY_VALUES.join(', ')}`),
    }),
  })
  .refine(notBeforeItsAnnouncement, NOT_BEFORE_ITS_ANNOUNCEMENT);
export type CartPolicyInput = z.output<typeof cartPolicyInputSchema>;

export const feeRateSchema = z.strictObject({
  rate: z
    .number({ error: unlessMissing('must be a number, e.g. 0.05 for 5%') })
    .min(0, 'must be at least 0')
    .max(1, 'must be at most 1 (a fraction, e.g. 0.05 for 5%)')
    .refine((rate) => Number.isInteger(Math.round(rate * RATE_SCALE * 1e6) / 1e6), {
      message: `must have at most ${Math.log10(RATE_SCALE)} decimal places`,
    }),
  base: z.enum(FEE_BASES, { error: unlessMissing(`must be one of ${FEE_BASES.join(', ')}`) }),
});
export type FeeRate = z.output<typeof feeRateSchema>;

/** A fee policy's rates by link source: `shop`, `third-party` (every other source), or a named source (`taobao`). */
const feeRatesSchema = z
  .record(slugSchema, feeRateSchema)
  .refine((rates) => Object.keys(rates).length > 0, 'must price at least one link source, e.g. "shop"');

export const feePolicyInputSchema = z
  .strictObject({
    kind: z.literal('XINGTU_FEE'),
    // Upper case: never the same as a cart policy's id (both kinds share the calendar's keys).
    policyId: z
      .string()
      .min(3, 'must be at least 3 characters')
      .max(100, 'must be at most 100 characters')
      .regex(/^[A-Z0-9][A-Z0-9_]*$/, 'must be upper-case letters, digits and "_"'),
    ...commonInput,
    /** The source gives no exact day: the one recorded is an assumption (rules §5). */
    dateAssumed: z.boolean().optional(),
    rates: feeRatesSchema,
  })
  .refine(notBeforeItsAnnouncement, NOT_BEFORE_ITS_ANNOUNCEMENT);
export type FeePolicyInput = z.output<typeof feePolicyInputSchema>;

/** A policy as an operator announces it: `kind` tells the kinds apart, absent meaning CART. */
export const policyInputSchema = z.discriminatedUnion('kind', [cartPolicyInputSchema, feePolicyInputSchema], {
  error: unlessMissing(`must be one of ${POLICY_KINDS.join(', ')} (absent: CART)`),
});
export type PolicyInput = z.output<typeof policyInputSchema>;

export interface PolicyHistoryEntry {
  status: PolicyStatus | 'ANNOUNCED' | 'CORRECTED';
  effectiveAt: Instant;
  processedAt: Instant;
  asOf?: Instant;
  reason?: string;
}

/** What the calendar records of a policy of any kind, besides what was announced. */
export interface PolicyState {
  status: PolicyStatus;
  version: number;
  history: PolicyHistoryEntry[];
  /** Set once the announcement has gone out to the affected merchants (or was skipped: reached late). */
  announced?: { asOf: Instant; processedAt: Instant; skipped: boolean };
  /** Set once merchants told of a withdrawn policy have been told it is withdrawn. */
  withdrawalNotified?: { asOf: Instant; processedAt: Instant };
  withdrawReason?: string;
}

export interface CartPolicy extends CartPolicyInput, PolicyState {}
export interface FeePolicy extends FeePolicyInput, PolicyState {}
/** A policy of the calendar, of either kind. */
export type Policy = CartPolicy | FeePolicy;
/** The policy of one kind. */
export type PolicyOf<K extends PolicyKind> = Extract<Policy, { kind: K }>;

/** The cart policies of a calendar (the flags and cart values are theirs alone). */
export const cartPoliciesOf = (policies: readonly Policy[]): CartPolicy[] =>
  policies.filter((p): p is CartPolicy => p.kind === 'CART');
/** The fee policies of a calendar. */
export const feePoliciesOf = (policies: readonly Policy[]): FeePolicy[] =>
  policies.filter((p): p is FeePolicy => p.kind === 'XINGTU_FEE');

const STATE_FIELDS = new Set<string>([
  'policyId',
  'status',
  'version',
  'history',
  'announced',
  'withdrawalNotified',
  'withdrawReason',
]);

/** A value as text with its object keys sorted (and undefined fields left out): equal content, equal text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([key, v]) => v !== undefined && !STATE_FIELDS.has(key))
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, v]) => `${JSON.stringify(key)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The content an operator controls (what a policy file says, its id aside); two inputs with the same
 * content are the same announcement.
 */
export function sameContent(a: PolicyInput, b: PolicyInput): boolean {
  return canonical(a) === canonical(b);
}

export function overlaps(a: CartPolicyInput['scope'], b: CartPolicyInput['scope']): boolean {
  if (a.channel !== b.channel) return false;
  if (a.categories === ALL_CATEGORIES || b.categories === ALL_CATEGORIES) return true;
  const other = new Set(b.categories);
  return a.categories.some((c) => other.has(c));
}

/**
 * Two live policies of the same kind for overlapping scopes at the same instant contradict each
 * other (a cart policy and a fee policy never do: they rule different things).
 */
export function conflictOf(candidate: PolicyInput, existing: readonly Policy[]): Policy | undefined {
  return existing.find(
    (p) =>
      p.policyId !== candidate.policyId &&
      p.kind === candidate.kind &&
      p.status !== 'WITHDRAWN' &&
      p.effectiveAt === candidate.effectiveAt &&
      overlaps(p.scope, candidate.scope),
  );
}

/** Whether a policy restricts merchants selling in these categories. */
export function coversCategories(policy: Pick<CartPolicyInput, 'scope'>, categories: string[]): boolean {
  const scoped = policy.scope.categories;
  return scoped === ALL_CATEGORIES || categories.some((c) => scoped.includes(c));
}

export interface CartFlag {
  channel: CartChannel;
  products: 'third-party';
  /** ALL, or a category that some policy names. */
  scope: string;
  value: CartFlagValue;
  /** When the value took effect (absent while ALLOWED from the start). */
  since?: Instant;
  policyId?: string;
}

/**
 * The cart flags at an instant, from the policy calendar alone (its cart policies): for each scope, the most restrictive
 * policy in force (a policy for ALL categories applies to every category scope too). Correct at any
 * instant, whether or not the cart-policies job has run yet. Short videos are never restricted.
 */
export function flagsAt(policies: readonly Policy[], at: Instant): CartFlag[] {
  const live = cartPoliciesOf(policies).filter((p) => p.status !== 'WITHDRAWN');
  const scopes = [
    ALL_CATEGORIES,
    ...new Set(live.flatMap((p) => (p.scope.categories === ALL_CATEGORIES ? [] : p.scope.categories))),
  ];
  const flags: CartFlag[] = scopes.sort().map((scope) => ({
    channel: 'live',
    products: 'third-party',
    scope,
    // The ALL scope is what a merchant of no named category gets; a category scope adds its own policies.
    ...cartValueAt(live, scope === ALL_CATEGORIES ? [] : [scope], at),
  }));
  flags.push({ channel: 'short-video', products: 'third-party', scope: ALL_CATEGORIES, value: 'ALLOWED' });
  return flags;
}

export interface CartValue {
  value: CartFlagValue;
  /** When the value took effect, and the policy that set it (absent while ALLOWED). */
  since?: Instant;
  policyId?: string;
}

/**
 * The live-room cart value for third-party products of a merchant selling in these categories at an
 * instant: the most restrictive policy in force that covers them; of equals, the first to take effect
 * (then the lower id). Withdrawn policies set nothing.
 */
export function cartValueAt(policies: readonly Policy[], categories: string[], at: Instant): CartValue {
  const inForce = cartPoliciesOf(policies)
    .filter((p) => p.status !== 'WITHDRAWN' && p.effectiveAt <= at && coversCategories(p, categories))
    .sort((a, b) => a.effectiveAt.localeCompare(b.effectiveAt) || a.policyId.localeCompare(b.policyId));
  let current: CartValue = { value: 'ALLOWED' };
  for (const p of inForce) {
    if (severity(p.thirdPartyProducts) > severity(current.value)) {
      current = { value: p.thirdPartyProducts, since: p.effectiveAt, policyId: p.policyId };
    }
  }
  return current;
}

/**
 * Whether a policy changes the value that applies to a merchant selling in these categories: at the
 * policy's instant, given the calendar `policies` (which holds it), it is the policy that sets the
 * merchant's value. A policy that a stricter (or equal, earlier) one already covers changes nothing.
 */
export function changesCartFor(
  policies: readonly Policy[],
  policy: CartPolicy,
  categories: string[],
): boolean {
  return (
    policy.status !== 'WITHDRAWN' &&
    coversCategories(policy, categories) &&
    cartValueAt(policies, categories, policy.effectiveAt).policyId === policy.policyId
  );
}

/**
 * changesCartFor for one policy against one calendar, remembered per set of categories: a sweep asks
 * it for every merchant of the audience, and many merchants share their categories.
 */
export function cartChangeTest(
  policies: readonly Policy[],
  policy: CartPolicy,
): (categories: string[]) => boolean {
  const byKey = memoize((key) => changesCartFor(policies, policy, key === '' ? [] : key.split('\u0000')));
  return (categories) => byKey(categories.join('\u0000'));
}

/** Every change of every flag, in time order: the flag timeline of the calendar. */
export function flagTimeline(policies: readonly Policy[]): (CartFlag & { since: Instant })[] {
  const instants = [
    ...new Set(
      cartPoliciesOf(policies)
        .filter((p) => p.status !== 'WITHDRAWN')
        .map((p) => p.effectiveAt),
    ),
  ].sort();
  const changes: (CartFlag & { since: Instant })[] = [];
  const last = new Map<string, CartFlagValue>();
  for (const at of instants) {
    for (const flag of flagsAt(policies, at)) {
      const key = `${flag.channel}#${flag.scope}`;
      if ((last.get(key) ?? 'ALLOWED') !== flag.value && flag.since === at) {
        changes.push({ ...flag, since: at });
      }
      last.set(key, flag.value);
    }
  }
  return changes;
}

export const announcementInstant = (policy: { announcedOn: CalendarDate }) =>
  formatInstant(startOfDay(policy.announcedOn));

export const MERCHANT_POLICY_STATUSES = ['ANNOUNCED', 'IN_FORCE', 'WITHDRAWN'] as const;
export type MerchantPolicyStatus = (typeof MERCHANT_POLICY_STATUSES)[number];

/**
 * A merchant's notice state a cart-policy step may follow: none yet (never told), or a status; with
 * `dateChanged`, only if the date they were told has since been corrected. The job's conditional
 * write (shared/store/merchant-notices.ts) and a dry run's decision (`followsOneOf`) both read it.
 */
export type PriorNoticeState = 'UNTOLD' | { status: MerchantPolicyStatus; dateChanged?: true };

/** Whether the state as read is one a step may follow, for a policy now effective at `effectiveAt`. */
export function followsOneOf(
  priors: readonly PriorNoticeState[],
  existing: Pick<MerchantPolicyNotice, 'status' | 'effectiveAt'> | undefined,
  effectiveAt: Instant,
): boolean {
  return priors.some((prior) =>
    prior === 'UNTOLD'
      ? existing === undefined
      : existing?.status === prior.status && (!prior.dateChanged || existing.effectiveAt !== effectiveAt),
  );
}

/** What a merchant was last told of one policy, of any kind, and when the job told it. */
interface PolicyNoticeState {
  merchantId: string;
  policyId: string;
  status: MerchantPolicyStatus;
  title: string;
  announcedOn: string;
  effectiveAt: Instant;
  processedAt: Instant;
  asOf: Instant;
}

/** One merchant's notice state for one policy (`MERCHANT#<id>` / `CART_POLICY#<policyId>`). */
export interface MerchantPolicyNotice extends PolicyNoticeState {
  thirdPartyProducts: PolicyValue;
  categories: CartPolicy['scope']['categories'];
}

/** One merchant's notice state for one fee policy (`MERCHANT#<id>` / `FEE_POLICY#<policyId>`). */
export interface MerchantFeePolicyNotice extends PolicyNoticeState {
  categories: FeePolicy['scope']['categories'];
  rates: FeePolicy['rates'];
}

/** Its announcement has come and was not made yet. */
export const announcementDue = (policy: Policy, asOf: Instant) =>
  !policy.announced && announcementInstant(policy) <= asOf;

/** Its instant has come: it is (or is due to be) in force. */
export const inForceDue = (policy: Policy, asOf: Instant) => policy.effectiveAt <= asOf;

/** What the cart-policies job still has to do for a policy as of `asOf`: announce it, or put it in force. */
export const policyIsDue = (policy: Policy, asOf: Instant) =>
  policy.status === 'SCHEDULED' && (inForceDue(policy, asOf) || announcementDue(policy, asOf));
