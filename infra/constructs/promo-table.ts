// The single table: keys and indexes come from shared/store/table.ts, so the jobs and the
// deployed table cannot disagree.
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, ProjectionType, StreamViewType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { TableAccess } from '../../shared/store/access';
import { GLOBAL_INDEXES, type IndexProjection, TABLE_KEY } from '../../shared/store/table';

/**
 * The IAM condition limiting a statement to items in these partitions. LeadingKeys is multivalued
 * (BatchGetItem names many keys; a transaction's items are each authorised as their own action), so
 * AWS requires ForAllValues; ForAllValues also holds for a request that carries no key at all, so
 * `Null: false` requires the key to be there.
 */
function leadingKeysCondition(partitions: readonly string[]): Record<string, Record<string, unknown>> {
  if (partitions.length === 0) throw new Error('a table grant must name its partitions');
  const operator = partitions.some((p) => /[*?]/.test(p))
    ? 'ForAllValues:StringLike'
    : 'ForAllValues:StringEquals';
  return {
    [operator]: { 'dynamodb:LeadingKeys': [...partitions] },
    Null: { 'dynamodb:LeadingKeys': 'false' },
  };
}

function cdkProjection(projection: IndexProjection) {
  return projection.type === 'ALL'
    ? { projectionType: ProjectionType.ALL }
    : { projectionType: ProjectionType.INCLUDE, nonKeyAttributes: [...projection.attributes] };
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
        ...cdkProjection(index.projection),
      })),
    });
  }

  /**
   * IAM statements for exactly these actions on exactly these resources (no `*`, no `dynamodb:*`):
   * one per table grant, with its partitions as a LeadingKeys condition, and one per index.
   */
  statementsFor(access: TableAccess): PolicyStatement[] {
    const grants = access.table ?? [];
    for (const action of [
      ...grants.flatMap((g) => g.actions),
      ...Object.values(access.indexes ?? {}).flat(),
    ]) {
      if (action.includes('*')) throw new Error(`table access must name actions, not ${action}`);
    }
    const statements = grants.map(
      (grant) =>
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: [...grant.actions].sort(),
          resources: [this.table.tableArn],
          conditions: leadingKeysCondition(grant.partitions),
        }),
    );
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
