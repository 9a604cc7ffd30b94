// The local bootstrap on DynamoDB Local: a table an older version of the code created (without the
// audience and onboarded indexes) gets the indexes added, each with its projection, and is usable
// through them once ensureTable returns.
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createTableInput, ensureTable } from '../../cli/local/table';
import { onboardedPartitions, onboardedQuery, readIndexPage } from '../../shared/store/index-reads';
import { profileItem } from '../../shared/store/merchants';
import { DUE_INDEX } from '../../shared/store/table';
import { useLocalDynamo } from '../support/dynamo';

const db = useLocalDynamo();

describe('ensureTable', () => {
  it('adds the indexes a newer version of the code needs to an older table, and waits until they are active', async () => {
    const older = createTableInput('older-table');
    await db.clients.raw.send(
      new CreateTableCommand({
        ...older,
        AttributeDefinitions: older.AttributeDefinitions?.filter((a) =>
          ['pk', 'sk', 'due_pk', 'due_sk'].includes(a.AttributeName ?? ''),
        ),
        GlobalSecondaryIndexes: older.GlobalSecondaryIndexes?.filter(
          (i) => i.IndexName === DUE_INDEX.indexName,
        ),
      }),
    );
    await ensureTable(db.clients.raw, 'older-table');
    const { Table } = await db.clients.raw.send(new DescribeTableCommand({ TableName: 'older-table' }));
    const indexes = (Table?.GlobalSecondaryIndexes ?? [])
      .map((i) => ({ name: i.IndexName, status: i.IndexStatus, projection: i.Projection }))
      .sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expect(indexes).toEqual([
      { name: 'audience', status: 'ACTIVE', projection: { ProjectionType: 'ALL' } },
      { name: 'due', status: 'ACTIVE', projection: { ProjectionType: 'ALL' } },
      {
        name: 'onboarded',
        status: 'ACTIVE',
        projection: {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: ['merchantId', 'onboardedAt', 'categories', 'liveCartSources', 'version'],
        },
      },
    ]);

    // A profile written now is found through the added index.
    const profile = profileItem({
      merchantId: 'after-upgrade',
      onboardedAt: '2020-07-03',
      onboardedOn: '2020-07-03',
      categories: [],
      liveCartSources: [],
      version: 1,
      recordedAt: '2026-11-25T10:00:00.000+08:00',
      updatedAt: '2026-11-25T10:00:00.000+08:00',
    });
    await db.clients.doc.send(new PutCommand({ TableName: 'older-table', Item: profile }));
    const deps = db.deps({ tableName: 'older-table' });
    const found = [];
    for (const partition of onboardedPartitions()) {
      found.push(
        ...(await readIndexPage(deps, onboardedQuery(partition, { from: '2020-07-03' }), undefined)).items,
      );
    }
    expect(found.map((item) => item.merchantId)).toEqual(['after-upgrade']);

    await ensureTable(db.clients.raw, 'older-table'); // nothing left to add: returns at once
  });
});
