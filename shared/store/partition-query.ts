// Every item of one table partition, page by page, read consistently (a job acts on what it reads).
import { paginateQuery } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';

/** The partition's items, or only those whose sort key starts with `skPrefix`. */
export async function queryPartition(
  deps: Deps,
  pk: string,
  skPrefix?: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const pages = paginateQuery(
    { client: deps.db },
    {
      TableName: deps.tableName,
      KeyConditionExpression: skPrefix === undefined ? 'pk = :pk' : 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': pk, ...(skPrefix === undefined ? {} : { ':prefix': skPrefix }) },
      ConsistentRead: true,
    },
  );
  for await (const page of pages) items.push(...(page.Items ?? []));
  return items;
}
