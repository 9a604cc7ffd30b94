import { describe, expect, it } from 'vitest';
import { itemsWritten } from '../../cli/demo/stages';

describe("the demo's count of items written", () => {
  it('counts one item for a put, an update or a delete, and none for a read', () => {
    expect(itemsWritten('PutItemCommand', { Item: {} })).toBe(1);
    expect(itemsWritten('UpdateItemCommand', { Key: {} })).toBe(1);
    expect(itemsWritten('DeleteItemCommand', { Key: {} })).toBe(1);
    expect(itemsWritten('GetItemCommand', { Key: {} })).toBe(0);
    expect(itemsWritten('QueryCommand', {})).toBe(0);
    expect(itemsWritten('BatchGetItemCommand', { RequestItems: { t: { Keys: [{}, {}] } } })).toBe(0);
  });

  it("counts a transaction's writes but not its condition checks, and every item of a batch write", () => {
    const transaction = {
      TransactItems: [{ Put: {} }, { Update: {} }, { Delete: {} }, { ConditionCheck: {} }],
    };
    expect(itemsWritten('TransactWriteItemsCommand', transaction)).toBe(3);
    const batch = {
      RequestItems: { a: [{ PutRequest: {} }, { DeleteRequest: {} }], b: [{ PutRequest: {} }] },
    };
    expect(itemsWritten('BatchWriteItemCommand', batch)).toBe(3);
  });
});
