// What each function's code does to the table, and nothing more. Keep in step with the code named
// here: a new call to DynamoDB in one of these paths needs its action added, and the infra tests
// assert these exact lists.
import { DUE_INDEX } from '../shared/store/table';
import type { TableAccess } from './constructs/promo-table';

/**
 * activate / expire (shared/jobs/lease.ts, run.ts, partitions.ts, shared/store/promotions.ts
 * applyPromotionChange): the job's lease is a conditional PutItem and a DeleteItem; the due index is
 * read with Query; each promotion is one conditional UpdateItem, and so is the job-run item.
 */
export const PROMOTION_JOB_ACCESS: TableAccess = {
  table: ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  indexes: { [DUE_INDEX.indexName]: ['dynamodb:Query'] },
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
