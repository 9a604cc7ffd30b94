// The single-table key layout and the items' `type` tags. Every key is built here and nowhere else.
import * as z from 'zod';
import type { NextAction, NextStep } from '../promotion/lifecycle';

export const PROMOTION_PROGRAM = 'NEW_MERCHANT_FEE';

/** Merchant ids are restricted so that they can never collide with the `#`-separated key layout. */
export const merchantIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may contain only letters, digits, ".", "_", ":" and "-"');

/** The `type` tag of each kind of stored item (shared/store/items.ts holds their schemas). */
export const MERCHANT_TYPE = 'MERCHANT';
export const PROMOTION_TYPE = 'PROMOTION';
export const CART_POLICY_TYPE = 'CART_POLICY';
export const CART_FLAG_TYPE = 'CART_FLAG';
/** A merchant's notice state for one cart policy. */
export const MERCHANT_CART_POLICY_TYPE = 'MERCHANT_CART_POLICY';
/** A merchant's notice state for one Xingtu fee policy. */
export const MERCHANT_FEE_POLICY_TYPE = 'MERCHANT_FEE_POLICY';

export type ItemKey = { pk: string; sk: string };
/** The key of an item as read (every item has both attributes: the table's key schema requires them). */
export const readItemKey = (item: Record<string, unknown>): ItemKey => ({
  pk: String(item.pk),
  sk: String(item.sk),
});

export const merchantPk = (merchantId: string) => `MERCHANT#${merchantId}`;
export const PROFILE_SK = 'PROFILE';
/** A merchant's enrolment in a program sits beside its profile; today's promotion is one of them. */
export const enrolmentSk = (programId: string) => `PROMO#${programId}`;
export const ENROLMENT_SK_PREFIX = enrolmentSk('');
export const PROMOTION_SK = enrolmentSk(PROMOTION_PROGRAM);
export const profileKey = (merchantId: string): ItemKey => ({ pk: merchantPk(merchantId), sk: PROFILE_SK });
export const enrolmentKey = (merchantId: string, programId: string): ItemKey => ({
  pk: merchantPk(merchantId),
  sk: enrolmentSk(programId),
});
/** The merchant's enrolment in the new-merchant fee program (`NEW_MERCHANT_FEE`). */
export const promotionKey = (merchantId: string): ItemKey => enrolmentKey(merchantId, PROMOTION_PROGRAM);

/**
 * A job's own partition: its lease, its job-run items and the CLI's backfill progress items; nothing
 * else lives there.
 */
export const jobPk = (job: string) => `JOB#${job}`;
export const jobRunSk = (asOf: string) => `RUN#${asOf}`;
export const JOB_RUN_TYPE = 'JOB_RUN';
export const LEASE_SK = 'LEASE';
export const JOB_LEASE_TYPE = 'JOB_LEASE';
/** How far a backfill `run <job> --from <from> --to <to>` got (cli/run/backfill.ts). */
export const backfillSk = (from: string, to: string) => `BACKFILL#${from}..${to}`;
export const JOB_BACKFILL_TYPE = 'JOB_BACKFILL';

/**
 * The sparse "due" index. An item carries `due_pk = <action>#<shard>` and `due_sk = <instant>` only
 * while it waits for that action; a job queries every shard for `due_sk <= cutoff`, so a backlog of
 * any age is found without a watermark, and one day's cohort is spread over DUE_SHARDS partitions.
 * Changing DUE_SHARDS needs a migration of waiting items (see docs/decisions.md).
 */
export const DUE_SHARDS = 16;
/**
 * The due index's partition families, one per job that reads them: `ACTIVATE#<shard>` holds what
 * the activate job takes (SCHEDULED promotions, due at their start), `EXPIRE#<shard>` what the
 * expire job takes (ACTIVE ones, due at their reminder while it is pending, then at their end).
 */
export type DueQueue = 'ACTIVATE' | 'EXPIRE';
/**
 * Where each step the lifecycle plans waits. The reminder and the end share the expire job's
 * partitions: one job takes both, and items written before the steps had their own names are
 * found where they are (docs/decisions.md, "The store boundary").
 */
const QUEUE_OF: Record<NextAction, DueQueue> = { ACTIVATE: 'ACTIVATE', REMIND: 'EXPIRE', EXPIRE: 'EXPIRE' };

export interface DueKey {
  due_pk: string;
  due_sk: string;
}

