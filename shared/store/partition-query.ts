// Every item of one table partition, page by page, read consistently (a job acts on what it reads).
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';

export async function queryPartition(deps: Deps, pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const pages = paginateQuery(
    { client: deps.db },
    {
      TableName: deps.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items;
}
