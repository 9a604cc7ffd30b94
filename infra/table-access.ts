// What each function's code does to the table, and nothing more. Keep in step with the code named
// here: a new call to DynamoDB in one of these paths needs its action added, and the infra tests
// assert these exact lists.

import type { JobName } from '../shared/jobs/input';
import { AUDIENCE_INDEX, DUE_INDEX } from '../shared/store/table';
import type { TableAccess } from './constructs/promo-table';

/**
 * activate / expire (shared/jobs/lease.ts, run.ts, partitions.ts, shared/store/promotions.ts
 * applyPromotionChange): the job's lease is a conditional PutItem (taken, renewed) and a DeleteItem;
 * the due index is read with Query; each promotion is one conditional UpdateItem, and so is the job-run
 * item; a continuation reads its checkpoint from the job-run item with GetItem.
 */
const PROMOTION_JOB_ACCESS: TableAccess = {
  table: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  indexes: { [DUE_INDEX.indexName]: ['dynamodb:Query'] },
};

/**
 * cart-policies (shared/jobs/lease.ts, run.ts, partitions.ts, cart-policies.ts, shared/policies/store.ts):
 * the lease is a conditional PutItem and a DeleteItem; listPolicies and listStoredFlags read the fixed
 * partitions CART_POLICY and FLAG with a table Query; the audience index is read with Query; a
 * merchant's notice state per policy, setFlag, updatePolicy and the job-run item are each one
 * conditional UpdateItem; a dry run reads the merchant × policy item with GetItem instead of writing,
 * and a continuation its checkpoint from the job-run item.
 */
const CART_POLICIES_ACCESS: TableAccess = {
  table: [
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ],
  indexes: { [AUDIENCE_INDEX.indexName]: ['dynamodb:Query'] },
};

/** Each scheduled job's access: a job added to JOB_NAMES does not compile until it has one. */
export const JOB_ACCESS: Record<JobName, TableAccess> = {
  activate: PROMOTION_JOB_ACCESS,
  expire: PROMOTION_JOB_ACCESS,
  'cart-policies': CART_POLICIES_ACCESS,
};

/**
 * recorder (shared/merchants/record.ts): BatchGetItem of profile + promotion; a new merchant or a
 * corrected T is one TransactWriteItems of Put (PutItem) and Update (UpdateItem) — a transaction is
 * authorised by the actions inside it; a profile-only change is a PutItem; revocation reads with
 * GetItem (getPromotion) and writes with UpdateItem (applyPromotionChange).
 */
export const RECORDER_ACCESS: TableAccess = {
  table: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
};
