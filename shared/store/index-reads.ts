// Reading the sparse indexes: one page of a query from where the last one stopped, and counting
// what waits in the due index.
import { paginateQuery, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Deps } from '../deps';
import type { NextAction } from '../promotion/lifecycle';
import { addDays, type CalendarDate, type Instant } from '../time';
import {
  AUDIENCE_SHARDS,
  audiencePartition,
  duePartitionsOf,
  ONBOARDED_SHARDS,
  onboardedPartition,
} from './keys';
import { AUDIENCE_INDEX, DUE_INDEX, ONBOARDED_INDEX } from './table';

/** A query on an index, without the table (the deps name it) and without where to start. */
export type IndexQuery = Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;
/** Where a page starts: the key the previous page ended at (LastEvaluatedKey). */
export type PageStart = Record<string, unknown>;

export interface IndexPage {
  items: Record<string, unknown>[];
  /** Where the next page starts; undefined after the last one. */
  next: PageStart | undefined;
}

/** One page (at most `deps.pageSize` items) of the query, from `startKey` or its beginning. */
export async function readIndexPage(
  deps: Deps,
  query: IndexQuery,
  startKey: PageStart | undefined,
): Promise<IndexPage> {
  const page = await deps.db.send(
    new QueryCommand({
      TableName: deps.tableName,
      ...query,
      Limit: deps.pageSize,
      ExclusiveStartKey: startKey,
    }),
  );
  return { items: page.Items ?? [], next: page.LastEvaluatedKey };
}

/** The items of one due index partition (see duePartitionsOf) due at or before `upTo`. */
export function dueQuery(partition: string, upTo: Instant): IndexQuery {
  return {
    IndexName: DUE_INDEX.indexName,
    KeyConditionExpression: '#pk = :pk AND #sk <= :upTo',
    ExpressionAttributeNames: { '#pk': DUE_INDEX.partitionKey, '#sk': DUE_INDEX.sortKey },
    ExpressionAttributeValues: { ':pk': partition, ':upTo': upTo },
  };
}

/** How many promotions wait for one of `actions` with a due instant at or before `upTo`, over every shard. */
export async function countDue(deps: Deps, actions: readonly NextAction[], upTo: Instant): Promise<number> {
  const counts = await Promise.all(
    duePartitionsOf(actions).map(async (partition) => {
      let total = 0;
      const pages = paginateQuery(
        { client: deps.db },
        { TableName: deps.tableName, ...dueQuery(partition, upTo), Select: 'COUNT' },
      );
      for await (const page of pages) total += page.Count ?? 0;
      return total;
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** Every partition of the audience index (merchants with third-party products in live carts). */
export const audiencePartitions = (): string[] =>
  Array.from({ length: AUDIENCE_SHARDS }, (_, shard) => audiencePartition(shard));

/** Every merchant of one audience index partition. */
export function audienceQuery(partition: string, attributes?: readonly string[]): IndexQuery {
  const names: Record<string, string> = { '#pk': AUDIENCE_INDEX.partitionKey };
  for (const name of attributes ?? []) names[`#a_${name}`] = name;
  return {
    IndexName: AUDIENCE_INDEX.indexName,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: { ':pk': partition },
    ...(attributes ? { ProjectionExpression: attributes.map((name) => `#a_${name}`).join(', ') } : {}),
  };
}

/** Every partition of the onboarded index (every recorded merchant, by onboarding date). */
export const onboardedPartitions = (): string[] =>
  Array.from({ length: ONBOARDED_SHARDS }, (_, shard) => onboardedPartition(shard));

/** Onboarding dates from `from` (inclusive) until `until` (exclusive), or with no end. */
export interface OnboardedRange {
  from: CalendarDate;
  until?: CalendarDate;
}

/**
 * The merchants of one onboarded index partition onboarded within `range`. `until` is exclusive, as
 * a program's eligibility is: the key condition is BETWEEN `from` and the day before `until`. An empty
 * range is a caller's mistake (DynamoDB would reject the reversed bounds), so it throws.
 */
export function onboardedQuery(partition: string, range: OnboardedRange): IndexQuery {
  const names = { '#pk': ONBOARDED_INDEX.partitionKey, '#on': ONBOARDED_INDEX.sortKey };
  if (range.until === undefined) {
    return {
      IndexName: ONBOARDED_INDEX.indexName,
      KeyConditionExpression: '#pk = :pk AND #on >= :from',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':pk': partition, ':from': range.from },
    };
  }
  if (range.until <= range.from) {
    throw new RangeError(`onboarded range is empty: until ${range.until} is not after from ${range.from}`);
  }
  return {
    IndexName: ONBOARDED_INDEX.indexName,
    KeyConditionExpression: '#pk = :pk AND #on BETWEEN :from AND :lastDay',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: {
      ':pk': partition,
      ':from': range.from,
      ':lastDay': addDays(range.until, -1),
    },
  };
}
