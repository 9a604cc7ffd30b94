// Which fee rate an order gets (rules §1, §4: no stacking across programs). Decided by each
// enrolment's window and revocation instant, never by the stored status, which may lag behind when a
// job run is late.
import * as z from 'zod';
import { unlessMissing } from '../../shared/errors';
import { NEW_MERCHANT_FEE } from '../../shared/programs/program';
import type { Promotion } from '../../shared/promotion/lifecycle';
import type { Instant } from '../../shared/time';

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

/**
 * The rate one enrolment gives an order: its program's fee cap (the enrolment's snapshot) inside its
 * window and before any revocation, at most the standard rate; otherwise the standard rate.
 */
export function quoteOrder(enrolment: Promotion, order: Order): Quote {
  const standard = (reason: string): Quote => ({
    rate: order.standardRate,
    promotion: false,
    reason,
    standardRate: order.standardRate,
  });
  const feeRate = enrolment.program.benefits.feeRate;
  if (order.source === 'ad') return standard('ad-traffic orders never qualify for the promotion');
  if (feeRate === undefined) return standard(`${enrolment.programId} gives no fee cap`);
  if (!enrolment.eligible)
    return standard(`onboarded on ${enrolment.onboardedOn}, before the program started`);
  if (order.createdAt < enrolment.startsAt)
    return standard(`created before the window starts at ${enrolment.startsAt}`);
  if (order.createdAt >= enrolment.endsBefore)
    return standard(`created after the window ended at ${enrolment.endsBefore}`);
  if (enrolment.revokedAt !== undefined && enrolment.revokedAt <= order.createdAt) {
    return standard(`created after the promotion was revoked at ${enrolment.revokedAt}`);
  }
  return {
    rate: Math.min(feeRate, order.standardRate),
    promotion: true,
    reason: `non-ad order created inside the window ${enrolment.startsAt} – ${enrolment.endsBefore}`,
    standardRate: order.standardRate,
  };
}

/** A quote across a merchant's enrolments: which program gave the rate, or null when none did. */
export type ProgramQuote = Quote & { programId: string | null };

/** An enrolment whose program caps the fee, and its cap. */
interface Capped {
  enrolment: Promotion;
  cap: number;
}

/**
 * The order enrolments are preferred in: the lower fee cap, then the earlier window start, then the
 * lower programId (compared as plain strings, so the choice never depends on a locale).
 */
function preferred(a: Capped, b: Capped): number {
  if (a.cap !== b.cap) return a.cap - b.cap;
  const [x, y] = [a.enrolment, b.enrolment];
  if (x.startsAt !== y.startsAt) return x.startsAt < y.startsAt ? -1 : 1;
  return x.programId < y.programId ? -1 : x.programId > y.programId ? 1 : 0;
}

/**
 * No stacking (rules §4): among the enrolments with a fee cap whose window holds the order and that
 * were not revoked at or before it, the one preferred (lowest cap; a tie: earlier start, then lower
 * programId) gives the rate, at most the standard rate; `programId` names it. Caps are compared, not
 * the rates they give: with a standard rate below every cap, the lowest cap still names the program.
 * When none gives a rate, the standard rate applies with `programId: null`, and the reason is today's
 * promotion's (NEW_MERCHANT_FEE), so its quotes read as they always have; without it, the first
 * enrolment's in the same order.
 */
export function quoteAcross(enrolments: readonly Promotion[], order: Order): ProgramQuote {
  const capped = enrolments
    .flatMap((enrolment): Capped[] => {
      const cap = enrolment.program.benefits.feeRate;
      return cap === undefined ? [] : [{ enrolment, cap }];
    })
    .sort(preferred)
    .map(({ enrolment }) => enrolment);
  for (const enrolment of capped) {
    const quote = quoteOrder(enrolment, order);
    if (quote.promotion) return { ...quote, programId: enrolment.programId };
  }
  const explains = capped.find((e) => e.programId === NEW_MERCHANT_FEE.programId) ?? capped[0];
  const none: Quote = explains
    ? quoteOrder(explains, order)
    : {
        rate: order.standardRate,
        promotion: false,
        reason: 'enrolled in no program with a fee cap',
        standardRate: order.standardRate,
      };
  return { ...none, programId: null };
}
