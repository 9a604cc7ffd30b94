// What a piece of code does to the table, as plain data: item actions by partition, Query by index.
// The code that does it declares it (a job's entry in shared/jobs/registry.ts); infra turns it into
// IAM statements (infra/constructs/promo-table.ts) and the infra tests assert them.
import type { GLOBAL_INDEXES } from './table';

export type IndexName = (typeof GLOBAL_INDEXES)[number]['indexName'];
export type DynamoAction = `dynamodb:${string}`;

/**
 * Item actions on the table, allowed only on items whose partition key (`pk`) is one of
 * `partitions`: exact values (`JOB#activate`, `FLAG`) or patterns with `*` (`MERCHANT#*`). It becomes
 * a `dynamodb:LeadingKeys` condition.
 */
export interface TableGrant {
  actions: readonly DynamoAction[];
  partitions: readonly string[];
}

/** What one function's code does to the table: item actions by partition, Query on named indexes. */
export interface TableAccess {
  table?: readonly TableGrant[];
  indexes?: Partial<Record<IndexName, readonly DynamoAction[]>>;
}
