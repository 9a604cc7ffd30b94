// The recorder's handler: one EventBridge event from the merchant system in, the merchant recorded (or
// its T corrected) or its promotion revoked.
//
// What fails the invocation (Lambda retries it twice, then it lands in the recorder's failure queue,
// which alarms): an event that does not validate, an unknown merchant in a violation (its onboarding
// may not have arrived yet: EventBridge does not keep order), and anything transient. What does not: a
// revocation the promotion refuses (ineligible, revoked before at another instant, already over). That
// is the documented answer to a valid event, not a fault; retrying cannot change it, so it is logged
// as a warning, counted (RevocationsRefused) and dropped. Likewise an onboarding older (by its detail's
// `occurredAt`, else the event's `time`) than the one recorded: `stale`, a warning, EventsStale, dropped.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Deps } from '../deps';
import { RevocationRefusedError } from '../errors';
import { type RecordOutcome, recordMerchant, revokePromotion } from '../merchants/record';
import { type MerchantEvent, type MerchantViolation, parseMerchantEvent } from '../merchants/upstream-events';
import { parseEvent } from './middleware';
import { createRuntime, type LambdaRuntime } from './runtime';

export type RevocationOutcome = 'revoked' | 'unchanged' | 'refused';

export type RecorderResult =
  | { type: 'MerchantOnboarded'; merchantId: string; outcome: RecordOutcome; occurredAt?: string }
  | { type: 'MerchantViolation'; merchantId: string; outcome: RevocationOutcome; detail?: string };

/** One count per outcome, so the dashboard shows what upstream events did. */
const OUTCOME_METRICS: Record<RecordOutcome | RevocationOutcome, string> = {
  created: 'MerchantsCreated',
  updated: 'MerchantsUpdated',
  unchanged: 'EventsUnchanged',
  stale: 'EventsStale',
  revoked: 'PromotionsRevoked',
  refused: 'RevocationsRefused',
};

export function createRecorderHandler(runtime: LambdaRuntime = createRuntime()) {
  const { deps, logger, metrics } = runtime;
  return middy<MerchantEvent, RecorderResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(parseEvent<MerchantEvent, RecorderResult>(parseMerchantEvent))
    .handler(async (event) => {
      logger.appendKeys({ eventId: event.id, detailType: event.type });
      const result: RecorderResult =
        event.type === 'MerchantOnboarded'
          ? {
              type: event.type,
              merchantId: event.record.merchantId,
              outcome: await recordMerchant(deps, event.record),
              occurredAt: event.record.occurredAt,
            }
          : await revoke(deps, event.violation);
      metrics.addMetric(OUTCOME_METRICS[result.outcome], MetricUnit.Count, 1);
      if (result.outcome === 'refused') logger.warn('revocation refused', { ...result });
      else if (result.outcome === 'stale') logger.warn('stale onboarding ignored', { ...result });
      else logger.info('merchant event', { ...result });
      return result;
    });
}

async function revoke(deps: Deps, violation: MerchantViolation): Promise<RecorderResult> {
  const { merchantId, at, reason } = violation;
  try {
    const result = await revokePromotion(deps, merchantId, at, reason);
    return { type: 'MerchantViolation', merchantId, outcome: result.changed ? 'revoked' : 'unchanged' };
  } catch (error) {
    if (!(error instanceof RevocationRefusedError)) throw error;
    return { type: 'MerchantViolation', merchantId, outcome: 'refused', detail: error.message };
  }
}
