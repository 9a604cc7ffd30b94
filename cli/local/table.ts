// Creating the table locally (DynamoDB Local), from the shape the stack deploys (shared/store/table.ts);
// in AWS the CDK stack owns the table, so no Lambda runs this.
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  type Projection,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTableCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { createWaiter, WaiterState } from '@smithy/core/client';
import { GLOBAL_INDEXES, type IndexProjection, TABLE_KEY } from '../../shared/store/table';

/** Each index's projection as the stack deploys it, so a query that works locally works in AWS. */
function projectionOf(projection: IndexProjection): Projection {
  return projection.type === 'ALL'
    ? { ProjectionType: 'ALL' }
    : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.attributes] };
}

export function createTableInput(tableName: string): CreateTableCommandInput {
  const keyNames = new Set<string>([TABLE_KEY.partitionKey, TABLE_KEY.sortKey]);
  for (const index of GLOBAL_INDEXES) {
    keyNames.add(index.partitionKey);
    keyNames.add(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...keyNames].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: TABLE_KEY.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE_KEY.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: GLOBAL_INDEXES.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: projectionOf(index.projection),
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}

/**
 * Whether the table exists with every index this version of the code needs (ensureTable would do
 * nothing): one DescribeTable, so that the common case needs no lock.
 */
export async function tableIsUpToDate(client: DynamoDBClient, tableName: string): Promise<boolean> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const existing = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
    return GLOBAL_INDEXES.every((index) => existing.has(index.indexName));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/**
 * Creates the table if it does not exist, or adds the indexes a newer version of the code needs to a
 * table an older one created (local use only; in AWS the CDK stack owns the table).
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  let existing: string[];
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    existing = (Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName ?? '');
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
    } catch (creating) {
      // Another command (another home on the same DYNAMODB_ENDPOINT) created it meanwhile: wait for it.
      if (!(creating instanceof ResourceInUseException)) throw creating;
    }
    await waitUntilTableExists(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 },
      { TableName: tableName },
    );
    return;
  }
  const wanted = createTableInput(tableName);
  for (const index of wanted.GlobalSecondaryIndexes ?? []) {
    if (existing.includes(index.IndexName ?? '')) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: wanted.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [{ Create: index }],
      }),
    );
    await waitUntilIndexActive(client, tableName, index.IndexName ?? '');
  }
}

/**
 * Waits for a new index the way the SDK's own waiters wait (waitUntilTableExists is built on the same
 * createWaiter): backoff with jitter, a time limit, the responses seen named when it gives up.
 */
async function waitUntilIndexActive(
  client: DynamoDBClient,
  tableName: string,
  indexName: string,
): Promise<void> {
  const result = await createWaiter(
    { client, minDelay: 0.1, maxDelay: 2, maxWaitTime: 60 },
    { TableName: tableName },
    async (c: DynamoDBClient, input) => {
      const { Table } = await c.send(new DescribeTableCommand(input));
      const index = Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === indexName);
      return {
        state: index?.IndexStatus === 'ACTIVE' ? WaiterState.SUCCESS : WaiterState.RETRY,
        reason: index,
      };
    },
  );
  if (result.state !== WaiterState.SUCCESS) {
    throw new Error(`index ${indexName} of ${tableName} did not become active (${result.state})`);
  }
}
