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

export function quoteOrder(
  promotion: Promotion,
  order: { createdAt: Instant; source: OrderSource; standardRate: number },
): Quote {
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
    rate: Math.min(PROMOTION_RATE, order.standardRate),
    promotion: true,
    reason: `non-ad order created inside the window ${promotion.startsAt} – ${promotion.endsBefore}`,
    standardRate: order.standardRate,
  };
}
