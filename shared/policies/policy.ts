// Live-room cart policies (rules §2) as data, and the cart flags they set, as pure functions.
import { z } from 'zod';
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

const slug = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lower-case letters, digits, "_" or "-"');

export const cartPolicyInputSchema = z
  .strictObject({
    policyId: z
      .string()
      .min(3, 'must be at least 3 characters')
      .max(100, 'must be at most 100 characters')
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and "-"'),
    title: z.string().trim().min(1, 'must not be empty').max(300, 'must be at most 300 characters'),
    announcedOn: calendarDateSchema,
    effectiveAt: dateOrInstantSchema,
    scope: z.strictObject({
      channel: z.literal('live', {
        message: 'must be "live" (short videos are never restricted by a cart policy)',
      }),
      categories: z.union([
        z.literal(ALL_CATEGORIES),
        z
          .array(slug)
          .min(1, 'must list at least one category, or be "ALL"')
          .max(100)
          .transform((list) => [...new Set(list)].sort()),
      ]),
    }),
    thirdPartyProducts: z.enum(POLICY_VALUES, {
      error: unlessMissing(`must be one of ${POLICY_VALUES.join(', ')}`),
    }),
    source: z.string().max(500).optional(),
  })
  .refine((p) => p.effectiveAt >= formatInstant(startOfDay(p.announcedOn)), {
    message: 'must not be before the day it is announced (announcedOn)',
    path: ['effectiveAt'],
  });
export type CartPolicyInput = z.output<typeof cartPolicyInputSchema>;

export interface PolicyHistoryEntry {
  status: PolicyStatus | 'ANNOUNCED' | 'CORRECTED';
  effectiveAt: Instant;
  processedAt: Instant;
  asOf?: Instant;
  reason?: string;
}

export interface CartPolicy extends CartPolicyInput {
  status: PolicyStatus;
  version: number;
  history: PolicyHistoryEntry[];
  /** Set once the announcement has gone out to the affected merchants (or was skipped: reached late). */
  announced?: { asOf: Instant; processedAt: Instant; skipped: boolean };
  /** Set once merchants told of a withdrawn policy have been told it is withdrawn. */
  withdrawalNotified?: { asOf: Instant; processedAt: Instant };
  withdrawReason?: string;
}

/** The content an operator controls; two inputs with the same content are the same announcement. */
export function sameContent(a: CartPolicyInput, b: CartPolicyInput): boolean {
  const pick = (p: CartPolicyInput) =>
    JSON.stringify([
      p.title,
      p.announcedOn,
      p.effectiveAt,
      p.scope.channel,
      p.scope.categories,
      p.thirdPartyProducts,
      p.source ?? null,
    ]);
  return pick(a) === pick(b);
}

export function overlaps(a: CartPolicyInput['scope'], b: CartPolicyInput['scope']): boolean {
  if (a.channel !== b.channel) return false;
  if (a.categories === ALL_CATEGORIES || b.categories === ALL_CATEGORIES) return true;
  const other = new Set(b.categories);
  return a.categories.some((c) => other.has(c));
}

/** Two live policies for overlapping scopes at the same instant contradict each other. */
export function conflictOf(candidate: CartPolicyInput, existing: CartPolicy[]): CartPolicy | undefined {
  return existing.find(
    (p) =>
      p.policyId !== candidate.policyId &&
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
 * The cart flags at an instant, from the policy calendar alone: for each scope, the most restrictive
 * policy in force (a policy for ALL categories applies to every category scope too). Correct at any
 * instant, whether or not the cart-policies job has run yet. Short videos are never restricted.
 */
export function flagsAt(policies: CartPolicy[], at: Instant): CartFlag[] {
  const live = policies.filter((p) => p.status !== 'WITHDRAWN');
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
export function cartValueAt(policies: CartPolicy[], categories: string[], at: Instant): CartValue {
  const inForce = policies
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
export function changesCartFor(policies: CartPolicy[], policy: CartPolicy, categories: string[]): boolean {
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
  policies: CartPolicy[],
  policy: CartPolicy,
): (categories: string[]) => boolean {
  const byKey = memoize((key) => changesCartFor(policies, policy, key === '' ? [] : key.split('\u0000')));
  return (categories) => byKey(categories.join('\u0000'));
}

/** Every change of every flag, in time order: the flag timeline of the calendar. */
export function flagTimeline(policies: CartPolicy[]): (CartFlag & { since: Instant })[] {
  const instants = [
    ...new Set(policies.filter((p) => p.status !== 'WITHDRAWN').map((p) => p.effectiveAt)),
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

/** One merchant's notice state for one policy (`MERCHANT#<id>` / `CART_POLICY#<policyId>`). */
export interface MerchantPolicyNotice {
  merchantId: string;
  policyId: string;
  status: MerchantPolicyStatus;
  title: string;
  announcedOn: string;
  effectiveAt: Instant;
  thirdPartyProducts: PolicyValue;
  categories: CartPolicy['scope']['categories'];
  processedAt: Instant;
  asOf: Instant;
}

/** Its announcement has come and was not made yet. */
export const announcementDue = (policy: CartPolicy, asOf: Instant) =>
  !policy.announced && announcementInstant(policy) <= asOf;

/** Its instant has come: it is (or is due to be) in force. */
export const inForceDue = (policy: CartPolicy, asOf: Instant) => policy.effectiveAt <= asOf;

/** What the cart-policies job still has to do for a policy as of `asOf`: announce it, or put it in force. */
export const policyIsDue = (policy: CartPolicy, asOf: Instant) =>
  policy.status === 'SCHEDULED' && (inForceDue(policy, asOf) || announcementDue(policy, asOf));
