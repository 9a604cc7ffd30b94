// One way to write "set these fields if this condition holds", and one way to recognise that a
// conditional write lost (someone else wrote first).
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Deps } from '../deps';

export interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** Sets `fields` on the item at `key` if `condition` holds; false when it did not (someone else wrote first). */
export async function setIf(
  deps: Deps,
  key: Record<string, string>,
  fields: object,
  condition: Condition,
): Promise<boolean> {
  const names: Record<string, string> = { ...condition.names };
  const values: Record<string, unknown> = { ...condition.values };
  const clauses = Object.entries(fields).map(([name, value]) => {
    names[`#f_${name}`] = name;
    values[`:f_${name}`] = value;
    return `#f_${name} = :f_${name}`;
  });
  try {
    await deps.db.send(
      new UpdateCommand({
        TableName: deps.tableName,
        Key: key,
        UpdateExpression: `SET ${clauses.join(', ')}`,
        ConditionExpression: condition.expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (isLostRace(error)) return false;
    throw error;
  }
}

/**
 * Someone else wrote first: a failed condition (what we read is out of date), or a conflict with a
 * concurrent transaction on the same items (TransactionConflict; the SDK does not retry it). Either
 * way, reading again and retrying after a backoff settles it.
 */
export function isLostRace(error: unknown): boolean {
  if (error instanceof TransactionCanceledException) {
    return (error.CancellationReasons ?? []).some(
      (reason) => reason.Code === 'ConditionalCheckFailed' || reason.Code === 'TransactionConflict',
    );
  }
  return (
    error instanceof Error &&
    (error.name === 'ConditionalCheckFailedException' || error.name === 'TransactionConflictException')
  );
}

/** The item as it is now, when a write that lost its condition asked for it (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
export function itemAfterLostRace(error: unknown): Record<string, unknown> | undefined {
  return error instanceof ConditionalCheckFailedException && error.Item ? unmarshall(error.Item) : undefined;
}
