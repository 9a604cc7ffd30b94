// Which fee rate an order gets (rules §1). Decided by the window and the revocation instant, never by
// the stored status, which may lag behind when a job run is late.
import { z } from 'zod';
import { unlessMissing } from '../errors';
import type { Instant } from '../time';
import type { Promotion } from './lifecycle';

export const PROMOTION_RATE = 0.01;

export const orderSourceSchema = z.enum(['ad', 'alliance', 'other'], {
  error: unlessMissing(
    'must be one of ad (ad-traffic order), alliance (Selected Alliance order), other (any other non-ad order)',
  ),
});
export type OrderSource = z.infer<typeof orderSourceSchema>;

export const standardRateSchema = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value),
  z
    .number({ error: unlessMissing('must be a number') })
    .min(0, 'must be at least 0')
    .max(1, 'must be at most 1 (a fraction, e.g. 0.05 for 5%)'),
);

export interface Quote {
  rate: number;
  promotion: boolean;
  reason: string;
  standardRate: number;
}

export interface Order {
  createdAt: Instant;
  source: OrderSource;
  standardRate: number;
}

/** The rate one enrolment gives an order: its fee cap (`rate`) inside its window, else the standard rate. */
export function quoteOrder(promotion: Promotion, order: Order, rate = PROMOTION_RATE): Quote {
  const standard = (reason: string): Quote => ({
    rate: order.standardRate,
    promotion: false,
    reason,
    standardRate: order.standardRate,
  });
  if (order.source === 'ad') return standard('ad-traffic orders never qualify for the promotion');
  if (!promotion.eligible)
    return standard(`onboarded on ${promotion.onboardedOn}, before the program started`);
  if (order.createdAt < promotion.startsAt)
    return standard(`created before the window starts at ${promotion.startsAt}`);
  if (order.createdAt >= promotion.endsBefore)
    return standard(`created after the window ended at ${promotion.endsBefore}`);
  if (promotion.revokedAt !== undefined && promotion.revokedAt <= order.createdAt) {
    return standard(`created after the promotion was revoked at ${promotion.revokedAt}`);
  }
  return {
    rate: Math.min(rate, order.standardRate),
    promotion: true,
    reason: `non-ad order created inside the window ${promotion.startsAt} – ${promotion.endsBefore}`,
    standardRate: order.standardRate,
  };
}

/** One of a merchant's enrolments as a quote reads it: its program, its fee cap (if any), its window and revocation. */
export interface PricedEnrolment {
  programId: string;
  feeRate: number | undefined;
  enrolment: Promotion;
}

/**
 * No stacking (rules §4): the lowest fee cap among the enrolments whose window holds the order and
 * that were not revoked before it, never above the standard rate; `programId` names the program that
 * gave it (the first of equal ones, in the order given), or null. When none gives a rate, the reason
 * is the first fee-giving enrolment's (today's promotion's, for a merchant of the source's example).
 */
export function quoteAcross(
  enrolments: readonly PricedEnrolment[],
  order: Order,
): Quote & { programId: string | null } {
  let best: (Quote & { programId: string }) | undefined;
  let first: Quote | undefined;
  for (const { programId, feeRate, enrolment } of enrolments) {
    if (feeRate === undefined) continue;
    const quote = quoteOrder(enrolment, order, feeRate);
    first ??= quote;
    if (quote.promotion && (!best || quote.rate < best.rate)) best = { ...quote, programId };
  }
  if (best) return best;
  const none = first ?? {
    rate: order.standardRate,
    promotion: false,
    reason: 'enrolled in no program with a fee cap',
    standardRate: order.standardRate,
  };
  return { ...none, programId: null };
}
