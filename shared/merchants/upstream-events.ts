// The events upstream systems send about merchants (EventBridge, source `marketplace.merchants`):
// `MerchantOnboarded` records a merchant or corrects its T; `MerchantViolation` revokes its promotion.
// Validated like every other input: the error names the field, and nothing is written.
import * as z from 'zod';
import { InputError, parseInput, unlessMissing } from '../errors';
import { merchantIdSchema } from '../store/keys';
import { instantSchema } from '../time';
import { type MerchantRecord, merchantRecordSchema } from './record';

export const MERCHANT_EVENT_SOURCE = 'marketplace.merchants';
export const MERCHANT_EVENT_TYPES = ['MerchantOnboarded', 'MerchantViolation'] as const;

/**
 * `MerchantOnboarded` detail: the same record as a line of `merchants import` (a correction of T is just
 * another one). Its `occurredAt`, when present, orders it; otherwise the event's `time` does.
 */
export const merchantOnboardedSchema = merchantRecordSchema;

/** `MerchantViolation` detail: revoke the promotion at `at`, for `reason`. */
export const merchantViolationSchema = z.strictObject({
  merchantId: merchantIdSchema,
  at: instantSchema,
  reason: z.string().trim().min(1, 'must not be empty').max(500, 'must be at most 500 characters'),
});
export type MerchantViolation = z.output<typeof merchantViolationSchema>;

// EventBridge adds version, account, region, time, resources: only what we read is checked.
const envelopeSchema = z.object({
  id: z.string().min(1),
  /** When the event happened (EventBridge's `time`, the producer's or the put time): the order of onboardings. */
  time: instantSchema.optional(),
  source: z.literal(MERCHANT_EVENT_SOURCE, { error: unlessMissing(`must be ${MERCHANT_EVENT_SOURCE}`) }),
  'detail-type': z.enum(MERCHANT_EVENT_TYPES, {
    error: unlessMissing(`must be one of ${MERCHANT_EVENT_TYPES.join(', ')}`),
  }),
  detail: z.unknown(),
});

export type MerchantEvent =
  | { id: string; type: 'MerchantOnboarded'; record: MerchantRecord }
  | { id: string; type: 'MerchantViolation'; violation: MerchantViolation };

/** The detail's own `occurredAt` wins over the envelope's `time`. */
const withOccurredAt = (record: MerchantRecord, time: string | undefined): MerchantRecord =>
  record.occurredAt || !time ? record : { ...record, occurredAt: time };

/** Parses an EventBridge event; an InputError names the field (`detail.onboardedAt: …`). */
export function parseMerchantEvent(value: unknown): MerchantEvent {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError('(input): must be an EventBridge event object');
  }
  const envelope = parseInput(envelopeSchema, value);
  if (envelope['detail-type'] === 'MerchantOnboarded') {
    return {
      id: envelope.id,
      type: 'MerchantOnboarded',
      record: withOccurredAt(parseInput(merchantOnboardedSchema, envelope.detail, 'detail'), envelope.time),
    };
  }
  return {
    id: envelope.id,
    type: 'MerchantViolation',
    violation: parseInput(merchantViolationSchema, envelope.detail, 'detail'),
  };
}
