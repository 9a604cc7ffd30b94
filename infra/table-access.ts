// What each function's code does to the table, and to which items, nothing more. A job's own grants
// are data in its entry of shared/jobs/registry.ts, next to the code they cover; here are the ones
// every job shares, and the recorder's. Keep in step with the code named: a new call to DynamoDB in
// one of these paths needs its action, on the partitions it touches, added; the infra tests assert
// these exact grants and what they allow.
//
// Each grant becomes one IAM statement with a `dynamodb:LeadingKeys` condition on the partition key
// (infra/constructs/promo-table.ts). IAM cannot tell sort keys apart, so a grant on `MERCHANT#*`
// covers every item of a merchant (profile, promotion, cart-policy states); see
// docs/infrastructure.md ("Who can write what").

import { JOBS, type JobName } from '../shared/jobs/registry';
import type { TableAccess, TableGrant } from '../shared/store/access';
import { jobPk, merchantPk, PROGRAM_PK } from '../shared/store/keys';

/**
 * A job's own partition `JOB#<job>` (shared/store/leases.ts, shared/store/job-runs.ts), the same for
 * every job: its lease (conditional PutItem to take or renew it, conditional DeleteItem to release
 * it, GetItem to read its holder) and its job-run items `RUN#<asOf>` (one UpdateItem per report, with
 * the continuation checkpoint; GetItem when a continuation confirms the checkpoint it resumes from).
 * Another job's lease or runs are out of reach.
 */
const ownJobItems = (job: JobName): TableGrant => ({
  actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  partitions: [jobPk(job)],
});

/**
 * A job's access: its own items, what its registry entry (shared/jobs/registry.ts) says its code
 * does to the table, and Query on each index it reads.
 */
export const jobAccess = (job: JobName): TableAccess => ({
  table: [ownJobItems(job), ...JOBS[job].grants],
  indexes: Object.fromEntries(JOBS[job].reads.map((index) => [index, ['dynamodb:Query']])),
});

/**
 * recorder (shared/merchants/record.ts): Query of the `PROGRAM` partition (the programs in effect,
 * shared/store/programs.ts); BatchGetItem of the profile and an enrolment per program; a new merchant
 * or a corrected T is one TransactWriteItems of Put (PutItem) and Update (UpdateItem) — each item of
 * a transaction is authorised as its own action, LeadingKeys included; a profile-only change is a
 * PutItem; revocation reads the merchant's enrolments with Query and writes them with UpdateItem in
 * one transaction. All writes inside merchants' partitions: no job, program, policy or flag item.
 */
export const RECORDER_ACCESS: TableAccess = {
  table: [
    {
      actions: [
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ],
      partitions: [merchantPk('*')],
    },
    { actions: ['dynamodb:Query'], partitions: [PROGRAM_PK] },
  ],
};
