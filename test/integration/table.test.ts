// The local bootstrap on DynamoDB Local: a table an older version of the code created (without the
// audience index) gets the index added, and is usable through it once ensureTable returns.
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { createTableInput, ensureTable } from '../../cli/local/table';
import { AUDIENCE_INDEX, DUE_INDEX } from '../../shared/store/table';
import { useLocalDynamo } from '../support/dynamo';

const db = useLocalDynamo();

describe('ensureTable', () => {
  it('adds the indexes a newer version of the code needs to an older table, and waits until they are active', async () => {
    const older = createTableInput('older-table');
    await db.clients.raw.send(
      new CreateTableCommand({
        ...older,
        AttributeDefinitions: older.AttributeDefinitions?.filter((a) => !a.AttributeName?.startsWith('aud_')),
        GlobalSecondaryIndexes: older.GlobalSecondaryIndexes?.filter(
          (i) => i.IndexName === DUE_INDEX.indexName,
        ),
      }),
    );
    await ensureTable(db.clients.raw, 'older-table');
    const { Table } = await db.clients.raw.send(new DescribeTableCommand({ TableName: 'older-table' }));
    expect((Table?.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i.IndexStatus]).sort()).toEqual([
      [AUDIENCE_INDEX.indexName, 'ACTIVE'],
      [DUE_INDEX.indexName, 'ACTIVE'],
    ]);
    await ensureTable(db.clients.raw, 'older-table'); // nothing left to add: returns at once
  });
});
