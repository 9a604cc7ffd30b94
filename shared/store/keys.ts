// The single-table key layout. Every key is built here and nowhere else.
import { z } from 'zod';

export const PROMOTION_PROGRAM = 'NEW_MERCHANT_FEE';

/** Merchant ids are restricted so that they can never collide with the `#`-separated key layout. */
export const merchantIdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may contain only letters, digits, ".", "_", ":" and "-"');

export const merchantPk = (merchantId: string) => `MERCHANT#${merchantId}`;
export const PROFILE_SK = 'PROFILE';
export const PROMOTION_SK = `PROMO#${PROMOTION_PROGRAM}`;

/** A job's own partition: its lease and its job-run items; nothing else lives there. */
export const jobPk = (job: string) => `JOB#${job}`;
export const jobRunSk = (asOf: string) => `RUN#${asOf}`;
export const JOB_RUN_TYPE = 'JOB_RUN';
export const LEASE_SK = 'LEASE';
export const JOB_LEASE_TYPE = 'JOB_LEASE';

/**
 * The sparse "due" index. An item carries `due_pk = <action>#<shard>` and `due_sk = <instant>` only
 * while it waits for that action; a job queries every shard for `due_sk <= cutoff`, so a backlog of
 * any age is found without a watermark, and one day's cohort is spread over DUE_SHARDS partitions.
 * Changing DUE_SHARDS needs a migration of waiting items (see docs/decisions.md).
 */
export const DUE_SHARDS = 16;
/** ACTIVATE: SCHEDULED promotions, due at their start. EXPIRE: ACTIVE ones, due at their next
 * end-of-life step — the "ends soon" reminder while it is pending, then the end of the window. */
export type DueAction = 'ACTIVATE' | 'EXPIRE';

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

export const duePartition = (action: DueAction, shard: number) =>
  `${action}#${String(shard).padStart(2, '0')}`;

export function dueKey(action: DueAction, id: string, at: string): DueKey {
  return { due_pk: duePartition(action, shardOf(id)), due_sk: at };
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

export const CART_POLICY_PK = 'CART_POLICY';
export const cartPolicySk = (policyId: string) => `POLICY#${policyId}`;
/** A merchant's notice state for one cart policy lives beside its profile. */
export const merchantCartPolicySk = (policyId: string) => `CART_POLICY#${policyId}`;
export const FLAG_PK = 'FLAG';
export const flagSk = (channel: string, products: string, scope: string) => `${channel}#${products}#${scope}`;