export function shardOf(id: string, shards = DUE_SHARDS): number {
  // FNV-1a: stable across processes and runtimes, unlike anything seeded.
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

export const duePartition = (queue: DueQueue, shard: number) => `${queue}#${String(shard).padStart(2, '0')}`;

/** The due index key of a promotion waiting for `next`; undefined when it waits for nothing. */
export function dueKeyOf(merchantId: string, next: NextStep | null): DueKey | undefined {
  return next
    ? { due_pk: duePartition(QUEUE_OF[next.action], shardOf(merchantId)), due_sk: next.at }
    : undefined;
}

/** Every due index partition holding promotions that wait for one of these steps (each once). */
export function duePartitionsOf(actions: readonly NextAction[]): string[] {
  const queues = [...new Set(actions.map((action) => QUEUE_OF[action]))];
  return queues.flatMap((queue) =>
    Array.from({ length: DUE_SHARDS }, (_, shard) => duePartition(queue, shard)),
  );
}

/**
 * The sparse "audience" index: a merchant profile carries `aud_pk = LIVE3P#<shard>`,
 * `aud_sk = <merchantId>` while its live-room cart holds products from a third party (any source
 * but the merchant's own Douyin shop). Cart-policy jobs read only these merchants.
 */
export const OWN_SHOP_SOURCE = 'shop';
export const AUDIENCE_SHARDS = DUE_SHARDS;
export const audiencePartition = (shard: number) => `LIVE3P#${String(shard).padStart(2, '0')}`;

export interface AudienceKey {
  aud_pk: string;
  aud_sk: string;
}

export function audienceKey(merchantId: string, liveCartSources: string[]): AudienceKey | undefined {
  return liveCartSources.some((source) => source !== OWN_SHOP_SOURCE)
    ? { aud_pk: audiencePartition(shardOf(merchantId, AUDIENCE_SHARDS)), aud_sk: merchantId }
    : undefined;
}

/**
 * The sparse "onboarded" index: every merchant profile carries `onb_pk = ONBOARDED#<shard>`, and the
 * index's sort key is the profile's own `onboardedOn`, so a program's merchants are a range of T in
 * each shard. The shard depends on the id alone: any writer of a profile writes the same value.
 */
export const ONBOARDED_SHARDS = DUE_SHARDS;
export const onboardedPartition = (shard: number) => `ONBOARDED#${String(shard).padStart(2, '0')}`;

export interface OnboardedKey {
  onb_pk: string;
}

export const onboardedKey = (merchantId: string): OnboardedKey => ({
  onb_pk: onboardedPartition(shardOf(merchantId, ONBOARDED_SHARDS)),
});

export const CART_POLICY_PK = 'CART_POLICY';
export const cartPolicySk = (policyId: string) => `POLICY#${policyId}`;
export const policyKey = (policyId: string): ItemKey => ({ pk: CART_POLICY_PK, sk: cartPolicySk(policyId) });
/** A merchant's notice state for one cart policy lives beside its profile. */
export const merchantCartPolicySk = (policyId: string) => `CART_POLICY#${policyId}`;
export const noticeStateKey = (merchantId: string, policyId: string): ItemKey => ({
  pk: merchantPk(merchantId),
  sk: merchantCartPolicySk(policyId),
});
/** A merchant's notice state for one fee policy, beside the cart ones (their items and schema stay as they are). */
export const merchantFeePolicySk = (policyId: string) => `FEE_POLICY#${policyId}`;
export const feeNoticeStateKey = (merchantId: string, policyId: string): ItemKey => ({
  pk: merchantPk(merchantId),
  sk: merchantFeePolicySk(policyId),
});
export const FLAG_PK = 'FLAG';
export const flagSk = (channel: string, products: string, scope: string) => `${channel}#${products}#${scope}`;
export const flagKey = (flag: { channel: string; products: string; scope: string }): ItemKey => ({
  pk: FLAG_PK,
  sk: flagSk(flag.channel, flag.products, flag.scope),
});

/** Programs stored as data (rules §4): one partition, a handful of items, read with one Query. */
export const PROGRAM_PK = 'PROGRAM';
export const PROGRAM_TYPE = 'PROGRAM';
export const programSk = (programId: string) => `PROGRAM#${programId}`;
export const programKey = (programId: string): ItemKey => ({ pk: PROGRAM_PK, sk: programSk(programId) });
/**
 * How far the activate job has enrolled the merchants recorded before a program (version) was
 * announced: one item per program, beside it (shared/jobs/enrolment.ts).
 */
export const ENROLMENT_PROGRESS_TYPE = 'PROGRAM_ENROLMENT';
export const enrolmentProgressKey = (programId: string): ItemKey => ({
  pk: PROGRAM_PK,
  sk: `ENROLMENT#${programId}`,
});
/** Whether an item of the `PROGRAM` partition is a program (the partition holds other items too). */
export const isProgramSk = (sk: string) => sk.startsWith(programSk(''));
