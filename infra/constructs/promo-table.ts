// The single table: keys and indexes come from shared/store/table.ts, so the jobs and the
// deployed table cannot disagree.
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, StreamViewType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { GLOBAL_INDEXES, TABLE_KEY } from '../../shared/store/table';

export type IndexName = (typeof GLOBAL_INDEXES)[number]['indexName'];
export type DynamoAction = `dynamodb:${string}`;

/** What one function's code does to the table: item actions on the table, Query on named indexes. */
export interface TableAccess {
  table?: DynamoAction[];
  indexes?: Partial<Record<IndexName, DynamoAction[]>>;
}

export class PromoTable extends Construct {
  public readonly table: TableV2;

  constructor(scope: Construct, id: string, props: { tableName?: string } = {}) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: TABLE_KEY.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_KEY.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      dynamoStream: StreamViewType.NEW_AND_OLD_IMAGES,
      // Tidies up job leases nobody released (shared/jobs/lease.ts writes `ttl`); nothing relies on it.
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: GLOBAL_INDEXES.map((index) => ({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      })),
    });
  }

  /** IAM statements for exactly these actions on exactly these resources (no `*`, no `dynamodb:*`). */
  statementsFor(access: TableAccess): PolicyStatement[] {
    const statements: PolicyStatement[] = [];
    for (const action of [...(access.table ?? []), ...Object.values(access.indexes ?? {}).flat()]) {
      if (action.includes('*')) throw new Error(`table access must name actions, not ${action}`);
    }
    if (access.table?.length) {
      statements.push(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [...access.table].sort(),
          resources: [this.table.tableArn],
        }),
      );
    }
    for (const [indexName, actions] of Object.entries(access.indexes ?? {})) {
      if (!actions?.length) continue;
      statements.push(
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [...actions].sort(),
          resources: [`${this.table.tableArn}/index/${indexName}`],
        }),
      );
    }
    return statements;
  }
}
