// What each function's code does to the table, and to which items, nothing more. Keep in step with
// the code named here: a new call to DynamoDB in one of these paths needs its action, on the
// partitions it touches, added here; the infra tests assert these exact grants and what they allow.
//
// Each grant becomes one IAM statement with a `dynamodb:LeadingKeys` condition on the partition key
// (infra/constructs/promo-table.ts). IAM cannot tell sort keys apart, so a grant on `MERCHANT#*`
// covers every item of a merchant (profile, promotion, cart-policy states); see
// docs/infrastructure.md ("Who can write what").

import type { JobName } from '../shared/jobs/input';
import { CART_POLICY_PK, FLAG_PK, jobPk, merchantPk } from '../shared/store/keys';
import { AUDIENCE_INDEX, DUE_INDEX } from '../shared/store/table';
import type { TableAccess, TableGrant } from './constructs/promo-table';

/** Every merchant's partition (`MERCHANT#<id>`), and nothing else. */
const MERCHANTS = merchantPk('*');

/**
 * A job's own partition `JOB#<job>` (shared/jobs/lease.ts, run.ts): its lease (conditional PutItem
 * to take it, UpdateItem or PutItem to renew it, conditional DeleteItem to release it, GetItem to
 * read its holder) and its job-run items `RUN#<asOf>` (one UpdateItem per report, with the
 * continuation checkpoint; GetItem when a continuation confirms the checkpoint it resumes from).
 * Another job's lease or runs are out of reach.
 */
const ownJobItems = (job: JobName): TableGrant => ({
  actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  partitions: [jobPk(job)],
});

/**
 * activate / expire (shared/jobs/sweep.ts, shared/store/promotions.ts applyPromotionChange): the due
 * index is read with Query (the items come with it); each promotion is one conditional UpdateItem.
 */
const promotionJobAccess = (job: JobName): TableAccess => ({
  table: [
    ownJobItems(job),
    // Promotions (MERCHANT#<id> / PROMO#…): no Put or Delete, so no merchant item is created or removed.
    { actions: ['dynamodb:UpdateItem'], partitions: [MERCHANTS] },
  ],
  indexes: { [DUE_INDEX.indexName]: ['dynamodb:Query'] },
});

/**
 * cart-policies (shared/jobs/cart-policies.ts, shared/policies/store.ts): listPolicies and
 * listStoredFlags Query the fixed partitions CART_POLICY and FLAG, updatePolicy and setFlag are each a
 * conditional UpdateItem there; the audience index is read with Query; a merchant's notice state per
 * policy is a conditional UpdateItem, read with GetItem in a dry run instead.
 */
const CART_POLICIES_ACCESS: TableAccess = {
  table: [
    ownJobItems('cart-policies'),
    // The policy calendar and the live-room flags: read them, put a policy in force, move a flag.
    { actions: ['dynamodb:Query', 'dynamodb:UpdateItem'], partitions: [CART_POLICY_PK, FLAG_PK] },
    // Merchants' notice states per policy (MERCHANT#<id> / CART_POLICY#…).
    { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], partitions: [MERCHANTS] },
  ],
  indexes: { [AUDIENCE_INDEX.indexName]: ['dynamodb:Query'] },
};

/** Each scheduled job's access: a job added to JOB_NAMES does not compile until it has one. */
export const JOB_ACCESS: Record<JobName, TableAccess> = {
  activate: promotionJobAccess('activate'),
  expire: promotionJobAccess('expire'),
  'cart-policies': CART_POLICIES_ACCESS,
};

/**
 * recorder (shared/merchants/record.ts): BatchGetItem of profile + promotion; a new merchant or a
 * corrected T is one TransactWriteItems of Put (PutItem) and Update (UpdateItem) — each item of a
 * transaction is authorised as its own action, LeadingKeys included; a profile-only change is a
 * PutItem; revocation reads with GetItem (getPromotion) and writes with UpdateItem
 * (applyPromotionChange). All of it inside merchants' partitions: no job, policy or flag item.
 */
export const RECORDER_ACCESS: TableAccess = {
  table: [
    {
      actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      partitions: [MERCHANTS],
    },
  ],
};
